//! Weighted first and second moments of `[H | Z]`: the sums over samples that every closed-form
//! solve needs (spec §1 `Hc^T Hc`, `Hc^T Tc`; spec §3 C `S`, `C`).
//!
//! # Definition
//! For rows `v_i = [h_i | z_i]` (`h`: `p` columns, `z`: `q` columns) and weights `w_i >= 0`:
//! ```text
//! W  = sum_i w_i
//! mu = sum_i w_i v_i / W
//! M  = sum_i w_i (v_i - mu)(v_i - mu)^T          # [(p + q), (p + q)]
//! ```
//! so `M[..p, ..p] = Hc^T diag(w) Hc`, `M[..p, p..] = Hc^T diag(w) Zc` and
//! `M[p.., p..] = Zc^T diag(w) Zc`.
//!
//! # How it is computed
//! One batch: its weighted mean, centring, and one symmetric product
//! `(Vc o sqrt(w))^T (Vc o sqrt(w))` on the device (its upper block triangle only); the
//! `(p + q) x (p + q)` result and the `2 x (p + q)` mean and weight come to the host (f64). Batches, shards and
//! devices are combined on the host with the pairwise update of Chan, Golub and LeVeque:
//! ```text
//! W = W_a + W_b;  d = mu_b - mu_a;  mu = mu_a + d W_b / W
//! M = M_a + M_b + (W_a W_b / W) d d^T
//! ```
//! which is exact in exact arithmetic and keeps the centring on the device inside each batch,
//! so a streamed or sharded fit is the in-memory fit up to rounding.

use std::time::Instant;

use burn::tensor::Tensor;
use faer::Mat;

use crate::error::{NgmnnError, Result};
use crate::linalg::gram::{gram_to_host, upper_gram};
use crate::linalg::to_host;

/// What computing a set of moments cost ([`Moments::of_batch`]): carried by the [`Moments`]
/// and summed by [`Moments::merge`], so the caller that asked for them (a fit's epoch) owns the
/// account (no process-wide counters). `seconds` is summed over threads (shards run
/// concurrently) and covers the whole batch computation (concatenation, centring, the product
/// and the host read); `flops` counts the product as computed: about `b m^2 (1 + 1/k)` for a
/// batch of `b` rows, `m = p + q` columns in `k` blocks (the symmetric product of
/// [`crate::linalg`]'s `upper_gram`; `2 b m^2` below 512 columns).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MomentsProfile {
    /// Batches computed.
    pub batches: u64,
    /// Seconds spent in them.
    pub seconds: f64,
    /// Floating-point operations of their products.
    pub flops: f64,
}

impl std::ops::Add for MomentsProfile {
    type Output = Self;

    /// Both costs together.
    fn add(self, other: Self) -> Self {
        Self {
            batches: self.batches + other.batches,
            seconds: self.seconds + other.seconds,
            flops: self.flops + other.flops,
        }
    }
}

impl MomentsProfile {
    /// `flops / seconds`, in GFLOP/s.
    pub fn gflops(&self) -> f64 {
        self.flops / self.seconds.max(1e-12) * 1e-9
    }
}

/// The smallest positive normal number of `dtype` (as f64).
pub(crate) fn smallest_positive(dtype: burn::tensor::DType) -> f64 {
    use burn::tensor::DType;
    match dtype {
        DType::F64 => f64::MIN_POSITIVE,
        DType::F16 => 6.103_515_625e-5,
        _ => f64::from(f32::MIN_POSITIVE),
    }
}

/// The machine epsilon of `dtype` (as f64): the relative rounding of one operation.
pub(crate) fn epsilon(dtype: burn::tensor::DType) -> f64 {
    use burn::tensor::DType;
    match dtype {
        DType::F64 => f64::EPSILON,
        DType::F16 => 9.765_625e-4,
        DType::BF16 => 7.812_5e-3,
        _ => f64::from(f32::EPSILON),
    }
}

/// Weighted moments of `[H | Z]` (see the module docs).
#[derive(Debug, Clone)]
pub struct Moments {
    /// Columns of `H`.
    pub p: usize,
    /// Total weight `W` (the sample count when unweighted).
    pub weight: f64,
    /// Weighted mean of `[h | z]`, length `p + q`.
    pub mean: Vec<f64>,
    /// What computing these moments cost (zero for moments built by hand).
    pub profile: MomentsProfile,
    /// Centred weighted second moment `M`, `(p + q) x (p + q)`.
    pub second: Mat<f64>,
}

impl Moments {
    /// The moments of one batch: `h` `[b, p]`, `z` `[b, q]`, optional weights `[b]`
    /// (unweighted: all 1). `None` when the batch's total weight is 0.
    ///
    /// # Errors
    /// [`NgmnnError::NonFinite`] if anything is NaN or infinite; [`NgmnnError::ShapeMismatch`]
    /// if the row counts differ.
    pub fn of_batch(
        h: &Tensor<2>,
        z: &Tensor<2>,
        weights: Option<&Tensor<1>>,
    ) -> Result<Option<Self>> {
        let [b, p] = h.dims();
        let q = z.dims()[1];
        if z.dims()[0] != b || weights.is_some_and(|w| w.dims()[0] != b) {
            return Err(NgmnnError::ShapeMismatch(format!(
                "moments: {b} rows of H, {} of Z{}",
                z.dims()[0],
                weights.map_or(String::new(), |w| format!(", {} weights", w.dims()[0]))
            )));
        }
        if b == 0 {
            return Ok(None);
        }
        let start = Instant::now();
        let m = p + q;
        let v = Tensor::cat(vec![h.clone(), z.clone()], 1); // [b, m]
        let ((blocks, flops), total, mean) = match weights {
            None => {
                let mean = v.clone().mean_dim(0); // [1, m]
                let vc = v - mean.clone();
                (upper_gram(vc), mean.ones_like() * b as f64, mean)
            }
            Some(w) => {
                let w = w.clone().unsqueeze_dim::<2>(1); // [b, 1]
                let total = w.clone().sum_dim(0); // [1, 1]
                // A batch whose weights are all 0 contributes nothing; keep the division finite
                // (0 / tiny = 0) with the smallest positive normal number of the batch's dtype:
                // f64's would round to 0 in f32 and give 0 / 0.
                // The weighted sums as a product ([1, b] x [b, m]): no b x m temporary.
                let mean = w.clone().transpose().matmul(v.clone())
                    / total.clone().clamp_min(smallest_positive(w.dtype()));
                // vc^T diag(w) vc = (vc o sqrt(w))^T (vc o sqrt(w)): a symmetric product.
                let gram = upper_gram((v - mean.clone()) * w.sqrt());
                (gram, total.expand([1, m]), mean)
            }
        };
        let host = to_host(Tensor::cat(vec![mean, total], 0), "moments of [H | Z]")?;
        let second = gram_to_host(blocks, m, "moments of [H | Z]")?;
        let profile = MomentsProfile {
            batches: 1,
            seconds: start.elapsed().as_secs_f64(),
            flops: flops as f64,
        };
        let weight = host[(1, 0)];
        if weight <= 0.0 {
            return Ok(None);
        }
        Ok(Some(Self {
            p,
            weight,
            mean: (0..m).map(|j| host[(0, j)]).collect(),
            profile,
            second,
        }))
    }

    /// Combine two sets of moments of the same columns (Chan et al.'s pairwise update).
    ///
    /// # Panics
    /// If the column layouts differ (a programming error).
    pub fn merge(self, other: Self) -> Self {
        assert_eq!(
            (self.p, self.mean.len()),
            (other.p, other.mean.len()),
            "moments layout"
        );
        let weight = self.weight + other.weight;
        let fb = other.weight / weight;
        let d: Vec<f64> = other
            .mean
            .iter()
            .zip(&self.mean)
            .map(|(b, a)| b - a)
            .collect();
        let mean = self.mean.iter().zip(&d).map(|(a, d)| a + d * fb).collect();
        let scale = self.weight * fb;
        let m = d.len();
        let second = Mat::from_fn(m, m, |i, j| {
            self.second[(i, j)] + other.second[(i, j)] + scale * d[i] * d[j]
        });
        Self {
            p: self.p,
            weight,
            mean,
            profile: self.profile + other.profile,
            second,
        }
    }

    /// Merge a sequence of partial moments in order; `None` if all were empty.
    pub fn merge_all(parts: impl IntoIterator<Item = Option<Self>>) -> Option<Self> {
        parts.into_iter().flatten().reduce(Self::merge)
    }

    /// Columns of `Z`.
    pub fn q(&self) -> usize {
        self.mean.len() - self.p
    }

    /// `Hc^T diag(w) Hc`, `p x p`.
    pub fn hh(&self) -> Mat<f64> {
        let p = self.p;
        Mat::from_fn(p, p, |i, j| self.second[(i, j)])
    }

    /// `Hc^T diag(w) Zc`, `p x q`.
    pub fn hz(&self) -> Mat<f64> {
        let p = self.p;
        Mat::from_fn(p, self.q(), |i, j| self.second[(i, p + j)])
    }

    /// `Zc^T diag(w) Zc`, `q x q`.
    pub fn zz(&self) -> Mat<f64> {
        let p = self.p;
        let q = self.q();
        Mat::from_fn(q, q, |i, j| self.second[(p + i, p + j)])
    }

    /// Weighted mean of `H`.
    pub fn mean_h(&self) -> &[f64] {
        &self.mean[..self.p]
    }

    /// Weighted mean of `Z`.
    pub fn mean_z(&self) -> &[f64] {
        &self.mean[self.p..]
    }
}

/// `tr(A^T B)` of two matrices of the same shape.
pub(crate) fn trace_at_b(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    (0..a.ncols())
        .map(|j| (0..a.nrows()).map(|i| a[(i, j)] * b[(i, j)]).sum::<f64>())
        .sum()
}
