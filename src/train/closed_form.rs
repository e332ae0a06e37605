//! The closed-form trainer: the training loop of spec §4.
//!
//! ```text
//! forward pass on the training set, keeping every layer's input H_0 .. H_{L-1}
//! for epoch in 1..=T:
//!     update the decision layer (§3) on H_{L-1}
//!     for l = L-1 down to 1:                    # top-down
//!         T_l = backward targets (§2) through the already-updated layers above
//!         W_l, b_l = ridge (§1) from H_{l-1} to T_l
//!     forward pass: training metrics, and the activations of the next epoch
//! ```
//! Top-down order means the input of the layer being solved depends only on layers not yet
//! updated in this epoch, so the stored activations are current for it. Layer 1's input is the
//! data, so its Gram matrix and factorisation are computed once per fit ([`RidgeSystem`]); the
//! backward targets are walked down incrementally, one step per layer. The forward pass that
//! measures an epoch's training accuracy is the next epoch's forward pass.

use std::time::Instant;

use burn::tensor::{DType, Int, Tensor};

use super::{ClosedFormConfig, EpochRecord, History};
use crate::data::Dataset;
use crate::error::{NgmnnError, Result};
use crate::linalg::scalar;
use crate::model::{Activation, Activations, LayerParams, Ngmnn, forward_layers};
use crate::solve::adaptive_weights::MIN_SAMPLES;
use crate::solve::{DecisionOptions, RidgeSystem, backward_step_counted, decision_layer, ridge};

/// The closed-form NGMNN trainer. Build it with [`ClosedFormConfig::init`].
#[derive(Debug, Clone)]
pub struct ClosedForm {
    config: ClosedFormConfig,
}

impl ClosedForm {
    pub(crate) fn new(config: ClosedFormConfig) -> Self {
        Self { config }
    }

    /// The trainer's configuration.
    pub fn config(&self) -> &ClosedFormConfig {
        &self.config
    }

    /// Fit `model` to `train` for `config.epochs` epochs, measuring `valid` after each.
    ///
    /// Returns the model after the last epoch and the per-epoch history.
    ///
    /// # Errors
    /// [`NgmnnError::ShapeMismatch`] if the data does not fit the model, [`NgmnnError::InvalidData`]
    /// for too few samples or classes, and the solvers' numerical errors.
    pub fn fit(
        &self,
        model: Ngmnn,
        train: &Dataset,
        valid: Option<&Dataset>,
    ) -> Result<(Ngmnn, History)> {
        self.fit_with(model, train, valid, |_| {})
    }

    /// As [`ClosedForm::fit`], calling `on_epoch` after every epoch (progress display).
    ///
    /// # Errors
    /// As [`ClosedForm::fit`].
    pub fn fit_with(
        &self,
        model: Ngmnn,
        train: &Dataset,
        valid: Option<&Dataset>,
        mut on_epoch: impl FnMut(&EpochRecord),
    ) -> Result<(Ngmnn, History)> {
        let start = Instant::now();
        let mut fit = ClosedFormFit::new(self.config.clone(), &model, train, valid)?;
        let mut history = History {
            setup_seconds: start.elapsed().as_secs_f64(),
            epochs: Vec::with_capacity(self.config.epochs),
        };
        for _ in 0..self.config.epochs {
            let record = fit.epoch()?;
            on_epoch(&record);
            history.epochs.push(record);
        }
        Ok((fit.write_into(model)?, history))
    }
}

/// A fit in progress: the data on the device, the current parameters (in the fit's precision)
/// and the activations of the current parameters. [`ClosedForm::fit`] drives it; it is public
/// for callers that drive epochs themselves (e.g. a training-loop integration).
#[derive(Debug)]
pub struct ClosedFormFit {
    config: ClosedFormConfig,
    decision: DecisionOptions,
    activation: Activation,
    x: Tensor<2>,
    y: Tensor<2>,
    labels: Tensor<1, Int>,
    valid: Option<(Tensor<2>, Tensor<1, Int>)>,
    layer1: RidgeSystem,
    params: Vec<LayerParams>,
    acts: Activations,
    epoch: usize,
}

impl ClosedFormFit {
    /// Upload the data, factor layer 1's system and run the initial forward pass.
    ///
    /// # Errors
    /// As [`ClosedForm::fit`].
    pub fn new(
        config: ClosedFormConfig,
        model: &Ngmnn,
        train: &Dataset,
        valid: Option<&Dataset>,
    ) -> Result<Self> {
        config.check()?;
        check_data(model, train, "training")?;
        if let Some(v) = valid {
            check_data(model, v, "validation")?;
        }
        check_classes(&train.class_counts(), train.n(), Some(train.name()))?;
        let dtype: DType = config.precision.dtype();
        let device = model.decision.weight.device();
        let x = train.features_tensor(&device, dtype);
        let y = train.one_hot_tensor(&device, dtype);
        let labels = train.labels_tensor(&device);
        let valid = valid.map(|v| (v.features_tensor(&device, dtype), v.labels_tensor(&device)));
        Self::from_parts(config, model, x, y, labels, valid)
    }

    /// As [`ClosedFormFit::new`] from device tensors: features `x` `[n, d]` (any float dtype;
    /// cast to the fit's precision) and class indices `labels` `[n]` in `0..model.n_classes()`.
    /// Used by the burn-train strategy, whose data arrives as batches of tensors.
    ///
    /// # Errors
    /// [`NgmnnError::ShapeMismatch`] if the shapes do not fit the model,
    /// [`NgmnnError::InvalidData`] for labels out of range, fewer than two classes or too few
    /// samples, [`NgmnnError::NonFinite`] for NaN or infinite features, and the solvers' errors.
    pub fn from_tensors(
        config: ClosedFormConfig,
        model: &Ngmnn,
        x: Tensor<2>,
        labels: Tensor<1, Int>,
        valid: Option<(Tensor<2>, Tensor<1, Int>)>,
    ) -> Result<Self> {
        config.check()?;
        let c = model.n_classes();
        let counts = check_tensors(model, &x, &labels, "training")?;
        if let Some((vx, vl)) = &valid {
            check_tensors(model, vx, vl, "validation")?;
        }
        check_classes(&counts, x.dims()[0], None)?;
        let dtype: DType = config.precision.dtype();
        let x = x.cast(dtype);
        let y = labels.clone().one_hot::<2>(c).float().cast(dtype);
        let valid = valid.map(|(vx, vl)| (vx.cast(dtype), vl));
        Self::from_parts(config, model, x, y, labels, valid)
    }

    fn from_parts(
        config: ClosedFormConfig,
        model: &Ngmnn,
        x: Tensor<2>,
        y: Tensor<2>,
        labels: Tensor<1, Int>,
        valid: Option<(Tensor<2>, Tensor<1, Int>)>,
    ) -> Result<Self> {
        let dtype: DType = config.precision.dtype();
        let params: Vec<LayerParams> = model.layer_params().iter().map(|p| p.cast(dtype)).collect();
        let layer1 = RidgeSystem::new(&x, config.gamma)?;
        let acts = forward_layers(x.clone(), &params, model.activation);
        Ok(Self {
            decision: config.decision_options(),
            config,
            activation: model.activation,
            x,
            y,
            labels,
            valid,
            layer1,
            params,
            acts,
            epoch: 0,
        })
    }

    /// Run one epoch and return its record.
    ///
    /// # Errors
    /// The solvers' errors (numerical failure, non-finite values).
    pub fn epoch(&mut self) -> Result<EpochRecord> {
        let start = Instant::now();
        let top = self.params.len() - 1;
        // Decision layer (§3) on H_{L-1}.
        let outcome = decision_layer(
            &self.acts.inputs[top],
            &self.y,
            &self.params[top],
            &self.decision,
        )?;
        self.params[top] = outcome.params;
        // Hidden layers top-down: targets (§2) through the updated layers above, then ridge (§1).
        let mut ridge_objectives = vec![0.0; top];
        let mut saturated = vec![0.0; top];
        let mut latent = self.y.clone();
        for l in (0..top).rev() {
            let (next, count) = backward_step_counted(
                latent,
                &self.params[l + 1],
                self.activation,
                self.config.targets,
                self.config.clip,
            );
            latent = next;
            let [n, d] = latent.dims();
            saturated[l] = scalar(count, "saturated targets")? / (n * d) as f64;
            let solution = if l == 0 {
                self.layer1.solve(&self.x, latent.clone())?
            } else {
                ridge(&self.acts.inputs[l], latent.clone(), self.config.gamma)?
            };
            self.params[l] = solution.params;
            ridge_objectives[l] = solution.objective;
        }
        // Forward pass: this epoch's metrics and the next epoch's activations.
        self.acts = forward_layers(self.x.clone(), &self.params, self.activation);
        let train_acc = accuracy(self.acts.logits.clone(), &self.labels)?;
        let valid_acc = match &self.valid {
            Some((x, labels)) => Some(accuracy(
                forward_layers(x.clone(), &self.params, self.activation).logits,
                labels,
            )?),
            None => None,
        };
        self.epoch += 1;
        Ok(EpochRecord {
            epoch: self.epoch,
            train_acc,
            valid_acc,
            decision_objectives: outcome.objectives,
            ridge_objectives,
            saturated_targets: saturated,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// The current parameters, bottom to top, in the fit's precision.
    pub fn params(&self) -> &[LayerParams] {
        &self.params
    }

    /// Epochs run so far.
    pub fn epochs_done(&self) -> usize {
        self.epoch
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

/// At least two classes present and enough samples for the decision layer.
fn check_classes(counts: &[usize], n: usize, name: Option<&str>) -> Result<()> {
    let present = counts.iter().filter(|&&c| c > 0).count();
    if present < 2 {
        return Err(NgmnnError::data(
            name,
            format!("the training data holds {present} class(es): need at least 2"),
        ));
    }
    if n < MIN_SAMPLES {
        return Err(NgmnnError::data(
            name,
            format!("{n} training samples: the decision layer needs at least {MIN_SAMPLES}"),
        ));
    }
    Ok(())
}

/// Shapes, finiteness and label range of tensor data; returns the per-class counts.
fn check_tensors(
    model: &Ngmnn,
    x: &Tensor<2>,
    labels: &Tensor<1, Int>,
    what: &str,
) -> Result<Vec<usize>> {
    let [n, d] = x.dims();
    if d != model.d_input() || labels.dims()[0] != n {
        return Err(NgmnnError::ShapeMismatch(format!(
            "{what} data: features [{n}, {d}] and {} labels for a model with {} inputs",
            labels.dims()[0],
            model.d_input()
        )));
    }
    scalar(
        x.clone().cast(DType::F64).sum(),
        &format!("{what} features"),
    )?;
    let c = model.n_classes();
    let host = labels
        .clone()
        .into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .map_err(|e| NgmnnError::data(None, format!("{what} labels: {e:?}")))?;
    let mut counts = vec![0usize; c];
    for (i, &l) in host.iter().enumerate() {
        let k = usize::try_from(l).ok().filter(|&k| k < c).ok_or_else(|| {
            NgmnnError::data(
                None,
                format!("{what} label {l} at row {i} is outside 0..{c} (the model's classes)"),
            )
        })?;
        counts[k] += 1;
    }
    Ok(counts)
}

pub(crate) fn check_data(model: &Ngmnn, data: &Dataset, what: &str) -> Result<()> {
    if data.d() != model.d_input() {
        return Err(NgmnnError::ShapeMismatch(format!(
            "{what} data has {} features, the model expects {}",
            data.d(),
            model.d_input()
        )));
    }
    if data.n_classes() != model.n_classes() {
        return Err(NgmnnError::ShapeMismatch(format!(
            "{what} data has {} classes, the model has {} outputs",
            data.n_classes(),
            model.n_classes()
        )));
    }
    Ok(())
}

/// Accuracy of `argmax` of `logits` against `labels`, computed on the device.
pub(crate) fn accuracy(logits: Tensor<2>, labels: &Tensor<1, Int>) -> Result<f64> {
    let n = labels.dims()[0];
    let pred = logits.argmax(1).squeeze_dim::<1>(1);
    let correct = scalar(pred.equal(labels.clone()).float().sum(), "accuracy")?;
    Ok(correct / n as f64)
}
