//! Decision layer step B: adaptive sample weights on the simplex (spec §3 B; Nie et al.,
//! KDD 2014).
//!
//! # Objective
//! ```text
//! min_{alpha in simplex} sum_i alpha_i f_i + lambda ||alpha||^2,   f_i = ||F_i - Zt_i||^2
//! ```
//! with `lambda` chosen adaptively so that only the `K` smallest losses get weight.
//!
//! # Closed form
//! ```text
//! fs = sort(f) ascending (0-based);  K = round(ratio * n) - 2
//! lambda  = K/2 * fs[P] - 1/2 * sum(fs[0..K])  = 1/2 sum_{i<K} (fs[P] - fs[i])
//! t       = (sum(fs[0..K]) + 2 lambda) / (2 K lambda)
//! alpha_i = max(t - f_i / (2 lambda), 0)  = max(fs[P] - f_i, 0) / (2 lambda)
//! ```
//! (the two forms agree since `2 K lambda t = sum(fs[0..K]) + 2 lambda = K fs[P]`).
//! `P = K + 1` in the reference (**\[quirk\]**, [`AlphaIndex::Paper`]: one past the textbook
//! index, so `sum(alpha)` is slightly above 1) and `P = K` in Nie et al.
//! ([`AlphaIndex::Textbook`]). The largest losses get weight 0: robustness to outliers.
//! If `lambda` is 0 up to the losses' rounding (all losses equal) the weights fall back to
//! uniform `1/n`. `lambda` is summed from the non-negative gaps `fs[P] - fs[i]`, never as the
//! difference of two sums (which cancels).
//!
//! The sort runs on the device; only two scalars come to the host.
//!
//! [`simplex_weights`] is the same minimisation for a *given* `lambda` (a Euclidean projection
//! onto the simplex): the corrected preset adapts `lambda` once per decision-layer solve and
//! holds it for the later rounds, so that step B minimises the same objective every round and
//! the block-coordinate descent does not climb when `lambda` would move.

use burn::tensor::{Int, Tensor};

use super::moments::epsilon;
use crate::error::{NgmnnError, Result};
use crate::linalg::to_host_vec;

/// Which sorted loss sets `lambda`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlphaIndex {
    /// `fs[K + 1]`, as the reference implementation (**\[quirk\]**).
    Paper,
    /// `fs[K]`, as Nie et al. (KDD 2014).
    Textbook,
}

/// The weights and the adaptive `lambda`.
#[derive(Debug, Clone)]
pub struct AdaptiveWeights {
    /// `alpha`, `[n]`, non-negative.
    pub alpha: Tensor<1>,
    /// The adaptive `lambda` (0 when the uniform fallback was used).
    pub lambda: f64,
    /// `K`, the number of smallest losses `lambda` is fitted to.
    pub k: usize,
}

/// The smallest `n` for which `K = round(ratio * n) - 2 >= 1` with `ratio = 1`.
pub const MIN_SAMPLES: usize = 3;

/// Compute the adaptive weights of per-sample losses `losses` (`[n]`).
///
/// # Errors
/// [`NgmnnError::InvalidData`] if `K` is out of range for this `n` and `ratio` (too few
/// samples); [`NgmnnError::NonFinite`] if a loss is NaN or infinite.
pub fn adaptive_weights(
    losses: &Tensor<1>,
    ratio: f64,
    index: AlphaIndex,
) -> Result<AdaptiveWeights> {
    let n = losses.dims()[0];
    // Python's round(), as the reference: ties to even (2.5 -> 2), not away from zero.
    let k = (ratio * n as f64).round_ties_even() as i64 - 2;
    let pivot = match index {
        AlphaIndex::Paper => k + 1,
        AlphaIndex::Textbook => k,
    };
    if k < 1 || pivot as usize >= n {
        return Err(NgmnnError::data(
            None,
            format!(
                "adaptive weights need K = round(ratio * n) - 2 >= 1 and the pivot index < n; \
                 n = {n}, ratio = {ratio} give K = {k}: too few training samples"
            ),
        ));
    }
    let (k, pivot) = (k as usize, pivot as usize);
    let sorted = losses.clone().sort(0);
    let fs_p = sorted.clone().slice(pivot..pivot + 1);
    // lambda = K/2 fs[P] - 1/2 sum(fs[0..K]) = 1/2 sum_{i<K} (fs[P] - fs[i]): a sum of terms
    // >= 0, exactly 0 when the losses are equal (the difference of the two sums is not: it
    // cancels, and rounding can leave it slightly positive, which zeroes every weight).
    let gaps = (sorted.slice(0..k).neg() + fs_p.clone()).sum();
    let stats = Tensor::cat(vec![gaps, fs_p], 0);
    let stats = to_host_vec(stats, "decision-layer sample losses")?;
    let (lambda, fs_pivot) = (stats[0] / 2.0, stats[1]);
    // Below the rounding of the losses themselves (K terms of size fs[P] in the loss's dtype),
    // lambda is no information: the losses are equal.
    let rounding = 4.0 * epsilon(losses.dtype()) * k as f64 * fs_pivot.abs();
    if lambda.is_nan() || lambda <= rounding.max(f64::MIN_POSITIVE) {
        let alpha = losses.zeros_like() + 1.0 / n as f64;
        return Ok(AdaptiveWeights {
            alpha,
            lambda: 0.0,
            k,
        });
    }
    // t - f_i / (2 lambda) with t = fs[P] / (2 lambda): written this way the samples at the
    // pivot get exactly 0.
    let alpha = (losses.clone().neg() + fs_pivot).clamp_min(0.0) / (2.0 * lambda);
    Ok(AdaptiveWeights { alpha, lambda, k })
}

/// The minimiser of `sum_i alpha_i f_i + lambda ||alpha||^2` over the simplex for a fixed
/// `lambda > 0`:
/// ```text
/// alpha_i = max(t - f_i / (2 lambda), 0),   t such that sum(alpha) = 1
/// fs sorted ascending;  t_j = (1 + sum(fs[0..=j]) / (2 lambda)) / (j + 1)
/// rho = the last j with t_j > fs[j] / (2 lambda);  t = t_rho
/// ```
/// On the device (a sort and a cumulative sum); two scalars come to the host.
///
/// # Errors
/// [`NgmnnError::InvalidConfig`] unless `lambda` is finite and positive;
/// [`NgmnnError::NonFinite`] for NaN/inf losses.
pub fn simplex_weights(losses: &Tensor<1>, lambda: f64) -> Result<Tensor<1>> {
    if !(lambda.is_finite() && lambda > 0.0) {
        return Err(NgmnnError::config(
            "lambda",
            lambda,
            "must be finite and > 0",
        ));
    }
    let n = losses.dims()[0];
    let (device, dtype) = (losses.device(), losses.dtype());
    let scaled = losses.clone().sort(0) / (2.0 * lambda);
    let count = Tensor::<1, Int>::arange(1..n as i64 + 1, &device)
        .float()
        .cast(dtype);
    let t = (scaled.clone().cumsum(0) + 1.0) / count;
    // t_j > fs[j] / (2 lambda) holds exactly for a prefix j = 0..=rho.
    let positive = t.clone().greater(scaled).float().sum();
    let rho = to_host_vec(positive, "simplex projection")?[0] as usize;
    let rho = rho.clamp(1, n) - 1;
    let t = to_host_vec(t.slice(rho..rho + 1), "simplex projection")?[0];
    Ok((losses.clone().neg() / (2.0 * lambda) + t).clamp_min(0.0))
}
