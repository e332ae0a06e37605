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
//! ([`Training::Stream`]) every pass re-reads the source and runs the hidden layers again.
//! Rows split over several devices ([`Training::sharded`]) compute every pass on all
//! devices at once and merge the moments on the host.

mod access;
mod base_layer;
mod forward;
mod inputs;
mod random_layer;
mod recovery;
mod setup;
mod top_input;

#[cfg(feature = "train")]
pub(crate) use forward::accuracy;
use forward::{Predictions, merge_moments};
use recovery::Recovery;
pub(crate) use setup::chunking;

use top_input::TopInput;

use std::time::Instant;

use burn::tensor::{DType, Device, Tensor};
use faer::Mat;

use super::profile::StepCounters;
use super::rows::{BatchView, Rows};
use super::training::{Training, Validation};
use super::{ClosedFormConfig, EpochRecord, History};
#[cfg(doc)]
use crate::error::NgmnnError;
use crate::error::Result;
use crate::model::{Activation, Activations, LayerParams, Ngmnn};
use crate::solve::{
    backward_targets::class_backward_step,
    class_ridge::ClassRidge,
    decision_layer::{DecisionOptions, decision_layer_passes},
    moments::Moments,
    ridge::RidgeSolution,
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
    /// `train` is a [`Training`]: `&LabeledData` (rows in memory on the model's device),
    /// [`Training::sharded`] / [`Training::on_workers`] (rows split over devices or workers),
    /// a `Box<dyn BatchSource>` (re-read in every pass) or device tensors. `valid` is a
    /// [`Validation`]: `None`, `Some(&LabeledData)`, `&LabeledData` or a source. Every
    /// placement gives the same weights up to rounding.
    ///
    /// Returns the model after the last epoch (after the best validation epoch with
    /// [`ClosedFormConfig::patience`]) and the per-epoch history.
    ///
    /// # Errors
    /// [`NgmnnError::ShapeMismatch`] if the data does not fit the model, [`NgmnnError::InvalidData`]
    /// for too few samples or classes (and, streamed, a batch with non-finite features or
    /// out-of-range labels, or a source that yields a different number of rows in a later
    /// pass), [`NgmnnError::InvalidConfig`] for no devices or more devices than samples,
    /// [`NgmnnError::Worker`] when a worker is lost and none is left to take over its rows, a
    /// source's I/O and parse errors, and the solvers' numerical errors.
    ///
    /// # Example
    /// ```
    /// use ngmnn::prelude::*;
    ///
    /// let device = BackendKind::Flex.device()?;
    /// let (train, test) = ngmnn::data::digits().stratified_split(0.3, 0)?;
    /// let model = NgmnnConfig::new(train.d(), vec![256, 32], train.n_classes()).init(&device)?;
    /// let trainer = ClosedFormConfig::new().with_epochs(2).init()?;
    /// let (fitted, history) = trainer.fit(model.clone(), &train, Some(&test))?;
    /// assert!(history.best_valid().unwrap().valid_acc.unwrap() > 0.9);
    ///
    /// // Two shards on one CPU device: two threads, the same weights up to rounding.
    /// let devices = [device.clone(), device.clone()];
    /// let (sharded, _) = trainer.fit(model, Training::sharded(&train, &devices), None)?;
    /// assert_eq!(sharded.predict_dataset(&test)?, fitted.predict_dataset(&test)?);
    /// # Ok::<(), NgmnnError>(())
    /// ```
    ///
    /// Streamed, never holding the rows:
    /// ```
    /// use ngmnn::data::{BatchSource, SyntheticSource};
    /// use ngmnn::prelude::*;
    ///
    /// let device = BackendKind::Flex.device()?;
    /// // 20000 rows generated batch by batch in every pass, never held in memory.
    /// let source = SyntheticSource::new(20_000, 16, 4, 2_000, 7)?;
    /// let valid: Box<dyn BatchSource> = Box::new(source.held_out(2_000));
    /// let model = NgmnnConfig::new(16, vec![256, 32], 4).init(&device)?;
    /// let trainer = ClosedFormConfig::new().with_epochs(2).init()?;
    /// let train: Box<dyn BatchSource> = Box::new(source);
    /// let (_model, history) = trainer.fit(model, train, valid)?;
    /// assert!(history.last().unwrap().valid_acc.unwrap() > 0.5);
    /// # Ok::<(), NgmnnError>(())
    /// ```
    pub fn fit<'a>(
        &self,
        model: Ngmnn,
        train: impl Into<Training<'a>>,
        valid: impl Into<Validation<'a>>,
    ) -> Result<(Ngmnn, History)> {
        self.fit_with(model, train, valid, |_| {})
    }

    /// As [`ClosedForm::fit`], calling `on_epoch` after every epoch (progress display).
    ///
    /// # Errors
    /// As [`ClosedForm::fit`].
    pub fn fit_with<'a>(
        &self,
        model: Ngmnn,
        train: impl Into<Training<'a>>,
        valid: impl Into<Validation<'a>>,
        on_epoch: impl FnMut(&EpochRecord),
    ) -> Result<(Ngmnn, History)> {
        let start = Instant::now();
        let fit = self.start(&model, train, valid)?;
        self.drive(fit, model, start, on_epoch)
    }

    /// Set a fit up without running an epoch, for callers that drive the epochs themselves
    /// (the CLI's checkpoints, the burn-train strategy): [`ClosedFormFit::epoch`] runs one,
    /// [`ClosedFormFit::write_into`] writes the weights into the model.
    ///
    /// # Errors
    /// As [`ClosedForm::fit`].
    pub fn start<'a>(
        &self,
        model: &Ngmnn,
        train: impl Into<Training<'a>>,
        valid: impl Into<Validation<'a>>,
    ) -> Result<ClosedFormFit> {
        ClosedFormFit::start(self.config.clone(), model, train.into(), valid.into())
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
/// [`ClosedForm::fit`] drives it; [`ClosedForm::start`] gives it to callers that drive epochs
/// themselves (e.g. a training-loop integration).
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
    /// The lowest learned layer's projection `P`, `a` on the device ([`Shortcut`]; `None`
    /// with the proximal ridge, whose weights are not `P G`).
    projection: Option<(Tensor<2>, Tensor<1>)>,
    /// The class targets `G` of the lowest learned layer's current weights (`W = P G`).
    base_targets: Option<Mat<f64>>,
    /// Moments of `[H_l | Y]` for the learned hidden layers' inputs `l = base+1 .. L-2`.
    hidden_moments: Vec<Moments>,
    /// The decision layer's losses at the current parameters, from the last forward pass.
    next_losses: Option<Tensor<1>>,
    params: Vec<LayerParams>,
    host: Vec<(Mat<f64>, Vec<f64>)>,
    /// The best validation accuracy so far, its epoch and parameters.
    best: Option<(f64, usize, Vec<LayerParams>)>,
    /// What a fit on workers that can be lost needs to move a lost worker's rows.
    recovery: Option<Recovery>,
    passes: usize,
    /// This fit's account of the forward passes and host solves (reported per epoch).
    steps: StepCounters,
    epoch: usize,
}

impl ClosedFormFit {
    /// One epoch from the current parameters (see [`ClosedFormFit::epoch`], which also
    /// survives a lost worker).
    fn run_epoch(&mut self) -> Result<EpochRecord> {
        let start = Instant::now();
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
        self.steps.add_host_seconds(outcome.host_seconds);
        self.params[top] = outcome.params;
        self.host[top] = (outcome.w, outcome.b);
        // Hidden layers top-down: class targets (§2) through the updated layers above, then
        // ridge (§1) from the moments of [H_l | Y].
        let mut ridge_objectives = vec![0.0; top];
        let mut saturated = vec![0.0; top];
        let c = self.counts.len();
        let n: usize = self.counts.iter().sum();
        let host = Instant::now();
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
                self.base_targets = Some(latent.clone());
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
        self.steps.record_host(host);
        // Forward pass: this epoch's metrics and the next epoch's statistics.
        let forwarded = self.forward_pass(false)?;
        let gram = (forwarded.moments.iter()).fold(outcome.gram, |acc, m| acc + m.profile);
        self.hidden_moments = forwarded.moments;
        self.next_losses = Some(forwarded.losses);
        let train_acc = forwarded.predictions.correct / n as f64;
        let one_class = forwarded.predictions.one_class();
        let shortcut = self.shortcut()?;
        let valid_acc = match &mut self.valid {
            Some(rows) => {
                let kernel = |batch: &BatchView<'_>, acts: &Activations| {
                    Ok((
                        Predictions::of(acts.logits.clone(), batch.labels)?.correct,
                        batch.labels.dims()[0],
                    ))
                };
                let add = |a: (f64, usize), b: (f64, usize)| (a.0 + b.0, a.1 + b.1);
                let (correct, total) = rows
                    .forward_pass(
                        &self.params,
                        self.activation,
                        shortcut.as_ref(),
                        &self.steps,
                        &kernel,
                        &add,
                    )?
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
        Ok(EpochRecord {
            epoch: self.epoch,
            train_acc,
            one_class,
            valid_acc,
            decision_objectives: outcome.objectives,
            ridge_objectives,
            saturated_targets: saturated,
            passes: self.passes - passes_before,
            gram_seconds: gram.seconds,
            gram_flops: gram.flops,
            steps: self.steps.take(),
            seconds: start.elapsed().as_secs_f64(),
            recoveries: Vec::new(),
            traffic: None,
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
}
