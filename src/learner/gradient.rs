//! The gradient baseline: the same [`Ngmnn`](crate::model::Ngmnn) modules (or any
//! [`Classifier`], e.g. a plain ReLU [`super::Mlp`]) trained with softmax cross-entropy on
//! the decision layer's outputs by Burn autodiff and a stock optimizer (SGD with momentum or
//! Adam), driven through burn-train's [`Learner`] (`train_step` -> `optimizer_step` per
//! batch). It records test accuracy and wall-clock time per epoch, so that it can be compared
//! with the closed-form trainer epoch by epoch and second by second.
//!
//! For a full burn-train run (metrics, renderer, checkpoints) use
//! [`SupervisedTraining`](burn::train::SupervisedTraining) with the default strategy and the
//! same [`data_loader`]: see `examples/swap_optimizer.rs`.

use std::time::Instant;

use burn::config::Config;
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, ModuleOptimizer, SgdConfig};
use burn::tensor::Tensor;
use burn::train::Learner;
use serde::{Deserialize, Serialize};

use super::data_loader;
use crate::data::LabeledData;
use crate::error::{NgmnnError, Result};
use crate::linalg::scalar;
use crate::train::accuracy;

use super::Classifier;

crate::choice::choice_enum! {
    "optimizer",
    /// Which optimizer the baseline uses.
    #[derive(Default, Serialize, Deserialize)]
    pub enum OptimizerKind {
        /// SGD with (heavy-ball) momentum.
        Sgd,
        /// Adam.
        #[default]
        Adam,
    }
}

impl OptimizerKind {
    /// The learning rate used when none is given: 0.1 for SGD (momentum 0.9), 1e-2 for Adam,
    /// chosen on the built-in digits (see the README's comparison).
    pub fn default_learning_rate(self) -> f64 {
        match self {
            OptimizerKind::Sgd => 0.1,
            OptimizerKind::Adam => 1e-2,
        }
    }
}

/// Hyper-parameters of the gradient baseline.
#[derive(Config, Debug)]
pub struct GradientConfig {
    /// SGD (with momentum) or Adam.
    #[config(default = "OptimizerKind::Adam")]
    pub optimizer: OptimizerKind,
    /// Learning rate; `None` takes [`OptimizerKind::default_learning_rate`].
    #[config(default = "None")]
    pub learning_rate: Option<f64>,
    /// SGD momentum (ignored by Adam).
    #[config(default = 0.9)]
    pub momentum: f64,
    /// Mini-batch size.
    #[config(default = 64)]
    pub batch_size: usize,
    /// Number of epochs (passes over the training data).
    #[config(default = 20)]
    pub epochs: usize,
    /// Seed of the per-epoch shuffling.
    #[config(default = 0)]
    pub seed: u64,
}

impl GradientConfig {
    /// The learning rate in use.
    pub fn lr(&self) -> f64 {
        self.learning_rate
            .unwrap_or_else(|| self.optimizer.default_learning_rate())
    }

    /// Validate every field.
    ///
    /// # Errors
    /// [`NgmnnError::InvalidConfig`] naming the first broken rule.
    pub fn check(&self) -> Result<()> {
        let lr = self.lr();
        if !(lr.is_finite() && lr > 0.0) {
            return Err(NgmnnError::config(
                "learning_rate",
                lr,
                "must be finite and > 0",
            ));
        }
        if !(self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum)) {
            return Err(NgmnnError::config(
                "momentum",
                self.momentum,
                "must lie in [0, 1)",
            ));
        }
        if self.batch_size == 0 {
            return Err(NgmnnError::config("batch_size", 0, "must be at least 1"));
        }
        if self.epochs == 0 {
            return Err(NgmnnError::config("epochs", 0, "must be at least 1"));
        }
        Ok(())
    }

    /// The trainer, after [`GradientConfig::check`].
    ///
    /// # Errors
    /// As [`GradientConfig::check`].
    pub fn init(&self) -> Result<GradientTrainer> {
        self.check()?;
        Ok(GradientTrainer {
            config: self.clone(),
        })
    }
}

/// One epoch of the gradient baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradientEpoch {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean cross-entropy over the epoch's mini-batches (weighted by batch size).
    pub train_loss: f64,
    /// Validation accuracy after the epoch, if validation data was given.
    pub valid_acc: Option<f64>,
    /// Wall-clock seconds of the epoch, including the validation pass.
    pub seconds: f64,
}

/// The records of a gradient fit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GradientHistory {
    /// Seconds before the first epoch (moving the model to the autodiff device, the loader).
    pub setup_seconds: f64,
    /// One record per epoch.
    pub epochs: Vec<GradientEpoch>,
}

/// The gradient baseline. Build it with [`GradientConfig::init`].
#[derive(Debug, Clone)]
pub struct GradientTrainer {
    config: GradientConfig,
}

impl GradientTrainer {
    /// The trainer's configuration.
    pub fn config(&self) -> &GradientConfig {
        &self.config
    }

    /// Train `model` on `train` for `config.epochs` epochs, measuring `valid` after each;
    /// `on_epoch` sees every record as it is made.
    ///
    /// The model is trained on the autodiff version of its device and returned without
    /// autodiff.
    ///
    /// # Errors
    /// [`NgmnnError::ShapeMismatch`] if the data does not fit the model, [`NgmnnError::Numerical`]
    /// if the loss becomes NaN or infinite (learning rate too high).
    pub fn fit_with<M: Classifier>(
        &self,
        model: M,
        train: &LabeledData,
        valid: Option<&LabeledData>,
        on_epoch: impl FnMut(&GradientEpoch),
    ) -> Result<(M, GradientHistory)> {
        let c = &self.config;
        let optimizer: ModuleOptimizer = match c.optimizer {
            OptimizerKind::Sgd => SgdConfig::new()
                .with_momentum(Some(
                    MomentumConfig::new()
                        .with_momentum(c.momentum)
                        .with_dampening(0.0),
                ))
                .init(),
            OptimizerKind::Adam => AdamConfig::new().init(),
        };
        self.fit_with_optimizer(model, optimizer, c.lr(), train, valid, on_epoch)
    }

    /// As [`GradientTrainer::fit_with`] with any Burn optimizer and learning-rate scheduler
    /// (AdamW, weight decay, gradient clipping, cosine / step / Noam schedules, ...; a plain
    /// `f64` is a constant rate). The config's optimizer, learning rate and momentum are not
    /// used; its batch size, epochs and seed are.
    ///
    /// # Example
    /// ```
    /// use burn::optim::AdamWConfig;
    /// use burn::optim::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
    /// use ngmnn::learner::GradientConfig;
    /// use ngmnn::prelude::*;
    ///
    /// let device = BackendKind::Flex.device()?;
    /// let (train, test) = ngmnn::data::digits().stratified_split(0.3, 0)?;
    /// let model = NgmnnConfig::new(train.d(), vec![64], train.n_classes()).init(&device)?;
    /// let trainer = GradientConfig::new().with_epochs(2).init()?;
    /// let optimizer = AdamWConfig::new().with_weight_decay(1e-4).init();
    /// let schedule = CosineAnnealingLrSchedulerConfig::new(1e-2, 100).init().unwrap();
    /// let (_model, history) =
    ///     trainer.fit_with_optimizer(model, optimizer, schedule, &train, Some(&test), |_| {})?;
    /// assert_eq!(history.epochs.len(), 2);
    /// # Ok::<(), NgmnnError>(())
    /// ```
    ///
    /// # Errors
    /// As [`GradientTrainer::fit_with`].
    pub fn fit_with_optimizer<M: Classifier>(
        &self,
        model: M,
        optimizer: impl Into<ModuleOptimizer>,
        schedule: impl Into<ModuleLrScheduler>,
        train: &LabeledData,
        valid: Option<&LabeledData>,
        mut on_epoch: impl FnMut(&GradientEpoch),
    ) -> Result<(M, GradientHistory)> {
        let c = &self.config;
        model.check_fits(train, "training")?;
        if let Some(v) = valid {
            model.check_fits(v, "validation")?;
        }
        let start = Instant::now();
        // Parameters tracked by autodiff (a model built on a plain device gains it here).
        let model = model.train();
        let device = Classifier::device(&model);
        let mut learner = Learner::new(model, optimizer.into(), schedule);
        let loader = data_loader(train, c.batch_size, Some(c.seed), &device);
        let inner = device.clone().inner();
        let valid = valid.map(|v| {
            let dtype = Classifier::dtype(&learner.model());
            (v.features_tensor(&inner, dtype), v.labels_tensor(&inner))
        });
        let mut history = GradientHistory {
            setup_seconds: start.elapsed().as_secs_f64(),
            epochs: Vec::with_capacity(c.epochs),
        };
        for epoch in 1..=c.epochs {
            let start = Instant::now();
            let mut loss_sum: Option<Tensor<1>> = None;
            for batch in loader.iter() {
                let batch =
                    batch.map_err(|e| NgmnnError::data(Some(train.name()), e.to_string()))?;
                let rows = batch.targets.dims()[0] as f64;
                let output = learner.train_step(batch);
                learner.lr_step();
                learner.optimizer_step(output.grads);
                // Summed on the device: one host read per epoch, not per batch.
                let weighted = output.item.loss.inner() * rows;
                loss_sum = Some(match loss_sum {
                    Some(sum) => sum + weighted,
                    None => weighted,
                });
            }
            let train_loss = match loss_sum {
                Some(sum) => {
                    scalar(sum, "cross-entropy").map_err(|_| NgmnnError::Numerical {
                        context: "gradient baseline",
                        reason: format!(
                            "epoch {epoch}: the loss is no longer finite; lower the learning rate"
                        ),
                    })? / train.n() as f64
                }
                None => f64::NAN,
            };
            let valid_acc = match &valid {
                Some((x, labels)) => {
                    let model = learner.model().valid();
                    Some(accuracy(model.scores(x.clone()), labels)?)
                }
                None => None,
            };
            let record = GradientEpoch {
                epoch,
                train_loss,
                valid_acc,
                seconds: start.elapsed().as_secs_f64(),
            };
            on_epoch(&record);
            history.epochs.push(record);
        }
        Ok((learner.model().valid(), history))
    }

    /// As [`GradientTrainer::fit_with`] without a callback.
    ///
    /// # Errors
    /// As [`GradientTrainer::fit_with`].
    pub fn fit<M: Classifier>(
        &self,
        model: M,
        train: &LabeledData,
        valid: Option<&LabeledData>,
    ) -> Result<(M, GradientHistory)> {
        self.fit_with(model, train, valid, |_| {})
    }
}
