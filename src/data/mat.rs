//! MATLAB v5 `.mat` files with variables `X` (features) and `Y` (labels), as the reference
//! datasets shipped in `data/` (spec §7).
//!
//! Orientation is detected from the label count: `X` is samples x features if its row count
//! equals the number of labels, features x samples (att40) if only its column count does.

use std::path::Path;

use matfile::{MatFile, NumericData};

use super::LabeledData;
use crate::error::{NgmnnError, Result};

/// Load a `.mat` file.
///
/// # Errors
/// [`NgmnnError::Io`] if unreadable, [`NgmnnError::Parse`] if it is not a MATLAB v5 file with
/// real numeric `X` and `Y` whose sizes agree, [`NgmnnError::InvalidData`] for NaN/inf
/// features or non-integer labels.
pub fn load_mat(path: &Path) -> Result<LabeledData> {
    let bytes = std::fs::read(path).map_err(|e| NgmnnError::io(path, e))?;
    parse_mat(&bytes, path)
}

/// Parse the bytes of a `.mat` file (`path` only names it in errors and the dataset).
///
/// # Errors
/// As [`load_mat`].
pub fn parse_mat(bytes: &[u8], path: &Path) -> Result<LabeledData> {
    let perr = |reason: String| NgmnnError::Parse {
        path: path.to_owned(),
        format: "MATLAB v5 .mat",
        reason,
    };
    // Our own walk of the element structure first: `matfile` panics or allocates without
    // bound on some malformed inputs (`mat_scan`). An inflated element may take at most the
    // memory available.
    let limit = crate::memory::available_bytes().unwrap_or(u64::MAX);
    let plain = super::mat_scan::inflate_checked(bytes, limit).map_err(perr)?;
    // A last line of defence for a panic the walk does not foresee.
    let parsed = std::panic::catch_unwind(|| MatFile::parse(plain.as_slice()))
        .map_err(|_| perr("malformed file".into()))?
        .map_err(|e| perr(e.to_string()))?;
    let get = |name: &str| -> Result<(Vec<usize>, Vec<f64>)> {
        let arr = parsed
            .find_by_name(name)
            .ok_or_else(|| perr(format!("no variable `{name}` (found: {})", names(&parsed))))?;
        let size = arr.size().clone();
        if size.len() != 2 {
            return Err(perr(format!(
                "`{name}` has {} dimensions, expected 2",
                size.len()
            )));
        }
        Ok((
            size,
            real_f64(arr.data()).ok_or_else(|| perr(format!("`{name}` is not real numeric")))?,
        ))
    };
    let (xs, xv) = get("X")?;
    let (ys, yv) = get("Y")?;
    if ys[0] != 1 && ys[1] != 1 {
        return Err(perr(format!(
            "`Y` is {}x{}, expected a vector",
            ys[0], ys[1]
        )));
    }
    let n = yv.len();
    let (rows, cols) = (xs[0], xs[1]);
    if xv.len() != rows * cols {
        return Err(perr("`X` data length disagrees with its size".into()));
    }
    // MATLAB stores column-major: element (i, j) is at i + j * rows.
    let (d, x): (usize, Vec<f32>) = if rows == n {
        let mut x = vec![0.0f32; n * cols];
        for j in 0..cols {
            for i in 0..rows {
                x[i * cols + j] = xv[i + j * rows] as f32;
            }
        }
        (cols, x)
    } else if cols == n {
        // features x samples: column j is sample j, already contiguous.
        (rows, xv.iter().map(|&v| v as f32).collect())
    } else {
        return Err(perr(format!(
            "`X` is {rows}x{cols} but `Y` has {n} labels: neither dimension matches"
        )));
    };
    let name = path
        .file_stem()
        .map_or_else(|| "mat".into(), |s| s.to_string_lossy().into_owned());
    let labels = yv
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v.is_finite() && v.fract() == 0.0 {
                Ok(format!("{}", v as i64))
            } else {
                Err(NgmnnError::data(
                    Some(&name),
                    format!("label {v} of sample {i} is not an integer"),
                ))
            }
        })
        .collect::<Result<Vec<_>>>()?;
    LabeledData::from_labels(name, x, &labels, d)
}

fn names(m: &MatFile) -> String {
    m.arrays()
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn real_f64(data: &NumericData) -> Option<Vec<f64>> {
    macro_rules! conv {
        ($real:expr, $imag:expr) => {
            if $imag.is_some() {
                None
            } else {
                Some($real.iter().map(|&v| v as f64).collect())
            }
        };
    }
    match data {
        NumericData::Int8 { real, imag } => conv!(real, imag),
        NumericData::UInt8 { real, imag } => conv!(real, imag),
        NumericData::Int16 { real, imag } => conv!(real, imag),
        NumericData::UInt16 { real, imag } => conv!(real, imag),
        NumericData::Int32 { real, imag } => conv!(real, imag),
        NumericData::UInt32 { real, imag } => conv!(real, imag),
        NumericData::Int64 { real, imag } => conv!(real, imag),
        NumericData::UInt64 { real, imag } => conv!(real, imag),
        NumericData::Single { real, imag } => conv!(real, imag),
        NumericData::Double { real, imag } => conv!(real, imag),
    }
}
