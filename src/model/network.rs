//! [`Ngmnn`]: the fully connected classifier as a Burn module, and its config.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Activation, Activations, LayerParams, forward_layers, row_normalize};
use crate::error::{NgmnnError, Result};

/// Configuration of an [`Ngmnn`]: layer widths, activation, initialisation seed.
///
/// Layer widths are `d_0 = d_input, hidden.., d_L = n_classes`.
///
/// # Example
/// ```
/// use ngmnn::model::NgmnnConfig;
/// let config = NgmnnConfig::new(64, vec![32], 10).with_seed(7);
/// assert!(config.check().is_ok());
/// ```
#[derive(Config, Debug)]
pub struct NgmnnConfig {
    /// Input dimension `d_0`.
    pub d_input: usize,
    /// Widths of the hidden ("latent") layers `d_1 .. d_{L-1}`.
    pub hidden: Vec<usize>,
    /// Number of classes `c = d_L`.
    pub n_classes: usize,
    /// The invertible activation of the hidden layers.
    #[config(default = "Activation::Sigmoid")]
    pub activation: Activation,
    /// Seed of the uniform initialisation (spec "Layout").
    #[config(default = 0)]
    pub seed: u64,
}

impl NgmnnConfig {
    /// Validate the architecture.
    ///
    /// # Errors
    /// [`NgmnnError::InvalidArchitecture`] if `d_input` or any width is zero, there is no
    /// hidden layer, fewer than two classes, or the last hidden width is smaller than the
    /// number of classes (then `W^T S W = I` is infeasible, spec "Layout").
    pub fn check(&self) -> Result<()> {
        let bad = |msg: String| Err(NgmnnError::InvalidArchitecture(msg));
        if self.d_input == 0 {
            return bad("input dimension d_input is 0".into());
        }
        if self.n_classes < 2 {
            return bad(format!(
                "n_classes = {}: a classifier needs at least 2 classes",
                self.n_classes
            ));
        }
        let Some(&last) = self.hidden.last() else {
            return bad(
                "no hidden layer: an NGMNN needs at least one latent layer (e.g. hidden = [64])"
                    .into(),
            );
        };
        if let Some(i) = self.hidden.iter().position(|&w| w == 0) {
            return bad(format!("hidden layer {} has width 0", i + 1));
        }
        if last < self.n_classes {
            return bad(format!(
                "last hidden width {last} < n_classes {}: the decision layer's constraint \
                 W^T S W = I needs d_(L-1) >= c",
                self.n_classes
            ));
        }
        Ok(())
    }

    /// Weights and biases of all layers; `None` on overflow.
    pub fn n_params(&self) -> Option<u64> {
        self.widths().windows(2).try_fold(0u64, |acc, w| {
            let (a, b) = (w[0] as u64, w[1] as u64);
            a.checked_mul(b)?.checked_add(b)?.checked_add(acc)
        })
    }

    /// All widths `d_0, .., d_L`.
    pub fn widths(&self) -> Vec<usize> {
        let mut w = Vec::with_capacity(self.hidden.len() + 2);
        w.push(self.d_input);
        w.extend_from_slice(&self.hidden);
        w.push(self.n_classes);
        w
    }

    /// Build the network on `device`, every `W_l`, `b_l` uniform in `(-1/sqrt(d_l), 1/sqrt(d_l))`
    /// from a seeded host RNG (so the initial model is identical on every backend).
    ///
    /// # Errors
    /// As [`NgmnnConfig::check`]; [`NgmnnError::OutOfMemory`] for more parameters than the
    /// memory available.
    pub fn init(&self, device: &Device) -> Result<Ngmnn> {
        self.check()?;
        // The f32 values are drawn on the host, then uploaded: two copies at most.
        let params = self.n_params().unwrap_or(u64::MAX);
        crate::memory::ensure_fits(
            params.saturating_mul(8),
            None,
            &format!(
                "the model's {params} parameters (widths {:?})",
                self.widths()
            ),
            "narrow the hidden layers (--hidden)",
        )?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let widths = self.widths();
        let mut layers: Vec<Linear> = widths
            .windows(2)
            .map(|w| {
                let (d_in, d_out) = (w[0], w[1]);
                let bound = 1.0 / (d_out as f32).sqrt();
                let mut draw = |len: usize| -> Vec<f32> {
                    (0..len).map(|_| rng.random_range(-bound..bound)).collect()
                };
                let weight = draw(d_in * d_out);
                let bias = draw(d_out);
                Linear {
                    weight: Param::from_tensor(Tensor::from_data(
                        TensorData::new(weight, [d_in, d_out]),
                        device,
                    )),
                    bias: Some(Param::from_tensor(Tensor::from_data(
                        TensorData::new(bias, [d_out]),
                        device,
                    ))),
                }
            })
            .collect();
        let decision = layers.pop().expect("at least two widths");
        Ok(Ngmnn {
            hidden: layers,
            decision,
            activation: self.activation,
        })
    }
}

/// The Non-Gradient Manifold Neural Network: hidden [`Linear`] layers with a row-normalised
/// invertible activation, and a linear decision layer whose row-normalised output is the score.
///
/// # Shapes
/// input `[n, d_0]` -> output `[n, c]`.
#[derive(Module, Debug)]
pub struct Ngmnn {
    /// The hidden ("latent") layers, `l = 1 .. L-1`.
    pub hidden: Vec<Linear>,
    /// The decision layer `L`.
    pub decision: Linear,
    /// The activation of the hidden layers.
    #[module(skip)]
    pub activation: Activation,
}

impl Ngmnn {
    /// `rownorm(Z_L)`: the scores, `[n, c]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        row_normalize(self.forward_activations(x).logits)
    }

    /// The forward pass keeping every layer's input (what the closed-form solvers need).
    /// `x` is cast to the model's dtype (an f64 fit gives an f64 model; inputs may be f32).
    pub fn forward_activations(&self, x: Tensor<2>) -> Activations {
        let x = x.cast(self.dtype());
        forward_layers(x, &self.layer_params(), self.activation)
    }

    /// Check a module that may have been built by hand: at least one hidden layer, a bias on
    /// every layer (the closed forms solve one), widths that chain, and a last hidden width of
    /// at least the number of classes (spec "Layout").
    ///
    /// # Errors
    /// [`NgmnnError::InvalidArchitecture`] naming the first problem.
    pub fn check(&self) -> Result<()> {
        let bad = |msg: String| Err(NgmnnError::InvalidArchitecture(msg));
        if self.hidden.is_empty() {
            return bad("no hidden layer: an NGMNN needs at least one latent layer".into());
        }
        let layers: Vec<&Linear> = self.all_layers().collect();
        for (i, layer) in layers.iter().enumerate() {
            if layer.bias.is_none() {
                return bad(format!(
                    "layer {} has no bias: the closed-form solutions include one (build the \
                     Linear with a bias)",
                    i + 1
                ));
            }
        }
        for (i, pair) in layers.windows(2).enumerate() {
            let (out, next_in) = (pair[0].weight.dims()[1], pair[1].weight.dims()[0]);
            if out != next_in {
                return bad(format!(
                    "layer {} has {out} outputs but layer {} takes {next_in} inputs",
                    i + 1,
                    i + 2
                ));
            }
        }
        let last = self.decision.weight.dims()[0];
        if last < self.n_classes() {
            return bad(format!(
                "last hidden width {last} < n_classes {}: the decision layer's constraint \
                 W^T S W = I needs d_(L-1) >= c",
                self.n_classes()
            ));
        }
        Ok(())
    }

    /// The dtype of the parameters: f32 as initialised, the fit's precision after a
    /// closed-form fit.
    pub fn dtype(&self) -> burn::tensor::DType {
        self.decision.weight.val().dtype()
    }

    /// Predicted class per row, `[n]`.
    pub fn predict(&self, x: Tensor<2>) -> Tensor<1, Int> {
        self.forward_activations(x).logits.argmax(1).squeeze_dim(1)
    }

    /// Predicted class index for every row of `data` (uploaded in the model's dtype).
    ///
    /// # Errors
    /// [`NgmnnError::ShapeMismatch`] if `data` has another number of features.
    pub fn predict_dataset(&self, data: &crate::data::LabeledData) -> Result<Vec<usize>> {
        if data.d() != self.d_input() {
            return Err(NgmnnError::ShapeMismatch(format!(
                "the data has {} features but the model expects {}",
                data.d(),
                self.d_input()
            )));
        }
        let device = self.decision.weight.device();
        let x = data.features_tensor(&device, self.decision.weight.val().dtype());
        let pred = self.predict(x).into_data().try_into_vec_as::<i64>();
        let pred = pred.map_err(|e| NgmnnError::Numerical {
            context: "predict",
            reason: format!("reading predictions: {e:?}"),
        })?;
        Ok(pred.into_iter().map(|p| p as usize).collect())
    }

    /// Input dimension `d_0`.
    pub fn d_input(&self) -> usize {
        self.all_layers()
            .next()
            .expect("at least one layer")
            .weight
            .dims()[0]
    }

    /// Number of classes `c`.
    pub fn n_classes(&self) -> usize {
        self.decision.weight.dims()[1]
    }

    /// Number of layers `L` (hidden layers + the decision layer).
    pub fn n_layers(&self) -> usize {
        self.hidden.len() + 1
    }

    fn all_layers(&self) -> impl Iterator<Item = &Linear> {
        self.hidden.iter().chain(std::iter::once(&self.decision))
    }

    /// The weights and biases of all layers, bottom to top, as plain tensors.
    pub fn layer_params(&self) -> Vec<LayerParams> {
        self.all_layers()
            .map(|l| LayerParams {
                w: l.weight.val(),
                b: l.bias
                    .as_ref()
                    .map(|b| b.val())
                    .unwrap_or_else(|| Tensor::zeros([l.weight.dims()[1]], &l.weight.device())),
            })
            .collect()
    }

    /// Replace all weights and biases, keeping each parameter's id (so burn-train checkpoints
    /// and optimizers keep tracking them); the parameters take the dtype of `params`.
    ///
    /// # Errors
    /// [`NgmnnError::ShapeMismatch`] if the number of layers or a shape differs.
    pub fn with_layer_params(mut self, params: &[LayerParams]) -> Result<Self> {
        if params.len() != self.n_layers() {
            return Err(NgmnnError::ShapeMismatch(format!(
                "{} layer parameter sets for a {}-layer network",
                params.len(),
                self.n_layers()
            )));
        }
        for (layer, p) in self.all_layers().zip(params) {
            let (wd, bd) = (layer.weight.dims(), [layer.weight.dims()[1]]);
            if p.w.dims() != wd || p.b.dims() != bd {
                return Err(NgmnnError::ShapeMismatch(format!(
                    "layer expects W {wd:?}, b {bd:?}; got W {:?}, b {:?}",
                    p.w.dims(),
                    p.b.dims()
                )));
            }
        }
        let (decision_params, hidden_params) = params.split_last().expect("checked above");
        self.hidden = self
            .hidden
            .into_iter()
            .zip(hidden_params)
            .map(|(layer, p)| set_linear(layer, p))
            .collect();
        self.decision = set_linear(self.decision, decision_params);
        Ok(self)
    }
}

/// Set a [`Linear`]'s weight and bias in place (same `ParamId`s), in the dtype of `p`: an f64
/// fit gives an f64 module, so what is saved, resumed and measured is what was solved.
fn set_linear(layer: Linear, p: &LayerParams) -> Linear {
    let (w, b) = (p.w.clone(), p.b.clone());
    Linear {
        weight: layer.weight.map(|_| w),
        bias: layer.bias.map(|bias| bias.map(|_| b)),
    }
}
