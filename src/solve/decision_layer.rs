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
//! A ([`super::slack`](mod@super::slack)), B ([`super::adaptive_weights`](mod@super::adaptive_weights)) and C ([`super::stiefel`]) in that
//! order, then evaluates the objective with the new `W`, `b`.
//!
//! **\[quirk\]** The reference computes `M` and `alpha` with the bias passed in at entry, not the
//! freshly updated `b` ([`DecisionOptions::fresh_bias`] = false); the corrected variant uses
//! the current `b`. The reference also re-adapts `lambda` every round, which changes the
//! objective between rounds (it can rise when `lambda` grows); the corrected variant holds the
//! first round's `lambda` ([`DecisionOptions::hold_lambda`]) and rejects a round that would
//! raise the objective ([`DecisionOptions::monotone`]), so its objective never increases; the
//! objective it monitors includes `gamma ||W||^2`, the term step C trades against the loss
//! ([`DecisionOptions::ridge_in_objective`]).

//!
//! # Passes over the data
//! The solver sees its input only through the crate's `DecisionInput` (its interface to the
//! rows): per-sample losses (step A and the loss of step B) and the alpha-weighted moments of
//! `[H | Zt]` (step C), each a pass over the rows. In memory that is one batch ([`decision_layer`]); the trainer also streams batches or
//! runs shards on several devices. A round is two passes (losses, then moments; the first
//! round's losses can be handed in), and its objective comes from the moments without a
//! third pass:
//! ```text
//! sum_i alpha_i ||W^T h_i + b - zt_i||^2 = tr(W^T Shh W) - 2 tr(W^T Shz) + tr(Szz)
//! ```
//! (`S..` the centred weighted moments; exact for the optimal `b = mu_Z - W^T mu_H`).

use burn::tensor::{Device, Tensor};
use faer::Mat;

use super::moments::{Moments, MomentsProfile, trace_at_b};
use super::{
    adaptive_weights::{AdaptiveWeights, AlphaIndex, adaptive_weights, simplex_weights},
    slack::{slack, slack_targets},
    stiefel::stiefel_from_moments,
};
use crate::error::{NgmnnError, Result};
use crate::linalg::{scalar, to_host, to_host_vec};
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
    /// Monitor (report, compare, stop on) the objective plus `gamma ||W||_F^2` (corrected). Step
    /// C maximises `tr(W^T C)` on `W^T (S_hh + gamma I) W = I`, i.e. it minimises
    /// `J + gamma ||W||^2` (`tr(W^T S_hh W) = c - gamma ||W||^2` there), not `J` alone; steps A and
    /// B do not touch `W`. So that sum is what every step descends. The paper preset monitors
    /// the spec's `J` (`sum alpha f + lambda ||alpha||^2`); the reference's own stopping value
    /// (`cal_obj`) is yet another, `sum alpha f^2 + lambda ||alpha||^2 + gamma ||W||^2` (the
    /// per-sample loss squared), which the spec does not adopt.
    pub ridge_in_objective: bool,
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
    /// `b` of the last round (host, f64).
    pub b: Vec<f64>,
    /// What the rounds' moments cost (step C's products, every round).
    pub gram: MomentsProfile,
    /// Seconds of the rounds' host solves (step C's factorisations).
    pub host_seconds: f64,
}

/// The decision layer's input `H` (`[n, k]`) and labels `Y` (`[n, c]`), visited in passes.
pub(crate) trait DecisionInput {
    /// The device the per-sample vectors (`[n]`: losses, `alpha`) live on.
    fn device(&self) -> Device;

    /// Per-sample losses `f_i = ||h_i W + bias - zt_i||^2` for the slack targets `Zt` of step A
    /// at those outputs ([`batch_losses`] on every batch), `[n]` in row order.
    ///
    /// # Errors
    /// Errors reading or computing a batch.
    fn losses(&mut self, w: &Tensor<2>, bias: &Tensor<1>) -> Result<Tensor<1>>;

    /// The `alpha`-weighted moments of `[H | Zt]` ([`batch_moments`] on every batch, merged),
    /// `Zt` again from the outputs `h_i W + bias`.
    ///
    /// # Errors
    /// Errors reading or computing a batch.
    fn moments(&mut self, w: &Tensor<2>, bias: &Tensor<1>, alpha: &Tensor<1>) -> Result<Moments>;
}

/// Step A on one batch: `Zt = Y + Y o max(Y o F - 1, 0)` for `F = H W + 1 bias^T`.
fn batch_targets(
    h: &Tensor<2>,
    y: &Tensor<2>,
    w: &Tensor<2>,
    bias: &Tensor<1>,
) -> (Tensor<2>, Tensor<2>) {
    let f = h.clone().matmul(w.clone()) + bias.clone().unsqueeze::<2>();
    let zt = slack_targets(y, slack(y, &f));
    (f, zt)
}

/// Per-sample losses of one batch (see [`DecisionInput::losses`]), `[b]`.
pub(crate) fn batch_losses(
    h: &Tensor<2>,
    y: &Tensor<2>,
    w: &Tensor<2>,
    bias: &Tensor<1>,
) -> Tensor<1> {
    let (f, zt) = batch_targets(h, y, w, bias);
    losses(f, &zt)
}

/// The `alpha`-weighted moments of `[H | Zt]` of one batch (`alpha`: the batch's `[b]` slice);
/// `None` if its weights are all 0.
///
/// # Errors
/// [`NgmnnError::NonFinite`] for NaN/inf.
pub(crate) fn batch_moments(
    h: &Tensor<2>,
    y: &Tensor<2>,
    w: &Tensor<2>,
    bias: &Tensor<1>,
    alpha: &Tensor<1>,
) -> Result<Option<Moments>> {
    let (_, zt) = batch_targets(h, y, w, bias);
    Moments::of_batch(h, &zt, Some(alpha))
}

/// The whole input resident as one batch.
struct Resident<'a> {
    h: &'a Tensor<2>,
    y: &'a Tensor<2>,
}

impl DecisionInput for Resident<'_> {
    fn device(&self) -> Device {
        self.h.device()
    }

    fn losses(&mut self, w: &Tensor<2>, bias: &Tensor<1>) -> Result<Tensor<1>> {
        Ok(batch_losses(self.h, self.y, w, bias))
    }

    fn moments(&mut self, w: &Tensor<2>, bias: &Tensor<1>, alpha: &Tensor<1>) -> Result<Moments> {
        batch_moments(self.h, self.y, w, bias, alpha)?.ok_or_else(zero_weights)
    }
}

pub(crate) fn zero_weights() -> NgmnnError {
    NgmnnError::Numerical {
        context: "decision layer",
        reason: "the sample weights alpha sum to 0".into(),
    }
}

/// An accepted round: its adaptive weights, `S`, `W` and `b` (host, f64).
type Round = (AdaptiveWeights, Mat<f64>, Mat<f64>, Vec<f64>);

/// `sum_i alpha_i ||W^T h_i + b - zt_i||^2` from the moments, for the optimal `b` (module docs).
fn weighted_loss(m: &Moments, w: &Mat<f64>) -> f64 {
    let hh_w = m.hh() * w;
    let zz = m.zz();
    let tr_zz: f64 = (0..zz.nrows()).map(|i| zz[(i, i)]).sum();
    trace_at_b(w, &hh_w) - 2.0 * trace_at_b(w, &m.hz()) + tr_zz
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
    let init_host = to_host(init.w.clone(), "decision-layer W")?;
    decision_layer_passes(&mut Resident { h, y }, init, &init_host, None, opts)
}

/// [`decision_layer`] on any [`DecisionInput`]; `init_host` is `init.w` on the host (the
/// tie-break reference of the first round), `first_losses` the losses at `init` if already
/// computed (the trainer gets them from its forward pass).
///
/// # Errors
/// As [`decision_layer`].
pub(crate) fn decision_layer_passes(
    input: &mut impl DecisionInput,
    init: &LayerParams,
    init_host: &Mat<f64>,
    first_losses: Option<Tensor<1>>,
    opts: &DecisionOptions,
) -> Result<DecisionOutcome> {
    if opts.max_iterations == 0 {
        return Err(NgmnnError::config(
            "decision_iterations",
            0,
            "must be at least 1",
        ));
    }
    let (device, dtype) = (input.device(), init.w.dtype());
    let mut params = init.clone();
    let mut first_losses = first_losses;
    let mut objectives = Vec::with_capacity(opts.max_iterations);
    let mut gram = MomentsProfile::default();
    let mut host_seconds = 0.0;
    // The last accepted round: its weights, S, W and b (host).
    let mut last: Option<Round> = None;
    for _ in 0..opts.max_iterations {
        let bias = if opts.fresh_bias {
            params.b.clone()
        } else {
            init.b.clone()
        };
        // A: slack and regression targets, and the per-sample losses they give.
        let losses = match first_losses.take() {
            Some(l) => l,
            None => input.losses(&params.w, &bias)?,
        };
        // B: adaptive sample weights (or, with `hold_lambda`, the exact minimiser for the
        // first round's lambda).
        let aw = match &last {
            Some((prev, ..)) if opts.hold_lambda && prev.lambda > 0.0 => AdaptiveWeights {
                alpha: simplex_weights(&losses, prev.lambda)?,
                ..prev.clone()
            },
            _ => adaptive_weights(&losses, opts.ratio, opts.alpha_index)?,
        };
        // C: W, b on the flexible Stiefel manifold, from the weighted moments of [H | Zt].
        let moments = input.moments(&params.w, &bias, &aw.alpha)?;
        gram = gram + moments.profile;
        let previous = match &last {
            Some((_, _, w, _)) => w,
            None => init_host,
        };
        let host = std::time::Instant::now();
        let step = stiefel_from_moments(&moments, opts.gamma, Some(previous), &device, dtype)?;
        host_seconds += host.elapsed().as_secs_f64();
        let alpha_sq = scalar(aw.alpha.clone().square().sum(), "decision-layer weights")?;
        let ridge = if opts.ridge_in_objective {
            opts.gamma * step.w.squared_norm_l2()
        } else {
            0.0
        };
        let objective = weighted_loss(&moments, &step.w) + aw.lambda * alpha_sq + ridge;
        if !objective.is_finite() {
            return Err(NgmnnError::NonFinite("decision-layer objective".into()));
        }
        let previous = objectives.last().copied();
        if opts.monotone && previous.is_some_and(|prev: f64| objective > prev) {
            break; // keep the previous round's W, b
        }
        params = step.params;
        objectives.push(objective);
        last = Some((aw, step.s, step.w, step.b));
        if previous.is_some_and(|prev| (prev - objective).abs() < opts.tolerance) {
            break;
        }
    }
    let (aw, s, w, b) = last.expect("at least one round ran");
    Ok(DecisionOutcome {
        params,
        objectives,
        lambda: aw.lambda,
        alpha: aw.alpha,
        s,
        w,
        b,
        gram,
        host_seconds,
    })
}
