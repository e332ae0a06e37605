//! What a fit reports (its form, gamma, parameters, best epoch, counts) and how it is
//! continued (targets and epochs of an earlier fit, writing into a model).

use faer::Mat;

use super::ClosedFormFit;
use crate::error::{NgmnnError, Result};
use crate::model::{LayerParams, Ngmnn};
use crate::solve::class_ridge::{ClassRidge, RidgeForm};
#[cfg(doc)]
use crate::train::ClosedFormConfig;

impl ClosedFormFit {
    /// The form of the lowest learned layer's ridge system: dual where its input is wider
    /// than the number of training rows, primal otherwise.
    pub fn base_form(&self) -> RidgeForm {
        self.base_system
            .as_ref()
            .map_or(RidgeForm::Primal, ClassRidge::form)
    }

    /// The ridge parameter of the lowest learned layer (fixed, or chosen by
    /// [`crate::train::GammaSelection::Gcv`] at the setup).
    pub fn base_gamma(&self) -> f64 {
        self.base_system
            .as_ref()
            .map_or(self.config.system_gamma(), ClassRidge::gamma)
    }

    /// The cross-validation scores behind [`ClosedFormFit::base_gamma`], when it was searched.
    pub fn gamma_search(&self) -> Option<&crate::solve::gamma_search::GammaSearch> {
        self.base_system.as_ref().and_then(ClassRidge::search)
    }

    /// The current parameters, bottom to top, in the fit's precision.
    pub fn params(&self) -> &[LayerParams] {
        &self.params
    }

    /// The epoch with the best validation accuracy so far (the earliest among ties), if
    /// validation data was given.
    pub fn best_epoch(&self) -> Option<usize> {
        self.best.as_ref().map(|(_, epoch, _)| *epoch)
    }

    /// Whether `config.patience` epochs have passed without a better validation accuracy.
    pub fn patience_exhausted(&self) -> bool {
        match (self.config.patience, &self.best) {
            (Some(patience), Some((_, best, _))) => self.epoch >= best + patience,
            _ => false,
        }
    }

    /// Copy the best validation epoch's parameters into `model` (the current ones without
    /// validation data).
    ///
    /// # Errors
    /// As [`ClosedFormFit::write_into`].
    pub fn write_best_into(&self, model: Ngmnn) -> Result<Ngmnn> {
        match &self.best {
            Some((_, _, params)) => model.with_layer_params(params),
            None => self.write_into(model),
        }
    }

    /// Epochs run so far.
    pub fn epochs_done(&self) -> usize {
        self.epoch
    }

    /// Training samples, and validation samples (for streamed validation data: as read by the
    /// last pass over it; `None` before one or without validation data).
    pub fn sample_counts(&self) -> (usize, Option<usize>) {
        let classes = self.counts.len();
        let valid = self
            .valid
            .as_ref()
            .and_then(|v| v.counts(classes).ok())
            .map(|c| c.iter().sum::<usize>())
            .filter(|&n| n > 0);
        (self.counts.iter().sum(), valid)
    }

    /// Passes over the training rows so far (setup included).
    pub fn passes(&self) -> usize {
        self.passes
    }

    /// The class targets `G` of the lowest learned layer's current weights (`W = P G`),
    /// row-major `c x q`: with [`ClosedFormFit::with_base_targets`], what makes a fit resumed
    /// from its model exact ([`ClosedFormConfig::projected_forward`]). `None` before the first
    /// epoch and without the projected forward pass.
    pub fn base_targets(&self) -> Option<Vec<f64>> {
        let g = self
            .base_targets
            .as_ref()
            .filter(|_| self.projection.is_some())?;
        Some(
            (0..g.nrows())
                .flat_map(|i| (0..g.ncols()).map(move |j| g[(i, j)]))
                .collect(),
        )
    }

    /// Resume with the lowest learned layer's targets `g` of the model's weights (as
    /// [`ClosedFormFit::base_targets`] gave them): the forward pass the next epoch starts from
    /// is run again through the projection, as the uninterrupted fit ran it. `None`: nothing to
    /// restore.
    ///
    /// # Errors
    /// [`NgmnnError::ShapeMismatch`] for targets of another shape; the pass's errors.
    pub fn with_base_targets(mut self, g: Option<Vec<f64>>) -> Result<Self> {
        let Some(g) = g else { return Ok(self) };
        if self.projection.is_none() {
            return Ok(self);
        }
        let (c, q) = (self.counts.len(), self.params[self.base].w.dims()[1]);
        if g.len() != c * q {
            return Err(NgmnnError::ShapeMismatch(format!(
                "base-layer targets of {} values for {c} classes x {q} units",
                g.len()
            )));
        }
        self.base_targets = Some(Mat::from_fn(c, q, |i, j| g[i * q + j]));
        self.refresh()?;
        Ok(self)
    }

    /// Continue the epoch numbering from `epochs` (resuming a fit from a checkpoint).
    pub fn with_epochs_done(mut self, epochs: usize) -> Self {
        self.epoch = epochs;
        self
    }

    /// Copy the current parameters into `model` (cast to the model's dtype, same param ids).
    ///
    /// # Errors
    /// [`NgmnnError::ShapeMismatch`] if `model` is not the fitted architecture.
    pub fn write_into(&self, model: Ngmnn) -> Result<Ngmnn> {
        model.with_layer_params(&self.params)
    }
}
