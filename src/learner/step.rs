//! The burn-train steps of [`Ngmnn`]: softmax cross-entropy on the decision layer's outputs
//! `Z_L` (the scores before row normalisation, which leaves the argmax unchanged). The stock
//! [`Learner`](burn::train::Learner) uses [`TrainStep`] for SGD/Adam; both trainers use
//! [`InferenceStep`] for the validation metrics.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Int, Tensor};
use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};

use super::ClassificationBatch;
use crate::model::Ngmnn;

/// Scores, their softmax cross-entropy against `targets`, and the targets: what burn-train's
/// accuracy and loss metrics read.
pub(crate) fn cross_entropy_output(
    logits: Tensor<2>,
    targets: Tensor<1, Int>,
) -> ClassificationOutput {
    let loss = CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits.clone(), targets.clone());
    ClassificationOutput {
        loss,
        output: logits,
        targets,
    }
}

impl Ngmnn {
    /// Decision-layer outputs `Z_L`, the cross-entropy loss against the batch's targets, and
    /// the targets: what burn-train's accuracy and loss metrics read.
    pub fn forward_classification(&self, batch: ClassificationBatch) -> ClassificationOutput {
        let logits = self.forward_activations(batch.inputs).logits;
        cross_entropy_output(logits, batch.targets)
    }
}

impl TrainStep for Ngmnn {
    type Input = ClassificationBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: ClassificationBatch) -> TrainOutput<ClassificationOutput> {
        let item = self.forward_classification(batch);
        TrainOutput::new(self, item.loss.backward(), item)
    }
}

impl InferenceStep for Ngmnn {
    type Input = ClassificationBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: ClassificationBatch) -> ClassificationOutput {
        self.forward_classification(batch)
    }
}
