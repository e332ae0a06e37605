//! A guard in front of the `matfile` parser: walk the MATLAB v5 element structure ourselves,
//! reject what that parser would panic or abort on, and hand it an uncompressed copy.
//!
//! `matfile` 0.5 multiplies an array's declared dimensions in `i32` (an overflow panics in
//! debug builds and wraps in release), rounds element sizes up to 8 bytes in `u32` (overflows
//! near `u32::MAX`), inflates compressed elements without a size limit (a small file can ask
//! for any amount of memory), and prints to stdout/stderr on unsupported or corrupt elements.
//! [`inflate_checked`] checks each top-level element (type, size, and for an array its flags
//! and dimensions: non-negative, product within `i32`) and inflates `miCOMPRESSED` elements
//! with a bound, so the parser only ever sees well-formed uncompressed arrays.

use std::io::Read;

use flate2::read::ZlibDecoder;

/// Bytes of the file header (text, subsystem offset, version, endian indicator).
const HEADER: usize = 128;
/// `miINT32`, the type of the dimensions sub-element.
const MI_INT32: u32 = 5;
/// `miUINT32`, the type of the array-flags sub-element.
const MI_UINT32: u32 = 6;
/// `miMATRIX`: an array.
const MI_MATRIX: u32 = 14;
/// `miCOMPRESSED`: a zlib stream holding one element.
const MI_COMPRESSED: u32 = 15;

/// The byte order the header declares.
#[derive(Clone, Copy)]
struct Order {
    little: bool,
}

impl Order {
    fn u32(self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if self.little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    }
}

/// An element tag: its type, the offset of its data and its data's length.
struct Tag {
    ty: u32,
    start: usize,
    len: usize,
}

/// Read the tag at `pos` of `b` (long or small format) and check that its data lies in `b`.
fn tag(b: &[u8], pos: usize, order: Order) -> Result<Tag, String> {
    let head = b
        .get(pos..pos + 4)
        .ok_or_else(|| format!("truncated element tag at byte {pos}"))?;
    let first = order.u32(head);
    let (ty, start, len) = if first >> 16 != 0 {
        // Small data element: type and size in one word, at most 4 bytes of data.
        (first & 0xFFFF, pos + 4, (first >> 16) as usize)
    } else {
        let size = b
            .get(pos + 4..pos + 8)
            .ok_or_else(|| format!("truncated element tag at byte {pos}"))?;
        (first, pos + 8, order.u32(size) as usize)
    };
    if len > u32::MAX as usize - 8 || start + len > b.len() {
        return Err(format!(
            "element at byte {pos} declares {len} bytes, more than the file holds"
        ));
    }
    Ok(Tag { ty, start, len })
}

/// Check an array's flags and dimensions (the first two sub-elements of its data `b`).
fn check_array(b: &[u8], order: Order, at: usize) -> Result<(), String> {
    let flags = tag(b, 0, order).map_err(|e| format!("array at byte {at}: {e}"))?;
    if flags.ty != MI_UINT32 || flags.len != 8 {
        return Err(format!("array at byte {at}: malformed array flags"));
    }
    let dims = tag(b, flags.start + 8, order).map_err(|e| format!("array at byte {at}: {e}"))?;
    if dims.ty != MI_INT32 || dims.len < 8 || dims.len % 4 != 0 {
        return Err(format!("array at byte {at}: malformed dimensions"));
    }
    let mut product: i64 = 1;
    for k in 0..dims.len / 4 {
        let v = order.u32(&b[dims.start + 4 * k..]) as i32;
        if v < 0 {
            return Err(format!("array at byte {at}: negative dimension {v}"));
        }
        product = product.saturating_mul(i64::from(v));
    }
    if product > i64::from(i32::MAX) {
        return Err(format!(
            "array at byte {at}: declared dimensions hold {product} elements (at most {} \
             supported)",
            i32::MAX
        ));
    }
    Ok(())
}

/// Append element `ty` with data `data` to `out`, padded to 8 bytes as uncompressed files are.
fn push_element(out: &mut Vec<u8>, order: Order, ty: u32, data: &[u8]) {
    let word = |v: u32| {
        if order.little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    };
    out.extend_from_slice(&word(ty));
    out.extend_from_slice(&word(data.len() as u32));
    out.extend_from_slice(data);
    out.resize(out.len().next_multiple_of(8), 0);
}

/// Check every top-level element of a MATLAB v5 file and return the file with its compressed
/// elements inflated (`limit`: the most bytes one inflated element may take).
///
/// # Errors
/// A reason (for [`crate::NgmnnError::Parse`]) for a short header, a truncated or oversized
/// element, a top-level element that is not an array, a corrupt zlib stream, an inflated
/// element over `limit`, or an array whose flags or dimensions are malformed.
pub(crate) fn inflate_checked(bytes: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    if bytes.len() < HEADER {
        return Err(format!(
            "{} bytes, shorter than the 128-byte header",
            bytes.len()
        ));
    }
    let order = match &bytes[126..128] {
        b"IM" => Order { little: true },
        b"MI" => Order { little: false },
        _ => return Err("no endian indicator (IM/MI) in the header".into()),
    };
    let mut out = bytes[..HEADER].to_vec();
    let mut pos = HEADER;
    while pos < bytes.len() {
        let t = tag(bytes, pos, order)?;
        let data = &bytes[t.start..t.start + t.len];
        match t.ty {
            MI_MATRIX => {
                check_array(data, order, pos)?;
                push_element(&mut out, order, MI_MATRIX, data);
                // Uncompressed elements are padded to 8 bytes (the last one may not be).
                pos = (t.start + t.len).next_multiple_of(8);
            }
            MI_COMPRESSED => {
                let mut inflated = Vec::new();
                ZlibDecoder::new(data)
                    .take(limit.saturating_add(1))
                    .read_to_end(&mut inflated)
                    .map_err(|e| format!("compressed element at byte {pos}: {e}"))?;
                if inflated.len() as u64 > limit {
                    return Err(format!(
                        "compressed element at byte {pos} inflates to more than {} MB",
                        limit >> 20
                    ));
                }
                let inner = tag(&inflated, 0, order)
                    .map_err(|e| format!("compressed element at byte {pos}: {e}"))?;
                if inner.ty != MI_MATRIX {
                    return Err(format!(
                        "compressed element at byte {pos} holds element type {}, not an array",
                        inner.ty
                    ));
                }
                let data = &inflated[inner.start..inner.start + inner.len];
                check_array(data, order, pos)?;
                push_element(&mut out, order, MI_MATRIX, data);
                pos = t.start + t.len;
            }
            other => {
                return Err(format!(
                    "element type {other} at byte {pos} (a top-level element must be an array \
                     or compressed)"
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Vec<u8> {
        let mut h = vec![b' '; 116];
        h.extend_from_slice(&[0; 8]);
        h.extend_from_slice(&0x0100u16.to_le_bytes());
        h.extend_from_slice(b"IM");
        h
    }

    fn array(dims: &[i32]) -> Vec<u8> {
        let le = Order { little: true };
        let mut body = Vec::new();
        push_element(&mut body, le, MI_UINT32, &[6, 0, 0, 0, 0, 0, 0, 0]);
        let d: Vec<u8> = dims.iter().flat_map(|v| v.to_le_bytes()).collect();
        push_element(&mut body, le, MI_INT32, &d);
        push_element(&mut body, le, 1, b"X");
        body
    }

    #[test]
    fn dimensions_whose_product_overflows_i32_are_rejected_before_the_parser() {
        let mut f = header();
        push_element(
            &mut f,
            Order { little: true },
            MI_MATRIX,
            &array(&[65536, 65536]),
        );
        let err = inflate_checked(&f, 1 << 30).unwrap_err();
        assert!(err.contains("4294967296 elements"), "{err}");
        let mut f = header();
        push_element(&mut f, Order { little: true }, MI_MATRIX, &array(&[-1, 2]));
        assert!(
            inflate_checked(&f, 1 << 30)
                .unwrap_err()
                .contains("negative")
        );
    }

    #[test]
    fn compressed_elements_are_inflated_within_the_limit() {
        use flate2::{Compression, write::ZlibEncoder};
        use std::io::Write;
        let le = Order { little: true };
        let mut plain = Vec::new();
        push_element(&mut plain, le, MI_MATRIX, &array(&[1, 0]));
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(&plain).unwrap();
        let packed = z.finish().unwrap();
        let mut f = header();
        f.extend_from_slice(&MI_COMPRESSED.to_le_bytes());
        f.extend_from_slice(&(packed.len() as u32).to_le_bytes());
        f.extend_from_slice(&packed);
        let out = inflate_checked(&f, 1 << 20).unwrap();
        assert_eq!(&out[HEADER..], &plain[..]);
        let err = inflate_checked(&f, 16).unwrap_err();
        assert!(err.contains("inflates to more than"), "{err}");
    }

    #[test]
    fn sizes_beyond_the_file_and_foreign_top_level_elements_are_rejected() {
        let mut f = header();
        f.extend_from_slice(&MI_MATRIX.to_le_bytes());
        f.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(
            inflate_checked(&f, 1 << 20)
                .unwrap_err()
                .contains("more than the file")
        );
        let mut f = header();
        push_element(&mut f, Order { little: true }, 16, b"text");
        assert!(
            inflate_checked(&f, 1 << 20)
                .unwrap_err()
                .contains("element type 16")
        );
    }
}
