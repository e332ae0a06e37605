//! The closed-form trainer: the training loop of spec §4.
//!
//! ```text
//! forward pass on the training set                                  (setup: pass 0)
//! for epoch in 1..=T:
//!     update the decision layer (§3) on H_{L-1}                      (2 passes per round,
//!                                                                     the first round's losses
//!                                                                     come from the last pass)
//!     for l = L-1 down to 1:                    # top-down
//!         T_l = backward targets (§2) through the already-updated layers above
//!         W_l, b_l = ridge (§1) from H_{l-1} to T_l                  (no pass: moments)
//!     forward pass: training metrics, the moments and first losses of the next epoch
//! ```
//! Top-down order means the input of the layer being solved depends only on layers not yet
//! updated in this epoch, so the moments of `[H_{l-1} | Y]` taken in the last forward pass are
//! current for it. The backward targets depend on a sample only through its label (`T = Y G`,
//! [`class_backward_step`]), so a hidden layer's solve needs only those moments, and layer 1's
//! (the data's) are computed and factored once per fit.
//!
//! # Passes over the data
//! The data is read only in passes ([`Rows`]): an epoch with `R` decision-layer rounds makes
//! `2 R` passes (`R` moment passes, `R - 1` loss passes, one forward pass). In memory the
//! decision layer's input is kept between passes, so its passes cost no forward pass; streamed
//! ([`ClosedForm::fit_stream`]) every pass re-reads the source and runs the hidden layers again.
//! Rows split over several devices ([`ClosedForm::fit_sharded`]) compute every pass on all
//! devices at once and merge the moments on the host.

mod base_layer;

use std::borrow::Cow;
use std::time::Instant;

use burn::tensor::{DType, Device, Int, Tensor};
use faer::Mat;

use super::rows::{BatchView, Rows, Shard};
use super::{ClosedFormConfig, EpochRecord, History};
use crate::data::{BatchSource, LabeledData};
use crate::error::{NgmnnError, Result};
use crate::linalg::{from_host, from_host_vec, scalar, to_host, to_host_vec};
use crate::model::{Activation, Activations, LayerParams, Ngmnn};
use crate::solve::adaptive_weights::MIN_SAMPLES;
use crate::solve::decision_layer::zero_weights;
use crate::solve::{
    ClassRidge, ColumnMoments, DecisionInput, DecisionOptions, Moments, MomentsProfile,
    RandomScale, RidgeForm, RidgeSolution, batch_losses, batch_moments, class_backward_step,
    decision_layer_passes, feature_factors, mask_receptive_fields, unit_scaling,
};

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
    ///
    /// # Example
    /// ```
    /// use ngmnn::prelude::*;
    ///
    /// let device = BackendKind::Flex.device()?;
    /// let (train, test) = ngmnn::data::digits().stratified_split(0.3, 0)?;
    /// let model = NgmnnConfig::new(train.d(), vec![256, 32], train.n_classes()).init(&device)?;
    /// let trainer = ClosedFormConfig::new().with_epochs(2).init()?;
    /// let (model, history) = trainer.fit(model, &train, Some(&test))?;
    /// assert!(history.best_valid().unwrap().valid_acc.unwrap() > 0.9);
    /// # let _ = model;
    /// # Ok::<(), NgmnnError>(())
    /// ```
    pub fn fit(
        &self,
        model: Ngmnn,
        train: &LabeledData,
        valid: Option<&LabeledData>,
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
        train: &LabeledData,
        valid: Option<&LabeledData>,
        on_epoch: impl FnMut(&EpochRecord),
    ) -> Result<(Ngmnn, History)> {
        let start = Instant::now();
        let fit = ClosedFormFit::new(self.config.clone(), &model, train, valid)?;
        self.drive(fit, model, start, on_epoch)
    }

    /// As [`ClosedForm::fit`] with the training rows split into one contiguous shard per
    /// device in `devices` (repeat a device to split its rows over several threads): every
    /// pass runs on all shards at once and their moments are merged on the host, so the result
    /// is the single-device fit up to rounding. The model and the validation data stay on the
    /// model's device.
    ///
    /// # Errors
    /// As [`ClosedForm::fit`]; [`NgmnnError::InvalidConfig`] for no devices or more devices
    /// than samples.
    ///
    /// # Example
    /// ```
    /// use ngmnn::prelude::*;
    ///
    /// let device = BackendKind::Flex.device()?;
    /// let train = ngmnn::data::digits();
    /// let model = NgmnnConfig::new(train.d(), vec![256, 32], train.n_classes()).init(&device)?;
    /// let trainer = ClosedFormConfig::new().with_epochs(1).init()?;
    /// // Two shards on one CPU device: two threads, the single-device weights.
    /// let devices = [device.clone(), device.clone()];
    /// let (sharded, _) = trainer.fit_sharded(model.clone(), &train, None, &devices)?;
    /// let (single, _) = trainer.fit(model, &train, None)?;
    /// let (a, b) = (sharded.predict_dataset(&train)?, single.predict_dataset(&train)?);
    /// assert_eq!(a, b);
    /// # Ok::<(), NgmnnError>(())
    /// ```
    pub fn fit_sharded(
        &self,
        model: Ngmnn,
        train: &LabeledData,
        valid: Option<&LabeledData>,
        devices: &[Device],
    ) -> Result<(Ngmnn, History)> {
        let start = Instant::now();
        let fit = ClosedFormFit::new_sharded(self.config.clone(), &model, train, valid, devices)?;
        self.drive(fit, model, start, |_| {})
    }

    /// Fit from a re-readable source of batches without holding the data: every pass reads
    /// `train` again, one batch at a time (see the module docs for the passes per epoch).
    /// Memory beyond one batch is `O(n)` scalars (per-sample losses and weights) plus the
    /// `d x d` moments. Gives the in-memory fit's weights up to rounding.
    ///
    /// # Errors
    /// As [`ClosedForm::fit`]; the source's I/O and parse errors; [`NgmnnError::InvalidData`]
    /// for a batch with non-finite features or out-of-range labels, or a source that yields a
    /// different number of rows in a later pass.
    ///
    /// # Example
    /// ```
    /// use ngmnn::data::SyntheticSource;
    /// use ngmnn::prelude::*;
    ///
    /// let device = BackendKind::Flex.device()?;
    /// // 20000 rows generated batch by batch in every pass, never held in memory.
    /// let source = SyntheticSource::new(20_000, 16, 4, 2_000, 7)?;
    /// let valid = source.held_out(2_000);
    /// let model = NgmnnConfig::new(16, vec![256, 32], 4).init(&device)?;
    /// let trainer = ClosedFormConfig::new().with_epochs(2).init()?;
    /// let (_model, history) =
    ///     trainer.fit_stream(model, Box::new(source), Some(Box::new(valid)), |_| {})?;
    /// assert!(history.last().unwrap().valid_acc.unwrap() > 0.5);
    /// # Ok::<(), NgmnnError>(())
    /// ```
    pub fn fit_stream(
        &self,
        model: Ngmnn,
        train: Box<dyn BatchSource>,
        valid: Option<Box<dyn BatchSource>>,
        on_epoch: impl FnMut(&EpochRecord),
    ) -> Result<(Ngmnn, History)> {
        let start = Instant::now();
        let fit = ClosedFormFit::streamed(self.config.clone(), &model, train, valid)?;
        self.drive(fit, model, start, on_epoch)
    }

    fn drive(
        &self,
        mut fit: ClosedFormFit,
        model: Ngmnn,
        start: Instant,
        mut on_epoch: impl FnMut(&EpochRecord),
    ) -> Result<(Ngmnn, History)> {
        let mut history = History::start(&fit, start.elapsed().as_secs_f64(), self.config.epochs);
        for _ in 0..self.config.epochs {
            let record = fit.epoch()?;
            on_epoch(&record);
            history.epochs.push(record);
            if fit.patience_exhausted() {
                break;
            }
        }
        let model = if self.config.patience.is_some() {
            fit.write_best_into(model)?
        } else {
            fit.write_into(model)?
        };
        Ok((model, history))
    }
}

/// A fit in progress: the rows (on devices or streamed), the current parameters (on the device
/// in the fit's precision, and on the host in f64) and the moments of the last forward pass.
/// [`ClosedForm::fit`] drives it; it is public for callers that drive epochs themselves (e.g.
/// a training-loop integration).
#[derive(Debug)]
pub struct ClosedFormFit {
    config: ClosedFormConfig,
    decision: DecisionOptions,
    activation: Activation,
    device: Device,
    dtype: DType,
    rows: Rows,
    valid: Option<Rows>,
    counts: Vec<usize>,
    /// Index of the lowest learned layer: 0, or 1 above a frozen random first layer.
    base: usize,
    /// The lowest learned layer's system: once per fit (its input never changes; set by the
    /// setup), in the form [`ClosedFormFit::base_form`].
    base_system: Option<ClassRidge>,
    /// Moments of `[H_l | Y]` for the learned hidden layers' inputs `l = base+1 .. L-2`.
    hidden_moments: Vec<Moments>,
    /// The decision layer's losses at the current parameters, from the last forward pass.
    next_losses: Option<Tensor<1>>,
    params: Vec<LayerParams>,
    host: Vec<(Mat<f64>, Vec<f64>)>,
    /// The best validation accuracy so far, its epoch and parameters.
    best: Option<(f64, usize, Vec<LayerParams>)>,
    passes: usize,
    epoch: usize,
}

/// A forward pass's partial result: correct predictions, per-layer moments, the losses.
type Partial = (f64, Vec<Option<Moments>>, Vec<Tensor<1>>);

/// Merge two optional partial moments (in row order).
fn merge_moments(a: Option<Moments>, b: Option<Moments>) -> Option<Moments> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.merge(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// What a forward pass gathers.
struct Forwarded {
    correct: f64,
    /// Moments of `[H_l | Y]` for `l = first .. L-1`.
    moments: Vec<Moments>,
    losses: Tensor<1>,
}

impl ClosedFormFit {
    /// Upload the data, factor layer 1's system and run the initial forward pass.
    ///
    /// # Errors
    /// As [`ClosedForm::fit`].
    pub fn new(
        config: ClosedFormConfig,
        model: &Ngmnn,
        train: &LabeledData,
        valid: Option<&LabeledData>,
    ) -> Result<Self> {
        Self::new_sharded(
            config,
            model,
            train,
            valid,
            &[model.decision.weight.device()],
        )
    }

    /// As [`ClosedFormFit::new`] with the training rows split over `devices` (see
    /// [`ClosedForm::fit_sharded`]).
    ///
    /// # Errors
    /// As [`ClosedForm::fit_sharded`].
    pub fn new_sharded(
        config: ClosedFormConfig,
        model: &Ngmnn,
        train: &LabeledData,
        valid: Option<&LabeledData>,
        devices: &[Device],
    ) -> Result<Self> {
        config.check()?;
        check_data(model, train, "training")?;
        if let Some(v) = valid {
            check_data(model, v, "validation")?;
        }
        check_classes(&train.class_counts(), train.n(), Some(train.name()))?;
        if devices.is_empty() || devices.len() > train.n() {
            return Err(NgmnnError::config(
                "devices",
                devices.len(),
                "need at least 1 device and no more devices than training samples",
            ));
        }
        let dtype: DType = config.precision.dtype();
        let chunk = config.chunk_rows.unwrap_or_else(|| chunk_rows(model));
        let (n, parts) = (train.n(), devices.len());
        let mut shards = Vec::with_capacity(parts);
        for (i, device) in devices.iter().enumerate() {
            let (lo, hi) = (i * n / parts, (i + 1) * n / parts);
            // One shard is the whole set: no host copy of it.
            let part = match parts {
                1 => Cow::Borrowed(train),
                _ => Cow::Owned(train.subset(&(lo..hi).collect::<Vec<_>>(), train.name())),
            };
            shards.push(Shard::new(
                lo,
                part.features_tensor(device, dtype),
                part.one_hot_tensor(device, dtype),
                part.labels_tensor(device),
                chunk,
            ));
        }
        let valid = valid.map(|v| resident(v, &model.decision.weight.device(), dtype, chunk));
        let rows = Rows::Resident {
            shards,
            cache_top: true,
        };
        Self::from_rows(config, model, rows, valid, train.class_counts())
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
        let chunk = config.chunk_rows.unwrap_or_else(|| chunk_rows(model));
        let shard = |x: Tensor<2>, labels: Tensor<1, Int>| {
            let y = labels.clone().one_hot::<2>(c).float().cast(dtype);
            Shard::new(0, x.cast(dtype), y, labels, chunk)
        };
        let rows = Rows::Resident {
            shards: vec![shard(x, labels)],
            cache_top: true,
        };
        let valid = valid.map(|(vx, vl)| Rows::Resident {
            shards: vec![shard(vx, vl)],
            cache_top: false,
        });
        Self::from_rows(config, model, rows, valid, counts)
    }

    /// A fit that reads `train` (and `valid`) in passes (see [`ClosedForm::fit_stream`]).
    ///
    /// # Errors
    /// As [`ClosedForm::fit_stream`].
    pub fn streamed(
        config: ClosedFormConfig,
        model: &Ngmnn,
        train: Box<dyn BatchSource>,
        valid: Option<Box<dyn BatchSource>>,
    ) -> Result<Self> {
        config.check()?;
        for source in std::iter::once(&train).chain(valid.as_ref()) {
            if source.n_features() != model.d_input() || source.n_classes() > model.n_classes() {
                return Err(NgmnnError::ShapeMismatch(format!(
                    "source {}: {} features and {} classes for a model with {} inputs and {} classes",
                    source.name(),
                    source.n_features(),
                    source.n_classes(),
                    model.d_input(),
                    model.n_classes()
                )));
            }
        }
        let device = model.decision.weight.device();
        let dtype: DType = config.precision.dtype();
        let chunk = config.chunk_rows.unwrap_or_else(|| chunk_rows(model));
        let c = model.n_classes();
        let rows = Rows::streamed(train, c, device.clone(), dtype, chunk);
        let valid = valid.map(|v| Rows::streamed(v, c, device, dtype, chunk));
        Self::from_rows(config, model, rows, valid, Vec::new())
    }

    fn from_rows(
        config: ClosedFormConfig,
        model: &Ngmnn,
        rows: Rows,
        valid: Option<Rows>,
        counts: Vec<usize>,
    ) -> Result<Self> {
        model.check()?;
        let dtype: DType = config.precision.dtype();
        let model_device = model.decision.weight.device();
        if !model_device.supports_dtype(dtype) {
            return Err(NgmnnError::config(
                "precision",
                config.precision,
                "the device has no such float type (Metal and many wgpu adapters have no f64): \
                 use precision f32",
            ));
        }
        // The fit's copy of the parameters in its precision, and one temporary of that size.
        let n_params = burn::module::Module::num_params(model) as u64;
        crate::memory::ensure_fits(
            n_params.saturating_mul(2 * dtype.size() as u64),
            config.memory_limit,
            &format!("the fit's {dtype:?} copy of the model's {n_params} parameters"),
            "narrow the hidden layers (--hidden), use precision f32, or raise --memory-limit",
        )?;
        let params: Vec<LayerParams> = model.layer_params().iter().map(|p| p.cast(dtype)).collect();
        let base = usize::from(config.random_first_layer());
        // Host copies of the learned layers (the backward steps read them); a frozen random
        // first layer has none (it is d x r: read only on the device).
        let host = params
            .iter()
            .enumerate()
            .map(|(l, p)| {
                if l < base {
                    return Ok((Mat::zeros(0, 0), Vec::new()));
                }
                Ok((
                    to_host(p.w.clone(), "initial weights")?,
                    to_host_vec(p.b.clone(), "initial bias")?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let device = model.decision.weight.device();
        if base == 1 && model.n_layers() < 3 {
            return Err(NgmnnError::config(
                "preset",
                config.preset,
                "broad needs at least two hidden layers: a wide random one and a learned one \
                 (e.g. hidden [1024, 64]); use preset paper for a single learned hidden layer",
            ));
        }
        let mut fit = Self {
            decision: config.decision_options(),
            config,
            activation: model.activation,
            device: device.clone(),
            dtype,
            rows,
            valid,
            counts,
            base,
            base_system: None,
            hidden_moments: Vec::new(),
            next_losses: None,
            params,
            host,
            best: None,
            passes: 0,
            epoch: 0,
        };
        let form = fit.choose_base_form(model.n_classes())?;
        if base == 1 && !fit.config.keep_first_layer {
            fit.scale_random_layer()?;
        }
        // Pass 0: the lowest learned layer's moments (once per fit) and the first epoch's
        // statistics.
        let mut forwarded = fit.forward_pass(form == RidgeForm::Primal)?;
        if fit.counts.is_empty() {
            fit.counts = fit.rows.counts(model.n_classes())?;
            let n = fit.counts.iter().sum();
            check_classes(&fit.counts, n, None)?;
        }
        fit.base_system = Some(match form {
            RidgeForm::Primal => {
                ClassRidge::from_moments(&forwarded.moments.remove(0), fit.config.system_gamma())?
            }
            RidgeForm::Dual => fit.dual_system()?,
        });
        fit.hidden_moments = forwarded.moments;
        fit.next_losses = Some(forwarded.losses);
        Ok(fit)
    }

    /// Scale the frozen random first layer to the data (one pass over the inputs for the
    /// moments of their random projections; [`unit_scaling`]). The `d x r` layer stays on the
    /// device: the scalings are diagonal, applied there in place where the backend can.
    fn scale_random_layer(&mut self) -> Result<()> {
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

    /// A forward pass with the current parameters: correct predictions, the moments of
    /// `[H_l | Y]` for the learned layers' inputs `l = base+1 .. L-2` (from `l = base` with
    /// `with_input`), the decision layer's losses at its current parameters; the resident
    /// rows keep `H_{L-1}`.
    fn forward_pass(&mut self, with_input: bool) -> Result<Forwarded> {
        let top = self.params.len() - 1;
        let first = self.base + usize::from(!with_input);
        let decision = &self.params[top];
        let device = self.device.clone();
        let kernel = |batch: &BatchView<'_>, acts: &Activations| -> Result<Partial> {
            let local = batch.x.device();
            let correct = count_correct(acts.logits.clone(), batch.labels)?;
            let moments = (first..top)
                .map(|l| Moments::of_batch(&acts.inputs[l], batch.y, None))
                .collect::<Result<Vec<_>>>()?;
            let losses = batch_losses(
                &acts.inputs[top],
                batch.y,
                &decision.w.clone().to_device(&local),
                &decision.b.clone().to_device(&local),
            );
            Ok((correct, moments, vec![losses.to_device(&device)]))
        };
        let merge = |a: Partial, b: Partial| -> Partial {
            let moments =
                a.1.into_iter()
                    .zip(b.1)
                    .map(|(x, y)| merge_moments(x, y))
                    .collect();
            let mut losses = a.2;
            losses.extend(b.2);
            (a.0 + b.0, moments, losses)
        };
        let (correct, moments, losses) = self
            .rows
            .forward_pass(&self.params, self.activation, &kernel, &merge)?
            .ok_or_else(|| NgmnnError::data(None, "no training rows"))?;
        self.passes += 1;
        let moments = moments
            .into_iter()
            .map(|m| m.ok_or_else(|| NgmnnError::data(None, "no training rows")))
            .collect::<Result<Vec<_>>>()?;
        Ok(Forwarded {
            correct,
            moments,
            losses: Tensor::cat(losses, 0),
        })
    }

    /// Run one epoch and return its record.
    ///
    /// # Errors
    /// The solvers' errors (numerical failure, non-finite values); a streamed source's errors.
    pub fn epoch(&mut self) -> Result<EpochRecord> {
        let start = Instant::now();
        let profile = MomentsProfile::now();
        let passes_before = self.passes;
        let top = self.params.len() - 1;
        let device = self.device.clone();
        // Decision layer (§3) on H_{L-1}.
        let init = self.params[top].clone();
        let first_losses = self.next_losses.take();
        let outcome = {
            let mut input = TopInput {
                rows: &mut self.rows,
                hidden: &self.params[..top],
                activation: self.activation,
                device: device.clone(),
                passes: &mut self.passes,
            };
            decision_layer_passes(
                &mut input,
                &init,
                &self.host[top].0,
                first_losses,
                &self.decision,
            )?
        };
        self.params[top] = outcome.params;
        self.host[top] = (outcome.w, outcome.b);
        // Hidden layers top-down: class targets (§2) through the updated layers above, then
        // ridge (§1) from the moments of [H_l | Y].
        let mut ridge_objectives = vec![0.0; top];
        let mut saturated = vec![0.0; top];
        let c = self.counts.len();
        let n: usize = self.counts.iter().sum();
        let mut latent = Mat::<f64>::identity(c, c); // Y's rows: class k -> e_k
        for l in (self.base..top).rev() {
            let (w, b) = &self.host[l + 1];
            let (next, count) = class_backward_step(
                &latent,
                w,
                b,
                &self.counts,
                self.activation,
                self.config.targets,
                self.config.clip,
            );
            latent = next;
            saturated[l] = count / (n * latent.ncols()) as f64;
            let solution = if l == self.base {
                let system = self.base_system.as_ref().expect("set by the setup");
                self.solve_layer(system, l, &latent)?
            } else {
                let m = &self.hidden_moments[l - self.base - 1];
                let system = ClassRidge::from_moments(m, self.config.system_gamma())?;
                self.solve_layer(&system, l, &latent)?
            };
            self.params[l] = solution.params;
            self.host[l] = (solution.w, solution.b);
            ridge_objectives[l] = solution.objective;
        }
        // Forward pass: this epoch's metrics and the next epoch's statistics.
        let forwarded = self.forward_pass(false)?;
        self.hidden_moments = forwarded.moments;
        self.next_losses = Some(forwarded.losses);
        let train_acc = forwarded.correct / n as f64;
        let valid_acc = match &mut self.valid {
            Some(rows) => {
                let kernel = |batch: &BatchView<'_>, acts: &Activations| {
                    Ok((
                        count_correct(acts.logits.clone(), batch.labels)?,
                        batch.labels.dims()[0],
                    ))
                };
                let add = |a: (f64, usize), b: (f64, usize)| (a.0 + b.0, a.1 + b.1);
                let (correct, total) = rows
                    .forward_pass(&self.params, self.activation, &kernel, &add)?
                    .unwrap_or((0.0, 0));
                Some(correct / total.max(1) as f64)
            }
            None => None,
        };
        self.epoch += 1;
        if let Some(acc) = valid_acc
            && self.best.as_ref().is_none_or(|(best, ..)| acc > *best)
        {
            self.best = Some((acc, self.epoch, self.params.clone()));
        }
        let gram = MomentsProfile::now().since(profile);
        Ok(EpochRecord {
            epoch: self.epoch,
            train_acc,
            valid_acc,
            decision_objectives: outcome.objectives,
            ridge_objectives,
            saturated_targets: saturated,
            passes: self.passes - passes_before,
            gram_seconds: gram.seconds,
            gram_flops: gram.flops,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// Layer `l`'s ridge onto the class targets `latent` from `system`: plain, or proximal to
    /// the layer's current weights ([`ClosedFormConfig::proximal`]).
    fn solve_layer(
        &self,
        system: &ClassRidge,
        l: usize,
        latent: &Mat<f64>,
    ) -> Result<RidgeSolution> {
        match self.config.proximal {
            Some(rho) => {
                system.solve_proximal(latent, &self.host[l].0, rho, &self.device, self.dtype)
            }
            None => system.solve(latent, &self.device, self.dtype),
        }
    }

    /// The form of the lowest learned layer's ridge system: dual where its input is wider
    /// than the number of training rows, primal otherwise.
    pub fn base_form(&self) -> RidgeForm {
        self.base_system
            .as_ref()
            .map_or(RidgeForm::Primal, ClassRidge::form)
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

/// The decision layer's input as the trainer's rows: `H_{L-1}` kept (resident) or recomputed
/// through the hidden layers (streamed) in every pass.
struct TopInput<'a> {
    rows: &'a mut Rows,
    hidden: &'a [LayerParams],
    activation: Activation,
    device: Device,
    passes: &'a mut usize,
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

/// Elements per chunk of rows (see [`chunk_rows`]): 2^21, 8 MB in f32.
const CHUNK_ELEMENTS: usize = 1 << 21;

/// Rows per chunk for `model`: every pass works on chunks of at most this many rows, so that
/// its widest temporary (`[rows, widest layer + classes]`) holds about [`CHUNK_ELEMENTS`].
/// Measured on flex (2 cores): the element-wise work of a 100000 x 266 moment computation
/// took 0.43 s in one piece and 0.20-0.24 s in chunks of 2048-8192 rows, because large
/// temporaries are fresh memory (page faults) on every operation, small ones are reused.
fn chunk_rows(model: &Ngmnn) -> usize {
    let widest = model
        .layer_params()
        .iter()
        .map(|p| p.w.dims()[0])
        .max()
        .unwrap_or(1)
        + model.n_classes();
    // At least `widest` rows: a chunk's moments cost `2 rows widest^2` flops on the device and a
    // `widest^2` read and merge on the host, so fewer rows than that make the host work rival
    // the product (measured, MNIST, a random layer of 3072: setup 23.6 s with 680-row chunks).
    (CHUNK_ELEMENTS / widest).max(256).max(widest.min(8192))
}

/// A dataset resident on one device (validation data).
fn resident(data: &LabeledData, device: &Device, dtype: DType, chunk: usize) -> Rows {
    Rows::Resident {
        shards: vec![Shard::new(
            0,
            data.features_tensor(device, dtype),
            data.one_hot_tensor(device, dtype),
            data.labels_tensor(device),
            chunk,
        )],
        cache_top: false,
    }
}

/// Correct predictions of `argmax(logits)` against `labels`, as a host number.
fn count_correct(logits: Tensor<2>, labels: &Tensor<1, Int>) -> Result<f64> {
    let pred = logits.argmax(1).squeeze_dim::<1>(1);
    scalar(pred.equal(labels.clone()).float().sum(), "accuracy")
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

pub(crate) fn check_data(model: &Ngmnn, data: &LabeledData, what: &str) -> Result<()> {
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
#[cfg(feature = "train")]
pub(crate) fn accuracy(logits: Tensor<2>, labels: &Tensor<1, Int>) -> Result<f64> {
    Ok(count_correct(logits, labels)? / labels.dims()[0] as f64)
}
