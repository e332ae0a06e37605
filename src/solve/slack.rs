//! Decision layer step A: slack variables that turn the squared hinge into least squares
//! (spec §3 A).
//!
//! # Objective
//! ```text
//! min_{M >= 0} sum_i alpha_i ||F_i - y_i - y_i o m_i||^2,     F = H W + 1 b^T
//! ```
//! # Closed form
//! ```text
//! M = max(Y o F - 1, 0)          (element-wise)
//! ```
//! With {0, 1} labels the zero entries keep target 0 and the one entries get target
//! `max(1, F)`: a one-sided hinge. The regression targets are `Zt = Y + Y o M`.

use burn::tensor::Tensor;

/// The slack `M = max(Y o F - 1, 0)`, `[n, c]`.
pub fn slack(y: &Tensor<2>, f: &Tensor<2>) -> Tensor<2> {
    (y.clone() * f.clone() - 1.0).clamp_min(0.0)
}

/// The regression targets `Zt = Y + Y o M`, `[n, c]`.
pub fn slack_targets(y: &Tensor<2>, m: Tensor<2>) -> Tensor<2> {
    y.clone() + y.clone() * m
}
