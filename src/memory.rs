//! Memory the machine has, and checks that stop a fit or a model load before an allocation it
//! cannot afford (one clear error instead of an allocation abort).

use crate::error::{NgmnnError, Result};

/// The memory available for new allocations, in bytes: `MemAvailable` of `/proc/meminfo`
/// (Linux); `None` where it cannot be read.
pub fn available_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

/// The bytes a data loader may hold (decompressed text, parsed values): `limit` when given
/// (`--memory-limit`), else the machine's available memory, else unbounded.
pub fn input_budget(limit: Option<u64>) -> u64 {
    limit.or_else(available_bytes).unwrap_or(u64::MAX)
}

/// Check that `needed` bytes fit in `limit` (or the machine's available memory when `limit` is
/// `None`; no check where neither is known).
///
/// # Errors
/// [`NgmnnError::OutOfMemory`] naming `what`, both sizes and `remedy`.
pub fn ensure_fits(needed: u64, limit: Option<u64>, what: &str, remedy: &str) -> Result<()> {
    let Some(available) = limit.or_else(available_bytes) else {
        return Ok(());
    };
    if needed <= available {
        return Ok(());
    }
    Err(NgmnnError::OutOfMemory {
        what: what.to_owned(),
        needed_mb: needed.div_ceil(1 << 20),
        available_mb: available >> 20,
        remedy: remedy.to_owned(),
    })
}

/// Bytes of a fit's copy of `params` parameters in its precision (`element` bytes each) and
/// one temporary of that size (the frozen layer's scaling).
pub fn fit_params_bytes(params: u64, element: usize) -> u64 {
    params.saturating_mul(2 * element as u64)
}

/// Bytes of the dual system of a learned layer with `p` inputs, `n` rows and `c` classes, the
/// device values in `element` bytes: the gathered rows and their centred copy (`n x p` each),
/// the `n x n` Gram matrix on the device and on the host with its factor, the `p x c`
/// projection. `None` on overflow.
pub fn dual_system_bytes(n: usize, p: usize, c: usize, element: usize) -> Option<u64> {
    let (n, p, c, e) = (n as u64, p as u64, c as u64, element as u64);
    let rows = n.checked_mul(p)?.checked_mul(2 * e)?;
    let gram = n.checked_mul(n)?.checked_mul(e + 16)?;
    let projection = p.checked_mul(c)?.checked_mul(e + 8)?;
    rows.checked_add(gram)?.checked_add(projection)
}

/// Bytes of the host f64 work of a learned layer with `p` inputs and `c` classes: its moments
/// `(p + c)^2` (a chunk's product read back in f32 and converted, the running sum, the merge),
/// and the `p x p` Cholesky factor. `None` on overflow.
pub fn layer_moments_bytes(p: usize, c: usize) -> Option<u64> {
    let m = (p as u64).checked_add(c as u64)?;
    let square = m.checked_mul(m)?;
    // f32 read + f64 copy + running sum + merged sum + the p x p factor and its input.
    square
        .checked_mul(4 + 8 * 3)?
        .checked_add((p as u64).pow(2).checked_mul(16)?)
}
