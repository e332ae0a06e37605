//! The fit's forward pass over the training rows: the predictions' tally, the moments of the
//! learned layers' inputs and the decision layer's losses, in one pass; the lowest learned
//! layer by its class projection.

use burn::tensor::{Int, Tensor};

use super::ClosedFormFit;
use crate::error::{NgmnnError, Result};
use crate::linalg::to_host_vec;
use crate::model::Activations;
use crate::solve::{decision_layer::batch_losses, moments::Moments};
use crate::train::rows::{BatchView, Shortcut};

/// A forward pass's partial result: the predictions' tally, per-layer moments, the losses.
type Partial = (Predictions, Vec<Option<Moments>>, Vec<Tensor<1>>);

/// Merge two optional partial moments (in row order).
pub(super) fn merge_moments(a: Option<Moments>, b: Option<Moments>) -> Option<Moments> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.merge(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// What a forward pass gathers.
pub(super) struct Forwarded {
    pub(super) predictions: Predictions,
    /// Moments of `[H_l | Y]` for `l = first .. L-1`.
    pub(super) moments: Vec<Moments>,
    pub(super) losses: Tensor<1>,
}

impl ClosedFormFit {
    /// A forward pass with the current parameters: correct predictions, the moments of
    /// `[H_l | Y]` for the learned layers' inputs `l = base+1 .. L-2` (from `l = base` with
    /// `with_input`), the decision layer's losses at its current parameters; the resident
    /// rows keep `H_{L-1}`.
    pub(super) fn forward_pass(&mut self, with_input: bool) -> Result<Forwarded> {
        let top = self.params.len() - 1;
        let first = self.base + usize::from(!with_input);
        let decision = &self.params[top];
        let device = self.device.clone();
        let kernel = |batch: &BatchView<'_>, acts: &Activations| -> Result<Partial> {
            let local = batch.x.device();
            let predictions = Predictions::of(acts.logits.clone(), batch.labels)?;
            let moments = (first..top)
                .map(|l| Moments::of_batch(&acts.inputs[l], batch.y, None))
                .collect::<Result<Vec<_>>>()?;
            let losses = batch_losses(
                &acts.inputs[top],
                batch.y,
                &decision.w.clone().to_device(&local),
                &decision.b.clone().to_device(&local),
            );
            Ok((predictions, moments, vec![losses.to_device(&device)]))
        };
        let merge = |a: Partial, b: Partial| -> Partial {
            let moments =
                a.1.into_iter()
                    .zip(b.1)
                    .map(|(x, y)| merge_moments(x, y))
                    .collect();
            let mut losses = a.2;
            losses.extend(b.2);
            (a.0.merge(b.0), moments, losses)
        };
        let shortcut = if with_input { None } else { self.shortcut()? };
        let (predictions, moments, losses) = self
            .rows
            .forward_pass(
                &self.params,
                self.activation,
                shortcut.as_ref(),
                &self.steps,
                &kernel,
                &merge,
            )?
            .ok_or_else(|| NgmnnError::data(None, "no training rows"))?;
        self.passes += 1;
        let moments = moments
            .into_iter()
            .map(|m| m.ok_or_else(|| NgmnnError::data(None, "no training rows")))
            .collect::<Result<Vec<_>>>()?;
        Ok(Forwarded {
            predictions,
            moments,
            losses: Tensor::cat(losses, 0),
        })
    }

    /// The lowest learned layer through its projection, for the current parameters (`None`
    /// before its first solve and with the proximal ridge).
    pub(super) fn shortcut(&self) -> Result<Option<Shortcut>> {
        let (Some((p, a)), Some(g)) = (&self.projection, &self.base_targets) else {
            return Ok(None);
        };
        Ok(Some(Shortcut {
            base: self.base,
            p: p.clone(),
            a: a.clone(),
            g: crate::linalg::from_host(g, &self.device, self.dtype),
        }))
    }
}

/// The tally of `argmax(logits)` over some rows: how many match their labels, and the
/// smallest and largest class predicted (equal when every row gets one class: a degenerate
/// model).
#[derive(Debug, Clone, Copy)]
pub(super) struct Predictions {
    pub(super) correct: f64,
    lowest: f64,
    highest: f64,
}

impl Predictions {
    /// The tally of one batch, computed on the device and read in one host transfer.
    pub(super) fn of(logits: Tensor<2>, labels: &Tensor<1, Int>) -> Result<Self> {
        let pred = logits.argmax(1).squeeze_dim::<1>(1);
        let correct = pred.clone().equal(labels.clone()).float().sum();
        let pred = pred.float();
        let read = to_host_vec(
            Tensor::cat(vec![correct, pred.clone().min(), pred.max()], 0),
            "accuracy",
        )?;
        Ok(Self {
            correct: read[0],
            lowest: read[1],
            highest: read[2],
        })
    }

    /// Both tallies together.
    fn merge(self, other: Self) -> Self {
        Self {
            correct: self.correct + other.correct,
            lowest: self.lowest.min(other.lowest),
            highest: self.highest.max(other.highest),
        }
    }

    /// Every row got the same class.
    pub(super) fn one_class(&self) -> bool {
        self.lowest == self.highest
    }
}

/// Accuracy of `argmax` of `logits` against `labels`, computed on the device.
#[cfg(feature = "train")]
pub(crate) fn accuracy(logits: Tensor<2>, labels: &Tensor<1, Int>) -> Result<f64> {
    Ok(Predictions::of(logits, labels)?.correct / labels.dims()[0] as f64)
}
