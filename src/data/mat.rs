//! MATLAB v5 `.mat` files with variables `X` (features) and `Y` (labels), as the reference
//! datasets shipped in `data/` (spec §7).
//!
//! Orientation is detected from the label count: `X` is samples x features if its row count
//! equals the number of labels, features x samples (att40) if only its column count does.

use std::path::Path;

use matfile::{MatFile, NumericData};

use super::LabeledData;
use super::idx::exact_integer;
use super::input::over_budget;
use super::mat_scan::{Stop, inflate_checked};
use crate::error::{NgmnnError, Result};

/// Load a `.mat` file (within the machine's available memory).
///
/// # Errors
/// [`NgmnnError::Io`] if unreadable, [`NgmnnError::Parse`] if it is not a MATLAB v5 file with
/// real numeric `X` and `Y` whose sizes agree, [`NgmnnError::InvalidData`] for NaN/inf
/// features or labels that are not integers, [`NgmnnError::OutOfMemory`] when the file, or
/// its variables decompressed (all of them, used or not), would pass the budget.
pub fn load_mat(path: &Path) -> Result<LabeledData> {
    load_mat_within(path, crate::memory::input_budget(None))
}

/// [`load_mat`] within `limit` bytes: the file read whole, and its variables decompressed.
pub(crate) fn load_mat_within(path: &Path, limit: u64) -> Result<LabeledData> {
    let len = std::fs::metadata(path)
        .map_err(|e| NgmnnError::io(path, e))?
        .len();
    if len > limit {
        return Err(over_budget(
            format!("reading {}", path.display()),
            len,
            limit,
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| NgmnnError::io(path, e))?;
    parse_mat_within(&bytes, path, limit)
}

/// Parse the bytes of a `.mat` file (`path` only names it in errors and the dataset).
///
/// # Errors
/// As [`load_mat`].
pub fn parse_mat(bytes: &[u8], path: &Path) -> Result<LabeledData> {
    parse_mat_within(bytes, path, crate::memory::input_budget(None))
}

/// [`parse_mat`] within `limit` bytes: `bytes` and the variables decompressed.
///
/// # Errors
/// As [`load_mat`].
pub fn parse_mat_within(bytes: &[u8], path: &Path, limit: u64) -> Result<LabeledData> {
    let perr = |reason: String| NgmnnError::Parse {
        path: path.to_owned(),
        format: "MATLAB v5 .mat",
        reason,
    };
    // Our own walk of the element structure first: `matfile` panics or allocates without
    // bound on some malformed inputs (`mat_scan`); it counts every variable's decompressed
    // size against the budget and keeps only `X` and `Y`.
    let held = bytes.len() as u64;
    let plain = inflate_checked(bytes, limit.saturating_sub(held), &["X", "Y"]).map_err(
        |stop| match stop {
            Stop::Malformed(reason) => perr(reason),
            Stop::Budget { needed, variables } => over_budget(
                format!(
                    "{} and its {variables} variable(s) decompressed (used or not)",
                    path.display()
                ),
                needed + held,
                limit,
            ),
        },
    )?;
    // A last line of defence for a panic the walk does not foresee.
    let parsed = std::panic::catch_unwind(|| MatFile::parse(plain.as_slice()))
        .map_err(|_| perr("malformed file".into()))?
        .map_err(|e| perr(e.to_string()))?;
    drop(plain);
    let get = |name: &str| {
        let Some(arr) = parsed.find_by_name(name) else {
            return Err(perr(format!(
                "no variable `{name}` (found: {})",
                names(&parsed)
            )));
        };
        match arr.size()[..] {
            [rows, cols] => Ok(([rows, cols], arr.data())),
            _ => Err(perr(format!(
                "`{name}` has {} dimensions, expected 2",
                arr.size().len()
            ))),
        }
    };
    let (xs, xd) = get("X")?;
    let (ys, yd) = get("Y")?;
    let xv = real_f32(xd).ok_or_else(|| perr("`X` is not real numeric".into()))?;
    let name = path
        .file_stem()
        .map_or_else(|| "mat".into(), |s| s.to_string_lossy().into_owned());
    let yv = integer_labels(yd)
        .ok_or_else(|| perr("`Y` is not real numeric".into()))?
        .map_err(|(i, v)| {
            NgmnnError::data(
                Some(&name),
                format!("label {v} of sample {i} is not an integer"),
            )
        })?;
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
                x[i * cols + j] = xv[i + j * rows];
            }
        }
        (cols, x)
    } else if cols == n {
        // features x samples: column j is sample j, already contiguous.
        (rows, xv)
    } else {
        return Err(perr(format!(
            "`X` is {rows}x{cols} but `Y` has {n} labels: neither dimension matches"
        )));
    };
    LabeledData::from_integer_labels(name, x, &yv, d)
}

fn names(m: &MatFile) -> String {
    m.arrays()
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Real values as f32 (`None` for complex data).
fn real_f32(data: &NumericData) -> Option<Vec<f32>> {
    macro_rules! conv {
        ($real:expr, $imag:expr) => {
            if $imag.is_some() {
                None
            } else {
                Some($real.iter().map(|&v| v as f32).collect())
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

/// Labels as i64, or the first bad label's index and value.
type Labels = std::result::Result<Vec<i64>, (usize, String)>;

/// Labels exactly as i64: integer classes as they are, floats when integral and in range
/// (`None` for complex data).
fn integer_labels(data: &NumericData) -> Option<Labels> {
    fn ints<T: Copy + std::fmt::Display + TryInto<i64>>(v: &[T]) -> Labels {
        v.iter()
            .enumerate()
            .map(|(i, &x)| x.try_into().map_err(|_| (i, x.to_string())))
            .collect()
    }
    fn floats(v: impl Iterator<Item = f64>) -> Labels {
        v.enumerate()
            .map(|(i, x)| exact_integer(x).ok_or((i, format!("{x:?}"))))
            .collect()
    }
    Some(match data {
        NumericData::Int8 { real, imag: None } => ints(real),
        NumericData::UInt8 { real, imag: None } => ints(real),
        NumericData::Int16 { real, imag: None } => ints(real),
        NumericData::UInt16 { real, imag: None } => ints(real),
        NumericData::Int32 { real, imag: None } => ints(real),
        NumericData::UInt32 { real, imag: None } => ints(real),
        NumericData::Int64 { real, imag: None } => ints(real),
        NumericData::UInt64 { real, imag: None } => ints(real),
        NumericData::Single { real, imag: None } => floats(real.iter().map(|&v| f64::from(v))),
        NumericData::Double { real, imag: None } => floats(real.iter().copied()),
        _ => return None,
    })
}
