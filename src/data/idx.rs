//! MNIST-style IDX files (optionally gzip-compressed): an images file (`[n, rows, cols]` or
//! `[n, d]`) and its labels file (`[n]`).
//!
//! The labels file of `xxx-images-idx3-ubyte[.gz]` is `xxx-labels-idx1-ubyte[.gz]`; a directory
//! holding the four standard MNIST files loads as a train set and a test (t10k) set. Pixel
//! values are kept as stored (0-255), as the .mat loader keeps umist's.

use std::path::{Path, PathBuf};

use super::LabeledData;
use super::input::{Input, over_budget, read_all, read_up_to};
use crate::error::{NgmnnError, Result};
use crate::memory::input_budget;

/// A decoded IDX array: its dimensions and values.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxArray {
    /// Dimensions from the header.
    pub dims: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
}

/// Parse IDX bytes (within the machine's available memory).
///
/// # Errors
/// [`NgmnnError::Parse`] for a wrong magic, an unknown element type, zero dimensions, or a
/// payload whose size disagrees with the header (checked before anything is allocated);
/// [`NgmnnError::OutOfMemory`] for an array larger than the available memory.
pub fn parse_idx(bytes: &[u8], path: &Path) -> Result<IdxArray> {
    parse_idx_within(bytes, path, input_budget(None))
}

/// [`parse_idx`] within `limit` bytes of decoded values.
///
/// # Errors
/// As [`parse_idx`].
pub fn parse_idx_within(bytes: &[u8], path: &Path, limit: u64) -> Result<IdxArray> {
    read_idx(Input::from_bytes(bytes, limit), path)
}

/// Values read and decoded per step of [`read_idx`].
const CHUNK: usize = 1 << 16;

/// Read an IDX array from a decoded stream, within its budget: the header first, then the
/// values a chunk at a time (the payload is never held whole beside them).
///
/// # Errors
/// As [`parse_idx`].
pub(crate) fn read_idx(input: Input<'_>, path: &Path) -> Result<IdxArray> {
    let Input {
        mut reader,
        progress,
    } = input;
    let read = |reader: &mut dyn std::io::Read, buf: &mut [u8]| {
        read_up_to(reader, buf).map_err(|e| progress.read_error(&e, path))
    };
    let mut head = vec![0u8; 4];
    let mut got = read(&mut reader, &mut head)?;
    if got == 4 {
        head.resize(4 + 4 * usize::from(head[3]), 0);
        got += read(&mut reader, &mut head[4..])?;
    }
    let (ty, dims, header) = parse_idx_header(&head[..got], path)?;
    let width = element_width(ty);
    let shown = show_dims(&dims);
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|c| c.checked_mul(width).is_some())
        .ok_or_else(|| idx_error(path, format!("dimensions {shown} overflow")))?;
    let bytes = count * width;
    let holds = |held: String| {
        idx_error(
            path,
            format!(
                "header says {shown} ({count} values of {width} bytes) but the file holds \
                 {held} bytes of data"
            ),
        )
    };
    if let Some(len) = progress.plain_len() {
        let payload = len.saturating_sub(header as u64);
        if payload != bytes as u64 {
            return Err(holds(payload.to_string()));
        }
    }
    let needed = (count as u64).saturating_mul(4);
    if needed > progress.limit {
        let what = format!(
            "the IDX array {} of {shown} ({count} values)",
            path.display()
        );
        return Err(over_budget(what, needed, progress.limit));
    }
    let mut data = Vec::with_capacity(count);
    let mut buf = vec![0u8; CHUNK * width];
    let mut done = 0;
    while done < bytes {
        let want = (bytes - done).min(buf.len());
        let k = read(&mut reader, &mut buf[..want])?;
        decode_into(ty, &buf[..k - k % width], &mut data);
        done += k;
        if k < want {
            return Err(holds(done.to_string()));
        }
    }
    if read(&mut reader, &mut [0u8; 1])? > 0 {
        return Err(holds(format!("more than {bytes}")));
    }
    Ok(IdxArray { dims, data })
}

/// Dimensions for messages: all of them up to four, else the first three and the count.
pub(crate) fn show_dims(dims: &[usize]) -> String {
    match dims {
        [a, b, c, _, _, ..] => format!("[{a}, {b}, {c}, ... ({} dimensions)]", dims.len()),
        _ => format!("{dims:?}"),
    }
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
    let mut out = Vec::with_capacity(payload.len() / element_width(ty));
    decode_into(ty, payload, &mut out);
    out
}

/// Decode big-endian IDX elements of type `ty` to f32, appending them to `out`.
fn decode_into(ty: u8, payload: &[u8], out: &mut Vec<f32>) {
    let be = |c: &[u8]| -> [u8; 8] {
        let mut a = [0; 8];
        a[..c.len()].copy_from_slice(c);
        a
    };
    let w = element_width(ty);
    out.extend(payload.chunks_exact(w).map(|c| {
        let a = be(c);
        match ty {
            0x08 => f32::from(a[0]),
            0x09 => f32::from(a[0] as i8),
            0x0B => f32::from(i16::from_be_bytes([a[0], a[1]])),
            0x0C => i32::from_be_bytes([a[0], a[1], a[2], a[3]]) as f32,
            0x0D => f32::from_be_bytes([a[0], a[1], a[2], a[3]]),
            _ => f64::from_be_bytes(a) as f32,
        }
    }));
}

/// Decode big-endian IDX labels of type `ty` exactly: integer types as they are, float types
/// when the value is an integer an i64 holds; else the first bad label's index and value.
fn decode_labels(ty: u8, payload: &[u8]) -> std::result::Result<Vec<i64>, (usize, String)> {
    let w = element_width(ty);
    payload
        .chunks_exact(w)
        .enumerate()
        .map(|(i, c)| {
            let mut a = [0u8; 8];
            a[..w].copy_from_slice(c);
            let float = match ty {
                0x08 => return Ok(i64::from(a[0])),
                0x09 => return Ok(i64::from(a[0] as i8)),
                0x0B => return Ok(i64::from(i16::from_be_bytes([a[0], a[1]]))),
                0x0C => return Ok(i64::from(i32::from_be_bytes([a[0], a[1], a[2], a[3]]))),
                0x0D => f64::from(f32::from_be_bytes([a[0], a[1], a[2], a[3]])),
                _ => f64::from_be_bytes(a),
            };
            exact_integer(float).ok_or((i, format!("{float:?}")))
        })
        .collect()
}

/// `v` as an i64 when it is an integer in i64's range (no NaN, fraction or saturation).
pub(crate) fn exact_integer(v: f64) -> Option<i64> {
    // 2^63 is exact in f64; every integral f64 in [-2^63, 2^63) is exact in i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (v.fract() == 0.0 && (-LIMIT..LIMIT).contains(&v)).then_some(v as i64)
}

/// Read a labels file (`[n]`, any element type) within `limit` bytes: its dimensions and
/// labels, exact.
///
/// # Errors
/// As [`parse_idx`]; [`NgmnnError::InvalidData`] naming the first label that is not an
/// integer (NaN, 0.5, 1e300).
pub(crate) fn read_labels(path: &Path, limit: u64) -> Result<(Vec<usize>, Vec<i64>)> {
    let bytes = read_all(path, limit)?;
    let (ty, dims, header) = parse_idx_header(&bytes, path)?;
    let width = element_width(ty);
    let payload = &bytes[header..];
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&c| c.checked_mul(width) == Some(payload.len()))
        .ok_or_else(|| {
            idx_error(
                path,
                format!(
                    "header says {} but the file holds {} bytes of data",
                    show_dims(&dims),
                    payload.len()
                ),
            )
        })?;
    let labels = decode_labels(ty, payload).map_err(|(i, v)| {
        NgmnnError::data(
            Some(&path.display().to_string()),
            format!("label {v} of sample {i} is not an integer class"),
        )
    })?;
    debug_assert_eq!(labels.len(), count);
    Ok((dims, labels))
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
    load_idx_within(images, input_budget(None))
}

/// [`load_idx`] within `limit` bytes (decompressed labels, decoded images).
pub(crate) fn load_idx_within(images: &Path, limit: u64) -> Result<LabeledData> {
    load_idx_pair(images, &labels_file(images)?, limit)
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

/// Load an explicit images/labels pair within `limit` bytes: the labels first (exact
/// integers), then the images decoded as they are read.
///
/// # Errors
/// As [`load_idx`].
fn load_idx_pair(images: &Path, labels: &Path, limit: u64) -> Result<LabeledData> {
    let (lab_dims, labels) = read_labels(labels, limit)?;
    let held = 16 * labels.len() as u64;
    let img = read_idx(Input::open(images, limit.saturating_sub(held))?, images)?;
    let n = img.dims[0];
    if lab_dims.len() != 1 || lab_dims[0] != n {
        return Err(NgmnnError::data(
            Some(&images.display().to_string()),
            format!(
                "{n} images but labels file has dimensions {}",
                show_dims(&lab_dims)
            ),
        ));
    }
    let d: usize = img.dims[1..].iter().product();
    let name = images
        .file_name()
        .map_or_else(|| "idx".into(), |s| s.to_string_lossy().into_owned());
    let data = LabeledData::from_integer_labels(name, img.data, &labels, d.max(1))?;
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
    load_idx_dir_within(dir, input_budget(None))
}

/// [`load_idx_dir`] within `limit` bytes for the two sets together.
pub(crate) fn load_idx_dir_within(
    dir: &Path,
    limit: u64,
) -> Result<(LabeledData, Option<LabeledData>)> {
    let (train, test) = mnist_paths(dir)?;
    let train = load_idx_within(&train, limit)?;
    let held = 4 * train.features().len() as u64 + 8 * train.n() as u64;
    let test = match test {
        Some(p) => Some(load_idx_within(&p, limit.saturating_sub(held))?),
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
