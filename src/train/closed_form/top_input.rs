//! The decision layer's input for its solver (spec §3): the trainer's rows, passed through the
//! hidden layers when they are not kept.

use burn::tensor::{Device, Tensor};

use super::merge_moments;
use crate::error::{NgmnnError, Result};
use crate::model::{Activation, LayerParams};
use crate::solve::decision_layer::zero_weights;
use crate::solve::{
    decision_layer::{DecisionInput, batch_losses, batch_moments},
    moments::Moments,
};
use crate::train::rows::{BatchView, Rows};

/// The decision layer's input as the trainer's rows: `H_{L-1}` kept (resident) or recomputed
/// through the hidden layers (streamed) in every pass.
pub(super) struct TopInput<'a> {
    pub(super) rows: &'a mut Rows,
    pub(super) hidden: &'a [LayerParams],
    pub(super) activation: Activation,
    pub(super) device: Device,
    pub(super) passes: &'a mut usize,
}

impl DecisionInput for TopInput<'_> {
    fn device(&self) -> Device {
        self.device.clone()
    }

    fn losses(&mut self, w: &Tensor<2>, bias: &Tensor<1>) -> Result<Tensor<1>> {
        let kernel = |batch: &BatchView<'_>, h: &Tensor<2>| {
            let device = h.device();
            let losses = batch_losses(
                h,
                batch.y,
                &w.clone().to_device(&device),
                &bias.clone().to_device(&device),
            );
            Ok(vec![losses.to_device(&self.device)])
        };
        let concat = |mut a: Vec<Tensor<1>>, b: Vec<Tensor<1>>| {
            a.extend(b);
            a
        };
        let parts = self
            .rows
            .top_pass(self.hidden, self.activation, &kernel, &concat)?
            .ok_or_else(|| NgmnnError::data(None, "no training rows"))?;
        *self.passes += 1;
        Ok(Tensor::cat(parts, 0))
    }

    fn moments(&mut self, w: &Tensor<2>, bias: &Tensor<1>, alpha: &Tensor<1>) -> Result<Moments> {
        let n = alpha.dims()[0];
        let kernel = |batch: &BatchView<'_>, h: &Tensor<2>| {
            let device = h.device();
            let rows = h.dims()[0];
            if batch.offset + rows > n {
                return Err(NgmnnError::data(
                    None,
                    format!(
                        "the training source yielded more than the {n} rows of the previous \
                         pass: a streamed source must be re-readable with the same rows"
                    ),
                ));
            }
            let alpha = alpha
                .clone()
                .slice(batch.offset..batch.offset + rows)
                .to_device(&device);
            batch_moments(
                h,
                batch.y,
                &w.clone().to_device(&device),
                &bias.clone().to_device(&device),
                &alpha,
            )
        };
        let merged = self
            .rows
            .top_pass(self.hidden, self.activation, &kernel, &merge_moments)?;
        *self.passes += 1;
        merged.flatten().ok_or_else(zero_weights)
    }
}
