//! What the closed-form strategy needs from a model: an NGMNN head, and the features and labels
//! of a training batch as the head sees them. [`Ngmnn`] itself is such a model (its batches are
//! [`ClassificationBatch`]es); a user's model with its own batch type, e.g. a frozen feature
//! extractor followed by an NGMNN head, implements the three methods.

use burn::tensor::{Int, Tensor};
use burn::train::TrainStep;

use super::ClassificationBatch;
use crate::model::Ngmnn;

/// A model whose last part is an [`Ngmnn`] head fitted in closed form by
/// [`super::ClosedFormStrategy`]; everything before the head is frozen (not trained by the
/// strategy). Its inference step must take the training step's batches and give its outputs
/// (burn-train's training metrics are computed with it).
pub trait ClosedFormModel: TrainStep + Clone + Sized {
    /// The head's input `[n, d]` (the features after any frozen layers) and the class indices
    /// `[n]` of a training batch.
    fn head_inputs(&self, batch: &<Self as TrainStep>::Input) -> (Tensor<2>, Tensor<1, Int>);

    /// The NGMNN head.
    fn head(&self) -> &Ngmnn;

    /// This model with `head` in place of its head.
    fn with_head(self, head: Ngmnn) -> Self;
}

impl ClosedFormModel for Ngmnn {
    fn head_inputs(&self, batch: &ClassificationBatch) -> (Tensor<2>, Tensor<1, Int>) {
        (batch.inputs.clone(), batch.targets.clone())
    }

    fn head(&self) -> &Ngmnn {
        self
    }

    fn with_head(self, head: Ngmnn) -> Self {
        head
    }
}
