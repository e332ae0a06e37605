//! MNIST-style IDX files (optionally gzip-compressed): an images file (`[n, rows, cols]` or
//! `[n, d]`) and its labels file (`[n]`).
//!
//! The labels file of `xxx-images-idx3-ubyte[.gz]` is `xxx-labels-idx1-ubyte[.gz]`; a directory
//! holding the four standard MNIST files loads as a train set and a test (t10k) set. Pixel
//! values are kept as stored (0-255), as the .mat loader keeps umist's.

use std::path::{Path, PathBuf};

use super::LabeledData;
use super::load::read_maybe_gz;
use crate::error::{NgmnnError, Result};

/// A decoded IDX array: its dimensions and values.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxArray {
    /// Dimensions from the header.
    pub dims: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
}

/// Parse IDX bytes.
///
/// # Errors
/// [`NgmnnError::Parse`] for a wrong magic, an unknown element type, zero dimensions, or a
/// payload whose size disagrees with the header (checked before anything is allocated).
pub fn parse_idx(bytes: &[u8], path: &Path) -> Result<IdxArray> {
    let (ty, dims, header) = parse_idx_header(bytes, path)?;
    let width = element_width(ty);
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| idx_error(path, format!("dimensions {dims:?} overflow")))?;
    let payload = &bytes[header..];
    if count.checked_mul(width) != Some(payload.len()) {
        return Err(idx_error(
            path,
            format!(
                "header says {dims:?} ({count} values of {width} bytes) but the file holds {} bytes of data",
                payload.len()
            ),
        ));
    }
    Ok(IdxArray {
        dims,
        data: decode_idx(ty, payload),
    })
}

fn idx_error(path: &Path, reason: String) -> NgmnnError {
    NgmnnError::Parse {
        path: path.to_owned(),
        format: "IDX",
        reason,
    }
}

/// Bytes per element of IDX element type `ty` (a type [`parse_idx_header`] accepted).
pub(crate) fn element_width(ty: u8) -> usize {
    match ty {
        0x08 | 0x09 => 1,
        0x0B => 2,
        0x0C | 0x0D => 4,
        _ => 8,
    }
}

/// Parse an IDX header from the start of `bytes`: element type, dimensions, header length.
///
/// # Errors
/// [`NgmnnError::Parse`] for a wrong magic, an unknown element type, zero dimensions or a
/// truncated header.
pub(crate) fn parse_idx_header(bytes: &[u8], path: &Path) -> Result<(u8, Vec<usize>, usize)> {
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(idx_error(
            path,
            "bad magic number (expected 0x0000TTNN)".into(),
        ));
    }
    let (ty, ndims) = (bytes[2], bytes[3] as usize);
    if !matches!(ty, 0x08 | 0x09 | 0x0B | 0x0C | 0x0D | 0x0E) {
        return Err(idx_error(path, format!("unknown element type 0x{ty:02X}")));
    }
    if ndims == 0 {
        return Err(idx_error(path, "zero dimensions".into()));
    }
    let header = 4 + 4 * ndims;
    if bytes.len() < header {
        return Err(idx_error(path, "truncated header".into()));
    }
    let dims = bytes[4..header]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    Ok((ty, dims, header))
}

/// Decode big-endian IDX elements of type `ty` to f32.
pub(crate) fn decode_idx(ty: u8, payload: &[u8]) -> Vec<f32> {
    match ty {
        0x08 => payload.iter().map(|&b| b as f32).collect(),
        0x09 => payload.iter().map(|&b| b as i8 as f32).collect(),
        0x0B => payload
            .chunks_exact(2)
            .map(|c| i16::from_be_bytes([c[0], c[1]]) as f32)
            .collect(),
        0x0C => payload
            .chunks_exact(4)
            .map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]]) as f32)
            .collect(),
        0x0D => payload
            .chunks_exact(4)
            .map(|c| f32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        _ => payload
            .chunks_exact(8)
            .map(|c| f64::from_be_bytes(c.try_into().expect("8 bytes")) as f32)
            .collect(),
    }
}

/// The labels file that belongs to an images file (`images` -> `labels`, `idx3` -> `idx1`).
pub fn labels_path_for(images: &Path) -> Option<PathBuf> {
    let name = images.file_name()?.to_str()?;
    if !name.contains("images") {
        return None;
    }
    let label_name = name.replace("images", "labels").replace("idx3", "idx1");
    Some(images.with_file_name(label_name))
}

/// Load an images file and its labels file (found by the standard naming).
///
/// # Errors
/// [`NgmnnError::UnsupportedFormat`] if no labels file can be found; the errors of
/// [`parse_idx`]; [`NgmnnError::InvalidData`] if the counts disagree.
pub fn load_idx(images: &Path) -> Result<LabeledData> {
    load_idx_pair(images, &labels_file(images)?)
}

/// The existing labels file of an images file ([`labels_path_for`]).
///
/// # Errors
/// [`NgmnnError::UnsupportedFormat`] if there is none.
pub(crate) fn labels_file(images: &Path) -> Result<PathBuf> {
    labels_path_for(images)
        .filter(|p| p.exists())
        .ok_or_else(|| NgmnnError::UnsupportedFormat {
            path: images.to_owned(),
            reason: "IDX images need a labels file named like it with `images` -> `labels` and \
                     `idx3` -> `idx1` (e.g. train-labels-idx1-ubyte.gz)"
                .into(),
        })
}

/// Load an explicit images/labels pair.
///
/// # Errors
/// As [`load_idx`].
pub fn load_idx_pair(images: &Path, labels: &Path) -> Result<LabeledData> {
    let img = parse_idx(&read_maybe_gz(images)?, images)?;
    let lab = parse_idx(&read_maybe_gz(labels)?, labels)?;
    let n = img.dims[0];
    if lab.dims.len() != 1 || lab.dims[0] != n {
        return Err(NgmnnError::data(
            Some(&images.display().to_string()),
            format!("{n} images but labels file has dimensions {:?}", lab.dims),
        ));
    }
    let d: usize = img.dims[1..].iter().product();
    let names: Vec<String> = lab.data.iter().map(|&v| format!("{}", v as i64)).collect();
    let name = images
        .file_name()
        .map_or_else(|| "idx".into(), |s| s.to_string_lossy().into_owned());
    let data = LabeledData::from_labels(name, img.data, &names, d.max(1))?;
    match img.dims[..] {
        [_, h, w] if h > 0 && w > 0 => data.with_image_shape(h, w),
        _ => Ok(data),
    }
}

/// Load a directory with the four standard MNIST files (gzipped or not): `(train, test)`.
///
/// # Errors
/// [`NgmnnError::UnsupportedFormat`] if the train pair is missing; the errors of [`load_idx`].
pub fn load_idx_dir(dir: &Path) -> Result<(LabeledData, Option<LabeledData>)> {
    let (train, test) = mnist_paths(dir)?;
    let train = load_idx(&train)?;
    let test = match test {
        Some(p) => Some(load_idx(&p)?),
        None => None,
    };
    Ok((train, test))
}

/// The train images file of a directory of MNIST files and its t10k images file, if present.
///
/// # Errors
/// [`NgmnnError::UnsupportedFormat`] if the train images are missing.
pub(crate) fn mnist_paths(dir: &Path) -> Result<(PathBuf, Option<PathBuf>)> {
    let find = |stem: &str| -> Option<PathBuf> {
        // Both spellings occur: `train-images-idx3-ubyte` (LeCun) and `train-images.idx3-ubyte`.
        let dotted = stem.replacen("-idx", ".idx", 1);
        [stem.to_owned(), dotted]
            .into_iter()
            .flat_map(|s| [format!("{s}.gz"), s])
            .map(|n| dir.join(n))
            .find(|p| p.exists())
    };
    let train = find("train-images-idx3-ubyte").ok_or_else(|| NgmnnError::UnsupportedFormat {
        path: dir.to_owned(),
        reason: "directory holds no train-images-idx3-ubyte[.gz]".into(),
    })?;
    Ok((train, find("t10k-images-idx3-ubyte")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(ty: u8, dims: &[u32], payload: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0, ty, dims.len() as u8];
        for d in dims {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b.extend_from_slice(payload);
        b
    }

    #[test]
    fn idx_parses_u8_images() {
        let a = parse_idx(&idx(0x08, &[2, 1, 2], &[1, 2, 3, 4]), Path::new("t")).unwrap();
        assert_eq!(a.dims, vec![2, 1, 2]);
        assert_eq!(a.data, vec![1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn idx_rejects_lying_header_and_bad_magic() {
        let lying = idx(0x08, &[u32::MAX, u32::MAX, 4], &[1, 2]);
        assert!(matches!(
            parse_idx(&lying, Path::new("t")),
            Err(NgmnnError::Parse { .. })
        ));
        let short = idx(0x08, &[3], &[1, 2]);
        assert!(matches!(
            parse_idx(&short, Path::new("t")),
            Err(NgmnnError::Parse { .. })
        ));
        assert!(parse_idx(&[1, 2, 8, 1], Path::new("t")).is_err());
    }

    #[test]
    fn labels_path_follows_mnist_naming() {
        let p = labels_path_for(Path::new("/d/train-images-idx3-ubyte.gz")).unwrap();
        assert_eq!(p, Path::new("/d/train-labels-idx1-ubyte.gz"));
    }
}
