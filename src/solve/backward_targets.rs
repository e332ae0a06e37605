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
//! **[quirk]** The softmax over samples puts all targets near `-ln n`; kept for fidelity as
//! [`TargetMap::ColumnSoftmax`]. Once `1/n` falls below the clip (n > 10^4, e.g. MNIST's
//! 60000) nearly every entry is clipped to the same value, the targets become constant and
//! the hidden layers learn nothing. [`TargetMap::ColumnMinMax`] maps each column affinely
//! onto `[clip, 1 - clip]` instead, which keeps the targets' order and spread at any `n`.
//!
//! Because layers are solved top-down, the target of layer `l` is one step below the target
//! of layer `l+1` through the just-updated `W_{l+1}`: the trainer walks down incrementally
//! with [`backward_step`] instead of restarting from `Y` for every layer.

use std::fmt;
use std::str::FromStr;

use burn::tensor::Tensor;
use burn::tensor::activation::softmax;
use serde::{Deserialize, Serialize};

use crate::error::{NgmnnError, Result};
use crate::model::{Activation, LayerParams};

/// How a column of pre-images `A` is mapped into the activation's range before inverting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetMap {
    /// `clip(softmax over the n samples)`: the reference (**[quirk]**).
    #[default]
    #[serde(rename = "softmax")]
    ColumnSoftmax,
    /// `clip + (1 - 2 clip) (A - min) / (max - min)` per column.
    #[serde(rename = "minmax")]
    ColumnMinMax,
}

impl TargetMap {
    /// Map `a` (`[n, d]`) column-wise into `[clip, 1 - clip]`.
    pub fn apply(self, a: Tensor<2>, clip: f64) -> Tensor<2> {
        match self {
            TargetMap::ColumnSoftmax => softmax(a, 0).clamp(clip, 1.0 - clip),
            TargetMap::ColumnMinMax => {
                let lo = a.clone().min_dim(0);
                // A constant column (range 0) maps to `clip`: still a constant target.
                let range = (a.clone().max_dim(0) - lo.clone()).clamp_min(1e-30);
                ((a - lo) / range) * (1.0 - 2.0 * clip) + clip
            }
        }
    }

    /// Name on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            TargetMap::ColumnSoftmax => "softmax",
            TargetMap::ColumnMinMax => "minmax",
        }
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
    let saturated = s
        .clone()
        .lower_equal_elem(clip)
        .bool_or(s.clone().greater_equal_elem(1.0 - clip))
        .float()
        .sum();
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

impl fmt::Display for TargetMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TargetMap {
    type Err = NgmnnError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "softmax" => Ok(TargetMap::ColumnSoftmax),
            "minmax" => Ok(TargetMap::ColumnMinMax),
            _ => Err(NgmnnError::config(
                "targets",
                s,
                "expected softmax or minmax",
            )),
        }
    }
}
