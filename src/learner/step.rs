//! The burn-train steps of [`Ngmnn`]: softmax cross-entropy on the decision layer's outputs
//! `Z_L` (the scores before row normalisation, which leaves the argmax unchanged). The stock
//! [`Learner`](burn::train::Learner) uses [`TrainStep`] for SGD/Adam; both trainers use
//! [`InferenceStep`] for the validation metrics.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};

use super::ClassificationBatch;
use crate::model::Ngmnn;

impl Ngmnn {
    /// Decision-layer outputs `Z_L`, the cross-entropy loss against the batch's targets, and
    /// the targets: what burn-train's accuracy and loss metrics read.
    pub fn forward_classification(&self, batch: ClassificationBatch) -> ClassificationOutput {
        let logits = self.forward_activations(batch.inputs).logits;
        let loss = CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits.clone(), batch.targets.clone());
        ClassificationOutput {
            loss,
            output: logits,
            targets: batch.targets,
        }
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
