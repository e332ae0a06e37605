//! A plain multilayer perceptron: ReLU hidden layers and a linear output trained with softmax
//! cross-entropy, the architecture gradient descent is usually given. `compare` runs it beside
//! the NGMNN-shaped network (sigmoid, row-normalised layers), so that a comparison does not
//! only pit the closed form against gradient descent on an architecture chosen for the former.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::activation::relu;
use burn::tensor::{DType, Device, Tensor, TensorData};
use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{ClassificationBatch, Classifier};
use crate::error::{NgmnnError, Result};

/// Architecture of an [`Mlp`].
#[derive(Config, Debug)]
pub struct MlpConfig {
    /// Input features.
    pub d_input: usize,
    /// Hidden widths (ReLU).
    pub hidden: Vec<usize>,
    /// Classes (output width).
    pub n_classes: usize,
    /// Seed of the initial weights.
    #[config(default = 0)]
    pub seed: u64,
}

impl MlpConfig {
    /// Build the network on `device`: weights uniform in `+-sqrt(6 / fan_in)` (He / Kaiming,
    /// for ReLU), biases zero, from a seeded host RNG (identical on every backend).
    ///
    /// # Errors
    /// [`NgmnnError::InvalidArchitecture`] for a zero width or fewer than two classes.
    pub fn init(&self, device: &Device) -> Result<Mlp> {
        let widths: Vec<usize> = std::iter::once(self.d_input)
            .chain(self.hidden.iter().copied())
            .chain(std::iter::once(self.n_classes))
            .collect();
        if widths.contains(&0) || self.n_classes < 2 {
            return Err(NgmnnError::InvalidArchitecture(format!(
                "MLP widths {widths:?}: every width must be positive and there must be at least \
                 2 classes"
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let layers = widths
            .windows(2)
            .map(|w| {
                let bound = (6.0 / w[0] as f32).sqrt();
                let weight: Vec<f32> = (0..w[0] * w[1])
                    .map(|_| rng.random_range(-bound..bound))
                    .collect();
                Linear {
                    weight: Param::from_tensor(Tensor::from_data(
                        TensorData::new(weight, [w[0], w[1]]),
                        device,
                    )),
                    bias: Some(Param::from_tensor(Tensor::zeros([w[1]], device))),
                }
            })
            .collect();
        Ok(Mlp { layers })
    }
}

/// ReLU hidden layers, linear output.
#[derive(Module, Debug)]
pub struct Mlp {
    /// Hidden layers, then the output layer.
    pub layers: Vec<Linear>,
}

impl Mlp {
    /// Class scores (logits) `[n, c]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        self.layers.iter().enumerate().fold(x, |h, (i, layer)| {
            let z = layer.forward(h);
            if i < last { relu(z) } else { z }
        })
    }

    fn classify(&self, batch: ClassificationBatch) -> ClassificationOutput {
        super::step::cross_entropy_output(self.forward(batch.inputs), batch.targets)
    }
}

impl TrainStep for Mlp {
    type Input = ClassificationBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: ClassificationBatch) -> TrainOutput<ClassificationOutput> {
        let item = self.classify(batch);
        TrainOutput::new(self, item.loss.backward(), item)
    }
}

impl InferenceStep for Mlp {
    type Input = ClassificationBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: ClassificationBatch) -> ClassificationOutput {
        self.classify(batch)
    }
}

impl Classifier for Mlp {
    fn scores(&self, x: Tensor<2>) -> Tensor<2> {
        self.forward(x)
    }

    fn inputs(&self) -> usize {
        self.layers[0].weight.dims()[0]
    }

    fn classes(&self) -> usize {
        self.layers[self.layers.len() - 1].weight.dims()[1]
    }

    fn device(&self) -> Device {
        self.layers[0].weight.device()
    }

    fn dtype(&self) -> DType {
        self.layers[0].weight.val().dtype()
    }
}
