//! What the gradient baseline trains: any burn-train model whose steps take
//! [`ClassificationBatch`]es and give class scores. [`Ngmnn`] (the same architecture as the
//! closed form) and [`super::Mlp`] (a plain ReLU network) are the two `compare` offers.

use burn::tensor::{DType, Device, Tensor};
use burn::train::{ClassificationOutput, InferenceStep, LearnerModel, TrainStep};

use super::ClassificationBatch;
use crate::data::LabeledData;
use crate::error::{NgmnnError, Result};
use crate::model::Ngmnn;

/// A classifier trained by [`super::GradientTrainer`].
pub trait Classifier:
    LearnerModel
    + TrainStep<Input = ClassificationBatch, Output = ClassificationOutput>
    + InferenceStep<Input = ClassificationBatch, Output = ClassificationOutput>
{
    /// Class scores `[n, c]` of the rows of `x` (`[n, d]`).
    fn scores(&self, x: Tensor<2>) -> Tensor<2>;
    /// Input features `d`.
    fn inputs(&self) -> usize;
    /// Classes `c`.
    fn classes(&self) -> usize;
    /// The device its parameters live on.
    fn device(&self) -> Device;
    /// Its parameters' float type.
    fn dtype(&self) -> DType;

    /// The predicted class of every row of `data`.
    ///
    /// # Errors
    /// As [`Classifier::check_fits`]; [`NgmnnError::Numerical`] if the predictions cannot be
    /// read back.
    fn predict_rows(&self, data: &LabeledData) -> Result<Vec<usize>> {
        if data.d() != self.inputs() {
            return Err(NgmnnError::ShapeMismatch(format!(
                "the data has {} features but the model expects {}",
                data.d(),
                self.inputs()
            )));
        }
        let x = data.features_tensor(&self.device(), self.dtype());
        let pred = self
            .scores(x)
            .argmax(1)
            .into_data()
            .try_into_vec_as::<i64>();
        let pred = pred.map_err(|e| NgmnnError::Numerical {
            context: "predict",
            reason: format!("reading predictions: {e:?}"),
        })?;
        Ok(pred.into_iter().map(|p| p as usize).collect())
    }

    /// Check that `data` fits the model.
    ///
    /// # Errors
    /// [`NgmnnError::ShapeMismatch`] for another feature or class count.
    fn check_fits(&self, data: &LabeledData, what: &str) -> Result<()> {
        if data.d() != self.inputs() || data.n_classes() != self.classes() {
            return Err(NgmnnError::ShapeMismatch(format!(
                "{what} data has {} features and {} classes, the model {} inputs and {} outputs",
                data.d(),
                data.n_classes(),
                self.inputs(),
                self.classes()
            )));
        }
        Ok(())
    }
}

impl Classifier for Ngmnn {
    fn scores(&self, x: Tensor<2>) -> Tensor<2> {
        self.forward_activations(x).logits
    }

    fn inputs(&self) -> usize {
        self.d_input()
    }

    fn classes(&self) -> usize {
        self.n_classes()
    }

    fn device(&self) -> Device {
        self.decision.weight.device()
    }

    fn dtype(&self) -> DType {
        Ngmnn::dtype(self)
    }
}
