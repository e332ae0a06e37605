//! The invertible activation `sigma` and its inverse `sigma^-1` (spec "Layout").
//!
//! The backward targets (spec §2) push the labels down through the layers by inverting the
//! activation, so only invertible activations are offered: sigmoid/logit (the reference) and
//! tanh/artanh.

use burn::tensor::{DType, Tensor};
use serde::{Deserialize, Serialize};

crate::choice::choice_enum! {
    "activation",
    /// An invertible activation.
    #[derive(Default, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Activation {
        /// `sigma(z) = 1 / (1 + e^-z)`, inverse `ln(h / (1 - h))` (the reference's choice).
        #[default]
        Sigmoid,
        /// `tanh(z)`, inverse `artanh(h)`.
        Tanh,
    }
}

impl Activation {
    /// `sigma` applied element-wise.
    pub fn forward<const D: usize>(self, z: Tensor<D>) -> Tensor<D> {
        match self {
            // Not `burn::tensor::activation::sigmoid`: its default implementation (used by
            // ndarray, among others) computes in f32 whatever the dtype, which breaks the f64
            // fit (the inverse at the clip bounds lost 4e-7). `z` is clamped where sigma is 0
            // or 1 to the dtype's precision anyway, so that exp(-z) stays finite: an infinite
            // exp(-z) gives the right forward value, but autodiff's backward then multiplies
            // 0 by inf (NaN gradients with raw 0-255 pixels).
            // In f32 Burn's own sigmoid is exact to f32 on every backend (one fused pass on
            // flex instead of four, with a stable formula and its own backward).
            Activation::Sigmoid if z.dtype() == DType::F32 => burn::tensor::activation::sigmoid(z),
            Activation::Sigmoid => {
                let bound = if z.dtype() == DType::F64 { 700.0 } else { 80.0 };
                (z.clamp(-bound, bound).neg().exp() + 1.0).recip()
            }
            Activation::Tanh => z.tanh(),
        }
    }

    /// `sigma^-1` applied element-wise.
    ///
    /// # Numerical behavior
    /// Defined on `(0, 1)` for sigmoid and `(-1, 1)` for tanh; callers map into that range
    /// first (spec §2: the softmax's 0 and 1 are replaced by `1e-4` and `1 - 1e-4`).
    pub fn inverse<const D: usize>(self, h: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Sigmoid => h.clone().log() - (h.neg() + 1.0).log(),
            Activation::Tanh => h.atanh(),
        }
    }

    /// `sigma` on one number (host reference, used by tests).
    pub fn forward_scalar(self, z: f64) -> f64 {
        match self {
            Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
            Activation::Tanh => z.tanh(),
        }
    }

    /// `sigma^-1` on one number (the trainer's class targets, spec §2, and tests).
    pub fn inverse_scalar(self, h: f64) -> f64 {
        match self {
            Activation::Sigmoid => (h / (1.0 - h)).ln(),
            Activation::Tanh => h.atanh(),
        }
    }
}
