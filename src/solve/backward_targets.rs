//! Low-rank backward approximation: targets for a hidden layer (spec §2).
//!
//! Starting from `latent = Y` at the decision layer, each step down through layer `j` is
//! ```text
//! A      = (latent - 1 b_j^T) W_j^T              # [n, d_{j-1}]
//! S      = softmax of each COLUMN of A over the n samples
//! S      = clip(S, clip, 1 - clip)               # reference: clip = 1e-4
//! latent = sigma^-1(S)                           # target pre-activation of layer j-1
//! ```
//! "Low rank": the exact least-squares pre-image needs `(W_j W_j^T)^-1`, singular since
//! `rank <= d_j < d_{j-1}`; the method drops it (exact when `W_j` has orthonormal columns).
//!
//! **\[quirk\]** The softmax over samples puts all targets near `-ln n`; kept for fidelity as
//! [`TargetMap::ColumnSoftmax`]. The reference does **not** clamp the softmax into
//! `[clip, 1 - clip]`: its `revise_latent` only replaces values that are not strictly inside
//! `(0, 1)` (an underflowed `0` becomes `clip`, a `1` becomes `1 - clip`) and keeps every other
//! value, however small. With `n_k` samples in class `k` most softmax values are far below
//! `1e-4` once `n > 10^4` (their mean over a column is `1/n`); a clamp made them all equal and
//! the hidden layers of the paper preset learned nothing from `n ~ 10^4` on (MNIST at n = 15000:
//! chance accuracy, where the reference reaches 0.8). Keeping them leaves the targets a small
//! spread around `-ln n` that the ridge fit (centred targets) and the forward pass's row
//! normalisation use. [`TargetMap::ColumnMinMax`] maps each column affinely onto
//! `[clip, 1 - clip]` instead, which spreads the targets over the activation's whole range.
//!
//! Because layers are solved top-down, the target of layer `l` is one step below the target
//! of layer `l+1` through the just-updated `W_{l+1}`: the trainer walks down incrementally
//! with [`backward_step`] instead of restarting from `Y` for every layer.
//!
//! # Class targets
//! `A`'s row `i` depends on sample `i` only through its label (it starts as the one-hot `y_i`),
//! and the column-wise maps only through column totals over the samples. So the targets are
//! `T = Y G` for a `c x d` matrix `G` whose row `k` is the target of class `k`, and a column
//! total over the `n` samples is a total over the classes weighted by their counts `n_k`:
//! ```text
//! softmax:  S_kj = exp(A_kj) / sum_m n_m exp(A_mj)
//! min-max:  min and max over the classes present
//! ```
//! [`class_backward_step`] walks this `c x d` matrix down on the host in f64, starting from
//! `G = I_c`: the same targets as [`backward_step`] on the `n x d` tensors, at a cost
//! independent of `n`. The trainer uses it (also for streamed data, where `T` could not be
//! held).

use burn::tensor::Tensor;
use burn::tensor::activation::softmax;
use faer::Mat;
use serde::{Deserialize, Serialize};

use crate::model::{Activation, LayerParams};

crate::choice::choice_enum! {
    "targets",
    /// How a column of pre-images `A` is mapped into the activation's range before inverting it.
    #[derive(Default, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum TargetMap {
        /// Softmax over the n samples with the reference's repair of the bounds (**\[quirk\]**):
        /// values `<= 0` become `clip`, values `>= 1` become `1 - clip`, all others are kept
        /// ([`revise_latent`]).
        #[default]
        #[serde(rename = "softmax")]
        #[strum(serialize = "softmax")]
        ColumnSoftmax,
        /// `clip + (1 - 2 clip) (A - min) / (max - min)` per column.
        #[serde(rename = "minmax")]
        #[strum(serialize = "minmax")]
        ColumnMinMax,
    }
}

impl TargetMap {
    /// Map `a` (`[n, d]`) column-wise into the open interval `(0, 1)`.
    pub fn apply(self, a: Tensor<2>, clip: f64) -> Tensor<2> {
        match self {
            TargetMap::ColumnSoftmax => {
                let s = softmax(a, 0);
                let low = s.clone().lower_equal_elem(0.0);
                let high = s.clone().greater_equal_elem(1.0);
                s.mask_fill(low, clip).mask_fill(high, 1.0 - clip)
            }
            TargetMap::ColumnMinMax => {
                let lo = a.clone().min_dim(0);
                // A constant column (range 0) maps to `clip`: still a constant target.
                let range = (a.clone().max_dim(0) - lo.clone()).clamp_min(1e-30);
                ((a - lo) / range) * (1.0 - 2.0 * clip) + clip
            }
        }
    }
}

/// The reference's repair of a softmax value (`revise_latent` in the authors' code, spec §2):
/// `0` (underflow) becomes `clip`, `1` becomes `1 - clip`, anything strictly inside `(0, 1)`
/// is kept as it is. Not a clamp: a value of `1e-6` stays `1e-6`.
pub fn revise_latent(s: f64, clip: f64) -> f64 {
    if s >= 1.0 {
        1.0 - clip
    } else if s <= 0.0 {
        clip
    } else {
        s
    }
}

/// Whether a mapped target sits at a bound the map imposed (a saturated target): the clip
/// bounds for min-max; for the softmax, a value the reference's repair replaced.
fn at_bounds(s: f64, clip: f64, map: TargetMap) -> bool {
    match map {
        TargetMap::ColumnSoftmax => s == clip || s == 1.0 - clip,
        TargetMap::ColumnMinMax => s <= clip || s >= 1.0 - clip,
    }
}

/// The low-rank pre-image `A = (latent - 1 b^T) W^T` through `layer` (spec §2).
fn pre_image(latent: Tensor<2>, layer: &LayerParams) -> Tensor<2> {
    (latent - layer.b.clone().unsqueeze::<2>()).matmul(layer.w.clone().transpose())
}

/// One step down through `layer` (spec §2).
///
/// # Shapes
/// `latent`: `[n, d_j]`, `layer.w`: `[d_{j-1}, d_j]` -> `[n, d_{j-1}]`.
pub fn backward_step(
    latent: Tensor<2>,
    layer: &LayerParams,
    activation: Activation,
    map: TargetMap,
    clip: f64,
) -> Tensor<2> {
    let a = pre_image(latent, layer);
    activation.inverse(map.apply(a, clip))
}

/// [`backward_step`], also counting the entries the map put at the clip bounds (saturated
/// targets), as a one-element tensor (read it when needed; no host round trip here).
pub fn backward_step_counted(
    latent: Tensor<2>,
    layer: &LayerParams,
    activation: Activation,
    map: TargetMap,
    clip: f64,
) -> (Tensor<2>, Tensor<1>) {
    let a = pre_image(latent, layer);
    let s = map.apply(a, clip);
    let at_bounds = match map {
        TargetMap::ColumnSoftmax => s
            .clone()
            .equal_elem(clip)
            .bool_or(s.clone().equal_elem(1.0 - clip)),
        TargetMap::ColumnMinMax => s
            .clone()
            .lower_equal_elem(clip)
            .bool_or(s.clone().greater_equal_elem(1.0 - clip)),
    };
    let saturated = at_bounds.float().sum();
    (activation.inverse(s), saturated)
}

/// Targets for the layer just below `layers_above` (ordered bottom to top, the last being the
/// decision layer), walking down from the labels `y`.
///
/// # Shapes
/// `y`: `[n, c]` -> `[n, d]` where `d` is the input width of `layers_above[0]`.
pub fn backward_targets(
    y: Tensor<2>,
    layers_above: &[LayerParams],
    activation: Activation,
    map: TargetMap,
    clip: f64,
) -> Tensor<2> {
    layers_above.iter().rev().fold(y, |latent, layer| {
        backward_step(latent, layer, activation, map, clip)
    })
}

/// One step of the class targets down through a layer with host weights `w`
/// (`[d_{j-1}, d_j]`) and bias `b` (`[d_j]`): `latent` is `c x d_j`, row `k` the target of class
/// `k`; `counts[k]` samples carry label `k`. Returns the `c x d_{j-1}` targets and the number of
/// sample entries (counted with multiplicity) the map put at the clip bounds.
///
/// # Panics
/// If the shapes do not match (a programming error).
pub fn class_backward_step(
    latent: &Mat<f64>,
    w: &Mat<f64>,
    b: &[f64],
    counts: &[usize],
    activation: Activation,
    map: TargetMap,
    clip: f64,
) -> (Mat<f64>, f64) {
    let (c, below) = (latent.nrows(), w.nrows());
    assert_eq!(
        (latent.ncols(), b.len(), counts.len()),
        (w.ncols(), w.ncols(), c)
    );
    let shifted = Mat::from_fn(c, latent.ncols(), |k, j| latent[(k, j)] - b[j]);
    let a = &shifted * w.transpose(); // c x d_{j-1}
    let present: Vec<usize> = (0..c).filter(|&k| counts[k] > 0).collect();
    let mut s = Mat::<f64>::zeros(c, below);
    for j in 0..below {
        let column = || present.iter().map(|&k| a[(k, j)]);
        match map {
            TargetMap::ColumnSoftmax => {
                let top = column().fold(f64::NEG_INFINITY, f64::max);
                let total: f64 = present
                    .iter()
                    .map(|&k| counts[k] as f64 * (a[(k, j)] - top).exp())
                    .sum();
                for k in 0..c {
                    s[(k, j)] = revise_latent((a[(k, j)] - top).exp() / total, clip);
                }
            }
            TargetMap::ColumnMinMax => {
                let lo = column().fold(f64::INFINITY, f64::min);
                let range = (column().fold(f64::NEG_INFINITY, f64::max) - lo).max(1e-30);
                for k in 0..c {
                    let v = (a[(k, j)] - lo) / range * (1.0 - 2.0 * clip) + clip;
                    s[(k, j)] = v.clamp(clip, 1.0 - clip);
                }
            }
        }
    }
    let saturated: f64 = present
        .iter()
        .map(|&k| {
            let hits = (0..below)
                .filter(|&j| at_bounds(s[(k, j)], clip, map))
                .count();
            (hits * counts[k]) as f64
        })
        .sum();
    let targets = Mat::from_fn(c, below, |k, j| activation.inverse_scalar(s[(k, j)]));
    (targets, saturated)
}
