//! The decision layer: an adaptive SVM on the flexible Stiefel manifold (spec §3).
//!
//! # Objective
//! ```text
//! min  sum_i alpha_i ||W^T h_i + b - y_i - y_i o m_i||^2 + lambda ||alpha||^2
//! s.t. M >= 0,  alpha in the simplex,  W^T S_alpha W = I
//! ```
//! # Algorithm
//! Block-coordinate descent, at most `max_iterations` rounds (reference: 4), stopping early
//! when the objective moves by less than `tolerance` (1e-2). Each round runs
//! A ([`super::slack`]), B ([`super::adaptive_weights`]) and C ([`super::stiefel`]) in that
//! order, then evaluates the objective with the new `W`, `b`.
//!
//! **[quirk]** The reference computes `M` and `alpha` with the bias passed in at entry, not the
//! freshly updated `b` ([`DecisionOptions::fresh_bias`] = false); the corrected variant uses
//! the current `b`. The reference also re-adapts `lambda` every round, which changes the
//! objective between rounds (it can rise when `lambda` grows); the corrected variant holds the
//! first round's `lambda` ([`DecisionOptions::hold_lambda`]) and rejects a round that would
//! raise the objective ([`DecisionOptions::monotone`]), so its objective never increases.

use burn::tensor::Tensor;

use super::{
    AdaptiveWeights, AlphaIndex, adaptive_weights, simplex_weights, slack, slack_targets,
    stiefel_update,
};
use crate::error::{NgmnnError, Result};
use crate::linalg::{to_host, to_host_vec};
use crate::model::LayerParams;

/// Settings of the decision-layer solver.
#[derive(Debug, Clone, Copy)]
pub struct DecisionOptions {
    /// Ridge term `gamma` in `S`.
    pub gamma: f64,
    /// Fraction of samples the adaptive weights keep (`K = round(ratio * n) - 2`).
    pub ratio: f64,
    /// At most this many A-B-C rounds.
    pub max_iterations: usize,
    /// Stop when the objective changes by less than this.
    pub tolerance: f64,
    /// Which sorted loss sets `lambda` (spec §3 B).
    pub alpha_index: AlphaIndex,
    /// Use the freshly updated bias for `M` and `alpha` (corrected) instead of the entry bias
    /// (reference quirk).
    pub fresh_bias: bool,
    /// Adapt `lambda` in the first round only and hold it afterwards (corrected), so every
    /// round minimises the same objective; the reference re-adapts it every round.
    pub hold_lambda: bool,
    /// Reject a round whose objective is higher than the previous round's and stop (corrected):
    /// steps A and B are exact minimisers, but step C's manifold moves with `alpha`, so without
    /// this safeguard the objective can still rise slightly.
    pub monotone: bool,
}

/// What the solver returns.
#[derive(Debug, Clone)]
pub struct DecisionOutcome {
    /// The new `W` (`[k, c]`) and `b` (`[c]`).
    pub params: LayerParams,
    /// The objective after each round.
    pub objectives: Vec<f64>,
    /// The last round's adaptive `lambda`.
    pub lambda: f64,
    /// The last round's sample weights.
    pub alpha: Tensor<1>,
    /// `S` of the last round (host, f64): `W^T S W = I`.
    pub s: faer::Mat<f64>,
    /// `W` of the last round (host, f64).
    pub w: faer::Mat<f64>,
}

/// Per-sample losses `f_i = ||F_i - Zt_i||^2`, `[n]`.
fn losses(f: Tensor<2>, zt: &Tensor<2>) -> Tensor<1> {
    (f - zt.clone()).square().sum_dim(1).squeeze_dim(1)
}

/// `sum_i alpha_i f_i + lambda ||alpha||^2` for outputs `f = H W + 1 b^T`, the labels `y`,
/// the slack `M` implied by `f_for_slack`, and weights `alpha`.
///
/// # Errors
/// [`crate::NgmnnError::NonFinite`] if the value is not finite.
pub fn decision_objective(
    f: Tensor<2>,
    zt: &Tensor<2>,
    alpha: &Tensor<1>,
    lambda: f64,
) -> Result<f64> {
    let weighted = (alpha.clone() * losses(f, zt)).sum();
    let penalty = alpha.clone().square().sum().mul_scalar(lambda);
    Ok(to_host_vec(weighted + penalty, "decision-layer objective")?[0])
}

/// Solve the decision layer on input `h` (`[n, k]`) for one-hot labels `y` (`[n, c]`),
/// starting from `init`.
///
/// # Errors
/// The errors of the three steps: too few samples for the adaptive weights, numerical
/// failures, non-finite values.
pub fn decision_layer(
    h: &Tensor<2>,
    y: &Tensor<2>,
    init: &LayerParams,
    opts: &DecisionOptions,
) -> Result<DecisionOutcome> {
    if opts.max_iterations == 0 {
        return Err(NgmnnError::config(
            "decision_iterations",
            0,
            "must be at least 1",
        ));
    }
    let entry_bias = init.b.clone().unsqueeze::<2>();
    let mut params = init.clone();
    let mut hw = h.clone().matmul(params.w.clone());
    let mut objectives = Vec::with_capacity(opts.max_iterations);
    let mut last: Option<(AdaptiveWeights, faer::Mat<f64>, faer::Mat<f64>)> = None;
    for _ in 0..opts.max_iterations {
        let bias = if opts.fresh_bias {
            params.b.clone().unsqueeze::<2>()
        } else {
            entry_bias.clone()
        };
        let f = hw.clone() + bias;
        // A: slack and regression targets.
        let zt = slack_targets(y, slack(y, &f));
        // B: adaptive sample weights (or, with `hold_lambda`, the exact minimiser for the
        // first round's lambda).
        let aw = match &last {
            Some((prev, _, _)) if opts.hold_lambda && prev.lambda > 0.0 => AdaptiveWeights {
                alpha: simplex_weights(&losses(f, &zt), prev.lambda)?,
                ..prev.clone()
            },
            _ => adaptive_weights(&losses(f, &zt), opts.ratio, opts.alpha_index)?,
        };
        // C: W, b on the flexible Stiefel manifold.
        let previous = match &last {
            Some((_, _, w)) => w.clone(),
            None => to_host(params.w.clone(), "decision-layer W")?,
        };
        let step = stiefel_update(h, &zt, &aw.alpha, opts.gamma, Some(&previous))?;
        let new_hw = h.clone().matmul(step.params.w.clone());
        let f_new = new_hw.clone() + step.params.b.clone().unsqueeze::<2>();
        let objective = decision_objective(f_new, &zt, &aw.alpha, aw.lambda)?;
        let previous = objectives.last().copied();
        if opts.monotone && previous.is_some_and(|prev: f64| objective > prev) {
            break; // keep the previous round's W, b
        }
        params = step.params;
        hw = new_hw;
        objectives.push(objective);
        last = Some((aw, step.s, step.w));
        if previous.is_some_and(|prev| (prev - objective).abs() < opts.tolerance) {
            break;
        }
    }
    let (aw, s, w) = last.expect("at least one round ran");
    Ok(DecisionOutcome {
        params,
        objectives,
        lambda: aw.lambda,
        alpha: aw.alpha,
        s,
        w,
    })
}
