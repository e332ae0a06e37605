//! The closed-form trainer as a burn-train [`SupervisedLearningStrategy`].
//!
//! ```text
//! gather the training loader's batches once, on the model's (non-autodiff) device
//! for epoch in start..=num_epochs:
//!     one closed-form epoch (spec §4) on all gathered samples      # ClosedFormFit::epoch
//!     load the new weights into the learner (same ParamIds)
//!     train split: per batch, the updated model's outputs -> metrics (accuracy, loss, ...)
//!     valid split: per batch of the validation loader -> metrics
//!     end of epoch -> metric logs, renderer, checkpointer, early stopping, interrupter
//! ```
//!
//! **Mini-batches change nothing.** The closed form needs sums over all samples (Gram and
//! cross products, the column-wise target normalisers, the sorted per-sample losses of the
//! adaptive weights), so the strategy concatenates the loader's batches into the full training
//! set and solves once per epoch. The weights therefore equal the full-batch fit whatever the
//! batch size (up to the floating-point order of the sums when the loader shuffles). The
//! loader is read once per fit: the layer-1 factorisation is cached across epochs, which
//! assumes the samples do not change between epochs (no random augmentation).
//!
//! Resuming: burn-train loads the checkpoint's weights into the learner before calling the
//! strategy, and a closed-form epoch depends only on the current weights, so `.checkpoint(n)`
//! continues exactly where epoch `n` ended.
//!
//! A failure (bad data, a numerical error) stops the run through the interrupter with the
//! error's message as the reason; the typed [`NgmnnError`] itself is kept in the strategy's
//! [`StrategyHandle`] (burn-train's own error type cannot carry it).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use burn::tensor::{Int, Tensor};
use burn::train::{
    EventProcessorTraining, InferenceStep, Interrupter, Learner, LearnerEvent, LearnerModel,
    SupervisedLearningStrategy, SupervisedTrainingEventProcessor, TrainLoader, TrainStep,
    TrainingComponents, TrainingItem, TrainingStrategy, ValidLoader,
};

use burn::data::dataloader::DataLoader;
use burn::data::dataset::DatasetError;

use super::ClosedFormModel;
use crate::error::NgmnnError;
use crate::train::{ClosedFormConfig, ClosedFormFit, EpochRecord, History, Training, Validation};

/// The closed-form NGMNN trainer as a burn-train training strategy.
///
/// Install it with `.with_training_strategy(ClosedFormStrategy::new(config).into())` on a
/// [`SupervisedTraining`](burn::train::SupervisedTraining) of an [`Ngmnn`](crate::model::Ngmnn),
/// or of any model with an NGMNN head ([`ClosedFormModel`]: the layers before the head stay
/// frozen, the head is fitted on the features they produce); the learner's
/// optimizer and learning-rate schedule are ignored. `config.epochs` is ignored too: the
/// number of epochs is burn-train's `.num_epochs(..)`.
///
/// # What differs from a gradient strategy
/// - Each epoch is one closed-form solve on the whole training set; the training metrics are
///   then computed with the updated model on every batch (a gradient strategy reports them
///   during the epoch, with the weights of the moment).
/// - The Loss metric is the cross-entropy of the scores, which the closed form does not
///   minimise; burn-train's default checkpointing keeps the lowest validation loss, so use
///   [`super::accuracy_checkpointing`] to keep the most accurate epoch.
/// - A learning-rate metric shows 0: the closed form has no learning rate.
/// - `config.patience` is refused (a failed fit naming burn-train's `.early_stopping(..)`,
///   which sees the valid loader and works with this strategy).
///
/// # Example
/// ```no_run
/// use burn::optim::AdamConfig;
/// use burn::train::metric::{AccuracyMetric, LossMetric};
/// use burn::train::{Learner, SupervisedTraining};
/// use ngmnn::learner::data_loader;
/// use ngmnn::prelude::*;
///
/// let device = BackendKind::Flex.device()?.autodiff();
/// let (train, test) = ngmnn::data::digits().stratified_split(0.3, 0)?;
/// let model = NgmnnConfig::new(train.d(), vec![1024, 64], train.n_classes()).init(&device)?;
/// let strategy = ClosedFormStrategy::new(ClosedFormConfig::new());
/// let handle = strategy.handle();
/// let result = SupervisedTraining::new(
///     "runs/digits",
///     data_loader(&train, 64, Some(0), &device),
///     data_loader(&test, 256, None, &device),
/// )
/// .metrics((AccuracyMetric::new(), LossMetric::new()))
/// .with_default_checkpointers()
/// .with_checkpointing_strategy(accuracy_checkpointing())
/// .num_epochs(5)
/// .with_training_strategy(strategy.into()) // the one line that replaces gradient descent
/// .launch(Learner::new(model, AdamConfig::new().init(), 1e-2));
/// if let Some(error) = handle.take_error() {
///     panic!("closed-form fit failed: {error}");
/// }
/// let _trained = result.model;
/// # Ok::<(), NgmnnError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClosedFormStrategy {
    config: ClosedFormConfig,
    state: StrategyHandle,
}

/// Shared view of a [`ClosedFormStrategy`]'s run: its error and per-epoch closed-form records
/// (decision and ridge objectives, saturated targets, seconds), readable after `launch`.
#[derive(Debug, Clone, Default)]
pub struct StrategyHandle {
    inner: Arc<Mutex<StrategyState>>,
}

#[derive(Debug, Default)]
struct StrategyState {
    error: Option<Arc<NgmnnError>>,
    history: History,
}

/// A failed closed-form fit as burn-train sees it: `LearningResult::error` holds
/// `TrainingError::Dataset(DatasetError)`, and this type is in its chain of sources; find it by
/// downcasting (`std::iter::successors(err.source(), |e| e.source()).find_map(|e|
/// e.downcast_ref::<ClosedFormFailure>())`) for the typed [`NgmnnError`].
#[derive(Debug, Clone)]
pub struct ClosedFormFailure(pub Arc<NgmnnError>);

impl std::fmt::Display for ClosedFormFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "closed-form training failed: {}", self.0)
    }
}

impl std::error::Error for ClosedFormFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}

impl StrategyHandle {
    /// The error that stopped the last run, if any (taken: a second call returns `None`). The
    /// same error is in burn-train's `LearningResult::error` ([`ClosedFormFailure`]).
    pub fn take_error(&self) -> Option<Arc<NgmnnError>> {
        self.lock().error.take()
    }

    /// The closed-form records of the epochs run so far (this launch only).
    pub fn history(&self) -> History {
        self.lock().history.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StrategyState> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Report `error` as burn-train's strategies do (`Interrupter::fail`: the run ends with
    /// `LearningResult::error`, not as an interruption), and keep it for the handle.
    fn fail(&self, interrupter: &Interrupter, error: NgmnnError) {
        let error = Arc::new(error);
        self.lock().error = Some(error.clone());
        interrupter.fail(DatasetError::new(ClosedFormFailure(error)));
    }
}

impl ClosedFormStrategy {
    /// A strategy running the closed-form trainer with `config`.
    pub fn new(config: ClosedFormConfig) -> Self {
        Self {
            config,
            state: StrategyHandle::default(),
        }
    }

    /// A handle on this strategy's error and records, to keep before the strategy is moved
    /// into the training set-up.
    pub fn handle(&self) -> StrategyHandle {
        self.state.clone()
    }

    /// The trainer's configuration.
    pub fn config(&self) -> &ClosedFormConfig {
        &self.config
    }
}

impl<M> From<ClosedFormStrategy> for TrainingStrategy<M>
where
    M: ClosedFormModel
        + LearnerModel
        + InferenceStep<Input = <M as TrainStep>::Input, Output = <M as TrainStep>::Output>,
{
    fn from(strategy: ClosedFormStrategy) -> Self {
        TrainingStrategy::Custom(Arc::new(strategy))
    }
}

/// The head's inputs of every training batch, concatenated, or `None` without samples.
fn gather<M: ClosedFormModel + LearnerModel>(
    model: &M,
    loader: &TrainLoader<M>,
) -> Result<Option<(Tensor<2>, Tensor<1, Int>)>, DatasetError> {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for batch in loader.iter() {
        let (x, y) = model.head_inputs(&batch?);
        if y.dims()[0] > 0 {
            xs.push(x);
            ys.push(y);
        }
    }
    if xs.is_empty() {
        return Ok(None);
    }
    Ok(Some((Tensor::cat(xs, 0), Tensor::cat(ys, 0))))
}

impl<M> SupervisedLearningStrategy<M> for ClosedFormStrategy
where
    M: ClosedFormModel
        + LearnerModel
        + InferenceStep<Input = <M as TrainStep>::Input, Output = <M as TrainStep>::Output>,
{
    fn fit(
        &self,
        components: TrainingComponents<M>,
        mut learner: Learner<M>,
        dataloader_train: TrainLoader<M>,
        dataloader_valid: ValidLoader<M>,
        starting_epoch: usize,
    ) -> (M, SupervisedTrainingEventProcessor<M>) {
        let mut processor = components.event_processor;
        let interrupter = components.interrupter.clone();
        let mut checkpointer = components.checkpointer;
        let mut early_stopping = components.early_stopping;
        self.state.lock().history = History::default();

        // The closed form runs without autodiff, on the learner's device.
        let base: M = learner.model().valid();
        let device = base.head().decision.weight.device();
        let dataloader_train = dataloader_train.to_device(&device);
        let dataloader_valid = dataloader_valid.to_device(&device);
        let valid_items = dataloader_valid.num_items();

        if let Some(patience) = self.config.patience {
            let e = NgmnnError::config(
                "patience",
                patience,
                "is the core trainer's early stopping; under burn-train use \
                 `.early_stopping(..)` of the training set-up, which sees the valid loader",
            );
            self.state.fail(&interrupter, e);
            return (learner.model(), processor);
        }
        let setup = Instant::now();
        let (x, labels) = match gather(&base, &dataloader_train) {
            Ok(Some(data)) => data,
            Ok(None) => {
                let e = NgmnnError::data(None, "the training data loader yielded no samples");
                self.state.fail(&interrupter, e);
                return (learner.model(), processor);
            }
            Err(e) => {
                interrupter.fail(e);
                return (learner.model(), processor);
            }
        };
        let n = labels.dims()[0];
        // Resuming from a checkpoint: the model's random first layer (broad) is already scaled.
        let config = self
            .config
            .clone()
            .with_keep_first_layer(self.config.keep_first_layer || starting_epoch > 1)
            // burn-train's checkpoints hold the model only: the projected forward pass would
            // make a resumed run differ from the uninterrupted one by rounding.
            .with_projected_forward(Some(false));
        let fit = (config.init()).and_then(|trainer| {
            trainer.start(
                base.head(),
                Training::Tensors { x, labels },
                Validation::None,
            )
        });
        let mut fit = match fit {
            Ok(fit) => fit.with_epochs_done(starting_epoch.saturating_sub(1)),
            Err(e) => {
                self.state.fail(&interrupter, e);
                return (learner.model(), processor);
            }
        };
        let epochs = components.num_epochs.saturating_sub(starting_epoch - 1);
        self.state.lock().history = History::start(&fit, setup.elapsed().as_secs_f64(), epochs);

        for epoch in starting_epoch..=components.num_epochs {
            if interrupter.should_stop() {
                break;
            }
            interrupter.fail_on_error(processor.process_train(LearnerEvent::StartSplit {
                epoch_number: epoch,
                total_items: n,
            }));
            let (record, model) = match closed_form_epoch(&mut fit, &base) {
                Ok(done) => done,
                Err(e) => {
                    self.state.fail(&interrupter, e);
                    break;
                }
            };
            learner.load_model(model.clone().into_record());
            self.state.lock().history.epochs.push(record);

            // Training metrics: the updated model on every training batch.
            metrics_pass(&model, &dataloader_train, &interrupter, |item| {
                processor.process_train(LearnerEvent::ProcessedItem(item))
            });
            interrupter.fail_on_error(processor.process_train(LearnerEvent::EndSplit(epoch)));
            if interrupter.should_stop() {
                break;
            }

            interrupter.fail_on_error(processor.process_valid(LearnerEvent::StartSplit {
                epoch_number: epoch,
                total_items: valid_items,
            }));
            metrics_pass(&model, &dataloader_valid, &interrupter, |item| {
                processor.process_valid(LearnerEvent::ProcessedItem(item))
            });
            interrupter.fail_on_error(processor.process_valid(LearnerEvent::EndSplit(epoch)));
            interrupter.fail_on_error(processor.process_train(LearnerEvent::EndEpoch(epoch)));
            if checkpointer.is_some() || early_stopping.is_some() {
                interrupter.fail_on_error(processor.flush());
            }
            if interrupter.should_stop() {
                break;
            }
            if let Some(checkpointer) = &mut checkpointer {
                checkpointer.checkpoint(&learner, epoch, &components.event_store);
            }
            if let Some(early_stopping) = &mut early_stopping
                && early_stopping.should_stop(epoch, &components.event_store)
            {
                break;
            }
        }
        (learner.model(), processor)
    }
}

/// Run `model`'s inference step on every batch of `loader` and hand each output to `emit`
/// (burn-train's event processor), stopping when the interrupter says so.
fn metrics_pass<M, E>(
    model: &M,
    loader: &Arc<dyn DataLoader<<M as InferenceStep>::Input>>,
    interrupter: &Interrupter,
    mut emit: impl FnMut(TrainingItem<<M as InferenceStep>::Output>) -> Result<(), E>,
) where
    M: InferenceStep,
    E: Into<burn::train::TrainingError>,
{
    let mut batches = loader.iter();
    let mut iteration = 0;
    while let Some(batch) = batches.next() {
        let batch = match batch {
            Ok(batch) => batch,
            Err(e) => {
                interrupter.fail(e);
                break;
            }
        };
        iteration += 1;
        let progress = batches.progress();
        let item = TrainingItem::new(model.step(batch), progress, Some(iteration), None);
        interrupter.fail_on_error(emit(item));
        if interrupter.should_stop() {
            break;
        }
    }
}

/// One closed-form epoch, and the model holding its weights.
fn closed_form_epoch<M: ClosedFormModel>(
    fit: &mut ClosedFormFit,
    base: &M,
) -> crate::Result<(EpochRecord, M)> {
    let record = fit.epoch()?;
    let head = fit.write_into(base.head().clone())?;
    Ok((record, base.clone().with_head(head)))
}
