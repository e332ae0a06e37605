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

mod access;
mod base_layer;
mod forward;
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
use super::{ClosedFormConfig, EpochRecord, History};
use crate::data::{BatchSource, LabeledData};
#[cfg(doc)]
use crate::error::NgmnnError;
use crate::error::Result;
use crate::model::{Activation, Activations, LayerParams, Ngmnn};
use crate::solve::{
    ClassRidge, DecisionOptions, Moments, RidgeSolution, class_backward_step, decision_layer_passes,
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

    /// As [`ClosedForm::fit_sharded`] on named workers, typically remote devices on other
    /// machines (`remote::connect_workers`, feature `remote`): each holds its shard of
    /// the rows resident (uploaded once per fit in the fit's precision), every pass runs on
    /// all of them at once, and the moments are merged on this host in f64, so the result is
    /// the single-device fit up to rounding.
    ///
    /// A remote worker lost mid-fit (its process dies, its machine or network goes away) does
    /// not end the fit: its rows move to the first spare or are split over the remaining
    /// workers, and the interrupted epoch is redone from the last completed epoch's weights
    /// (the epoch's [`EpochRecord::recoveries`] says so). For that the fit keeps a host copy
    /// of `train` while it runs.
    ///
    /// # Errors
    /// As [`ClosedForm::fit_sharded`]; [`NgmnnError::Worker`] when a worker is lost and none
    /// is left to take over its rows.
    pub fn fit_on_workers(
        &self,
        model: Ngmnn,
        train: &LabeledData,
        valid: Option<&LabeledData>,
        workers: &super::Workers,
        on_epoch: impl FnMut(&EpochRecord),
    ) -> Result<(Ngmnn, History)> {
        let start = Instant::now();
        let fit = ClosedFormFit::on_workers(self.config.clone(), &model, train, valid, workers)?;
        self.drive(fit, model, start, on_epoch)
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
