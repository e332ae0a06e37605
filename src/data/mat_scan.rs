//! A guard in front of the `matfile` parser: walk the MATLAB v5 element structure ourselves,
//! reject what that parser would panic or abort on, and hand it an uncompressed copy.
//!
//! `matfile` 0.5 multiplies an array's declared dimensions in `i32` (an overflow panics in
//! debug builds and wraps in release), rounds element sizes up to 8 bytes in `u32` (overflows
//! near `u32::MAX`), inflates compressed elements without a size limit (a small file can ask
//! for any amount of memory), and prints to stdout/stderr on unsupported or corrupt elements.
//! [`inflate_checked`] checks each top-level element (type, size, and for an array its flags
//! and dimensions: non-negative, product within `i32`), counts the decompressed size of every
//! element (as its tag declares it, used or not) against the input budget before inflating
//! anything, and inflates only the arrays the loader asks for, each bounded by its declared
//! size: the parser only ever sees the wanted arrays, well-formed and uncompressed.

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

/// Why the walk stopped.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The file is malformed (the reason).
    Malformed(String),
    /// The decompressed elements (`needed` bytes in all) would pass the budget.
    Budget {
        /// Bytes of every element decompressed, the header included.
        needed: u64,
        /// Top-level elements (variables).
        variables: usize,
    },
}

impl From<String> for Stop {
    fn from(reason: String) -> Self {
        Stop::Malformed(reason)
    }
}

/// Read the tag at `pos` of `b` (long or small format) and check that its data lies in `b`.
fn tag(b: &[u8], pos: usize, order: Order) -> Result<Tag, String> {
    let t = tag_at(b, pos, order)?;
    if t.len > u32::MAX as usize - 8 || t.start + t.len > b.len() {
        return Err(format!(
            "element at byte {pos} declares {} bytes, more than the file holds",
            t.len
        ));
    }
    Ok(t)
}

/// Read the tag at `pos` of `b` (long or small format), its data not checked.
fn tag_at(b: &[u8], pos: usize, order: Order) -> Result<Tag, String> {
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
    Ok(Tag { ty, start, len })
}

/// The name of an array from the start of its data `b` (flags, dimensions, name); `None`
/// when `b` is too short or malformed.
fn array_name(b: &[u8], order: Order) -> Option<&[u8]> {
    let flags = tag(b, 0, order).ok()?;
    let dims = tag(b, (flags.start + flags.len).next_multiple_of(8), order).ok()?;
    let name = tag(b, (dims.start + dims.len).next_multiple_of(8), order).ok()?;
    Some(&b[name.start..name.start + name.len])
}

/// Whether to keep the array whose data starts with `b`: its name is in `keep`, or it cannot
/// be read (the parser then judges it).
fn wanted(b: &[u8], order: Order, keep: &[&str]) -> bool {
    array_name(b, order).is_none_or(|n| keep.iter().any(|k| k.as_bytes() == n))
}

/// Bytes of an array's data inflated to read its name before the rest.
const NAME_PEEK: usize = 4096;

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

/// Check every top-level element of a MATLAB v5 file and return the file holding only the
/// arrays named in `keep` (and any whose name cannot be read), inflated. Every element's
/// decompressed size counts against `limit` (bytes), used or not, before anything is inflated.
///
/// # Errors
/// [`Stop::Budget`] when the decompressed elements would pass `limit`; [`Stop::Malformed`]
/// for a short header, a truncated or oversized element, a top-level element that is not an
/// array, a corrupt zlib stream or one shorter than its tag declares, or an array whose flags
/// or dimensions are malformed.
pub(crate) fn inflate_checked(bytes: &[u8], limit: u64, keep: &[&str]) -> Result<Vec<u8>, Stop> {
    if bytes.len() < HEADER {
        return Err(Stop::Malformed(format!(
            "{} bytes, shorter than the 128-byte header",
            bytes.len()
        )));
    }
    let order = match &bytes[126..128] {
        b"IM" => Order { little: true },
        b"MI" => Order { little: false },
        _ => {
            return Err(Stop::Malformed(
                "no endian indicator (IM/MI) in the header".into(),
            ));
        }
    };
    // First the sizes: every element's tag (a compressed one's first 8 inflated bytes).
    let mut elements = Vec::new();
    let (mut pos, mut needed) = (HEADER, HEADER as u64);
    while pos < bytes.len() {
        let t = tag(bytes, pos, order)?;
        let data = &bytes[t.start..t.start + t.len];
        let (inner, next) = match t.ty {
            // Uncompressed elements are padded to 8 bytes (the last one may not be).
            MI_MATRIX => ((0, t.len), (t.start + t.len).next_multiple_of(8)),
            MI_COMPRESSED => {
                let mut head = [0u8; 8];
                let got = read_up_to(&mut ZlibDecoder::new(data), &mut head)
                    .map_err(|e| format!("compressed element at byte {pos}: {e}"))?;
                let inner = tag_at(&head[..got], 0, order)
                    .map_err(|e| format!("compressed element at byte {pos}: {e}"))?;
                if inner.ty != MI_MATRIX {
                    return Err(Stop::Malformed(format!(
                        "compressed element at byte {pos} holds element type {}, not an array",
                        inner.ty
                    )));
                }
                ((inner.start, inner.len), t.start + t.len)
            }
            other => {
                return Err(Stop::Malformed(format!(
                    "element type {other} at byte {pos} (a top-level element must be an array \
                     or compressed)"
                )));
            }
        };
        needed += 8 + inner.1 as u64;
        elements.push((pos, t.ty, data, inner));
        pos = next;
    }
    if needed > limit {
        let variables = elements.len();
        return Err(Stop::Budget { needed, variables });
    }
    let mut out = bytes[..HEADER].to_vec();
    for (pos, ty, data, (start, len)) in elements {
        if ty == MI_MATRIX {
            if wanted(data, order, keep) {
                check_array(data, order, pos)?;
                push_element(&mut out, order, MI_MATRIX, data);
            }
            continue;
        }
        let mut z = ZlibDecoder::new(data);
        let inflate = |z: &mut ZlibDecoder<&[u8]>, buf: &mut Vec<u8>, upto: usize| {
            z.by_ref()
                .take(upto.saturating_sub(buf.len()) as u64)
                .read_to_end(buf)
                .map_err(|e| format!("compressed element at byte {pos}: {e}"))
        };
        let mut array = Vec::new();
        inflate(&mut z, &mut array, start)?; // the tag, read above
        array.clear();
        inflate(&mut z, &mut array, len.min(NAME_PEEK))?;
        if !wanted(&array, order, keep) {
            continue;
        }
        inflate(&mut z, &mut array, len)?;
        if array.len() < len {
            return Err(Stop::Malformed(format!(
                "compressed element at byte {pos} inflates to {} bytes, its tag declares {len}",
                array.len() + start
            )));
        }
        check_array(&array, order, pos)?;
        push_element(&mut out, order, MI_MATRIX, &array);
    }
    Ok(out)
}

/// Read until `buf` is full or the reader ends; the number of bytes read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    super::input::read_up_to(reader, buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(f: &[u8], limit: u64) -> Result<Vec<u8>, String> {
        inflate_checked(f, limit, &["X", "Y"]).map_err(|e| format!("{e:?}"))
    }

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
        let err = scan(&f, 1 << 30).unwrap_err();
        assert!(err.contains("4294967296 elements"), "{err}");
        let mut f = header();
        push_element(&mut f, Order { little: true }, MI_MATRIX, &array(&[-1, 2]));
        assert!(scan(&f, 1 << 30).unwrap_err().contains("negative"));
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
        let out = scan(&f, 1 << 20).unwrap();
        assert_eq!(&out[HEADER..], &plain[..]);
        let err = scan(&f, 16).unwrap_err();
        assert!(err.contains("Budget"), "{err}");
        // An array the loader does not ask for is counted but neither inflated nor kept.
        let out = inflate_checked(&f, 1 << 20, &["Y"]).unwrap();
        assert_eq!(out.len(), HEADER);
    }

    #[test]
    fn sizes_beyond_the_file_and_foreign_top_level_elements_are_rejected() {
        let mut f = header();
        f.extend_from_slice(&MI_MATRIX.to_le_bytes());
        f.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(
            scan(&f, 1 << 20)
                .unwrap_err()
                .contains("more than the file")
        );
        let mut f = header();
        push_element(&mut f, Order { little: true }, 16, b"text");
        assert!(scan(&f, 1 << 20).unwrap_err().contains("element type 16"));
    }
}
