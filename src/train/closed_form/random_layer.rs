//! The broad preset's frozen random first layer, scaled to the data at the start of a fit
//! ([`crate::solve::random_features`]): directions masked to receptive fields for images or
//! divided by the features' spread for tabular data, then each unit scaled and offset from the
//! moments of its projections (two passes over the inputs).

use burn::tensor::Tensor;

use super::ClosedFormFit;
use crate::error::{NgmnnError, Result};
use crate::linalg::{from_host, from_host_vec, to_host, to_host_vec};
use crate::model::LayerParams;
use crate::solve::random_features::{
    ColumnMoments, RandomScale, feature_factors, mask_receptive_fields, unit_scaling,
};
use crate::train::rows::BatchView;

impl ClosedFormFit {
    /// Scale the frozen random first layer to the data (one pass over the inputs for the
    /// moments of their random projections; [`unit_scaling`]). The `d x r` layer stays on the
    /// device: the scalings are diagonal, applied there in place where the backend can.
    pub(super) fn scale_random_layer(&mut self) -> Result<()> {
        let (device, dtype) = (self.device.clone(), self.dtype);
        let [d, width] = self.params[0].w.dims();
        let u = to_host_vec(self.params[0].b.clone(), "random-layer offsets")?;
        // Owned (not shared with `params`), so that the products below may reuse its memory.
        let r = std::mem::replace(
            &mut self.params[0].w,
            Tensor::zeros([1, 1], (&device, dtype)),
        );
        let directions = if let Some(shape) = self.config.image_shape {
            if shape[0].checked_mul(shape[1]) != Some(d) {
                return Err(NgmnnError::config(
                    "image_shape",
                    format!("{}x{} for {d} input features", shape[0], shape[1]),
                    "height x width must be the number of input features",
                ));
            }
            let mut r = to_host(r, "random directions")?;
            // Seeded by the layer's initial weights, so the rectangles follow the model's seed.
            let seed = r[(0, 0)].to_bits() ^ u[0].to_bits().rotate_left(17);
            mask_receptive_fields(&mut r, shape, seed);
            from_host(&r, &device, dtype)
        } else {
            // Tabular features: in their own units, which may differ by orders of magnitude.
            let features = self.input_moments(None)?;
            let f = from_host_vec(&feature_factors(&features), &device, dtype);
            r * f.reshape([d, 1])
        };
        let moments = self.input_moments(Some(directions.clone()))?;
        let bound = 1.0 / (width as f64).sqrt();
        let u: Vec<f64> = u.iter().map(|v| v / bound).collect();
        let how = RandomScale {
            scale: self.config.random_scale,
            offset: self.config.random_offset,
        };
        let (factor, b) = unit_scaling(&u, &moments, how);
        let factor = from_host_vec(&factor, &device, dtype).reshape([1, width]);
        self.params[0] = LayerParams {
            w: directions * factor,
            b: from_host_vec(&b, &device, dtype),
        };
        Ok(())
    }

    /// One pass over the inputs: the column moments of `X` (`directions` `None`) or of the
    /// projections `X R`.
    fn input_moments(&mut self, directions: Option<Tensor<2>>) -> Result<ColumnMoments> {
        let kernel = |_: &BatchView<'_>, x: &Tensor<2>| match &directions {
            Some(r) => ColumnMoments::of_batch(&x.clone().matmul(r.clone().to_device(&x.device()))),
            None => ColumnMoments::of_batch(x),
        };
        let merge = |a: ColumnMoments, b: ColumnMoments| a.merge(b);
        let moments = self
            .rows
            .top_pass(&[], self.activation, &kernel, &merge)?
            .ok_or_else(|| NgmnnError::data(None, "no training rows"))?;
        self.passes += 1;
        Ok(moments)
    }
}
