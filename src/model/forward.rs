//! The forward pass, shared by the module ([`crate::model::Ngmnn::forward`]) and the trainer.
//!
//! ```text
//! Z_l = H_{l-1} W_l + 1 b_l^T
//! H_l = rownorm(sigma(Z_l))        l < L
//! output = rownorm(Z_L)            prediction = argmax per row
//! rownorm(h) = h / max(||h||_2, 1e-12)
//! ```

use burn::tensor::Tensor;

use super::Activation;

/// Row-normalisation eps of the reference (spec §5).
pub const ROWNORM_EPS: f64 = 1e-12;

/// Weight and bias of one layer as plain tensors (`W: [d_in, d_out]`, `b: [d_out]`).
#[derive(Debug, Clone)]
pub struct LayerParams {
    /// `[d_in, d_out]`.
    pub w: Tensor<2>,
    /// `[d_out]`.
    pub b: Tensor<1>,
}

impl LayerParams {
    /// The same parameters in `dtype`.
    pub fn cast(&self, dtype: burn::tensor::DType) -> Self {
        Self {
            w: self.w.clone().cast(dtype),
            b: self.b.clone().cast(dtype),
        }
    }

    /// The same parameters on `device` (a no-op when they are there already).
    pub fn on_device(&self, device: &burn::tensor::Device) -> Self {
        Self {
            w: self.w.clone().to_device(device),
            b: self.b.clone().to_device(device),
        }
    }

    /// `H W + 1 b^T`.
    pub fn affine(&self, h: Tensor<2>) -> Tensor<2> {
        h.matmul(self.w.clone()) + self.b.clone().unsqueeze::<2>()
    }
}

/// Everything the trainer needs from one forward pass.
#[derive(Debug, Clone)]
pub struct Activations {
    /// The input of every layer: `H_0 = X, H_1, .., H_{L-1}`.
    pub inputs: Vec<Tensor<2>>,
    /// The decision layer's pre-activation `Z_L` (`[n, c]`); `rownorm(Z_L)` is the output.
    pub logits: Tensor<2>,
}

/// Divide each row by `max(its L2 norm, 1e-12)`.
pub fn row_normalize(h: Tensor<2>) -> Tensor<2> {
    let norm = h.clone().square().sum_dim(1).sqrt().clamp_min(ROWNORM_EPS);
    h / norm
}

/// Run the network, keeping every layer's input.
///
/// # Shapes
/// `x`: `[n, d_0]`; `layers[l].w`: `[d_l, d_{l+1}]`. Returns `inputs[l]`: `[n, d_l]` for
/// `l < L` and `logits`: `[n, d_L]`.
pub fn forward_layers(x: Tensor<2>, layers: &[LayerParams], activation: Activation) -> Activations {
    forward_rest(Vec::with_capacity(layers.len()), x, layers, activation)
}

/// `h` through `layers` (their hidden ones, then the last), each layer's input appended to
/// `inputs`.
fn forward_rest(
    mut inputs: Vec<Tensor<2>>,
    mut h: Tensor<2>,
    layers: &[LayerParams],
    activation: Activation,
) -> Activations {
    let (last, hidden) = layers
        .split_last()
        .expect("an NGMNN has at least one layer");
    for layer in hidden {
        let next = row_normalize(activation.forward(layer.affine(h.clone())));
        inputs.push(h);
        h = next;
    }
    let logits = last.affine(h.clone());
    inputs.push(h);
    Activations { inputs, logits }
}

/// [`forward_layers`] from layer `first`'s pre-activation `z` (`[n, d_{first+1}]`), given by
/// the caller, through `layers[first..]`'s activation and the layers above. The inputs of the
/// layers below (`inputs[..=first]`) are not computed: they are empty (`[0, d_l]`) tensors.
pub fn forward_from(
    z: Tensor<2>,
    first: usize,
    layers: &[LayerParams],
    activation: Activation,
) -> Activations {
    let device = z.device();
    let inputs: Vec<Tensor<2>> = layers[..=first]
        .iter()
        .map(|l| Tensor::zeros([0, l.w.dims()[0]], (&device, z.dtype())))
        .collect();
    if first == layers.len() - 1 {
        return Activations { inputs, logits: z };
    }
    let h = row_normalize(activation.forward(z));
    forward_rest(inputs, h, &layers[first + 1..], activation)
}
