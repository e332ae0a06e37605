//! Burn training-API integration (feature `train`): the closed-form trainer as a burn-train
//! [`SupervisedLearningStrategy`](burn::train::SupervisedLearningStrategy), the train/inference
//! steps that let the stock [`Learner`](burn::train::Learner) train an [`Ngmnn`](crate::model::Ngmnn)
//! with SGD or Adam, and the data pipeline that feeds both.
//!
//! Swapping gradient descent for the closed form is one builder line:
//!
//! ```no_run
//! # use std::sync::Arc;
//! use burn::optim::AdamConfig;
//! use burn::train::{Learner, SupervisedTraining, metric::{AccuracyMetric, LossMetric}};
//! use ngmnn::learner::{ClosedFormStrategy, data_loader};
//! use ngmnn::{BackendKind, data, model::NgmnnConfig, train::ClosedFormConfig};
//!
//! let device = BackendKind::Flex.device()?.autodiff();
//! let (train, test) = data::digits().stratified_split(0.3, 0)?;
//! let model = NgmnnConfig::new(train.d(), vec![1024, 64], train.n_classes()).init(&device)?;
//! let training = SupervisedTraining::new(
//!     "/tmp/ngmnn-run",
//!     data_loader(&train, 64, Some(0), &device),
//!     data_loader(&test, 256, None, &device),
//! )
//! .metrics((AccuracyMetric::new(), LossMetric::new()))
//! .num_epochs(10)
//! // The one line: without it, the same set-up trains with Adam.
//! .with_training_strategy(ClosedFormStrategy::new(ClosedFormConfig::new()).into());
//! let result = training.launch(Learner::new(model, AdamConfig::new().init(), 1e-3));
//! # let _ = result;
//! # Ok::<(), ngmnn::NgmnnError>(())
//! ```

mod batch;
mod burn_source;
mod checkpointing;
mod classifier;
mod gradient;
mod head;
mod mlp;
mod step;
mod strategy;

pub use batch::{ClassificationBatch, Sample, SampleBatcher, data_loader, samples};
pub use burn_source::BurnDatasetSource;
pub use checkpointing::accuracy_checkpointing;
pub use classifier::Classifier;
pub use gradient::{
    GradientConfig, GradientEpoch, GradientHistory, GradientTrainer, OptimizerKind,
};
pub use head::ClosedFormModel;
pub use mlp::{Mlp, MlpConfig};
pub use strategy::{ClosedFormFailure, ClosedFormStrategy, StrategyHandle};
