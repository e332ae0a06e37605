//! JSON run reports written by the CLI (`--report`).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{NgmnnError, Result};
use crate::model::write_atomic;
use crate::train::{ClosedFormConfig, History};

/// One epoch in a [`TrainReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// 1-based epoch.
    pub epoch: usize,
    /// Training accuracy after the epoch.
    pub train_acc: f64,
    /// Test accuracy after the epoch.
    pub test_acc: Option<f64>,
    /// Decision-layer objective at the end of the epoch.
    pub decision_objective: f64,
    /// Ridge objective per hidden layer, bottom to top.
    pub ridge_objectives: Vec<f64>,
    /// Seconds the epoch took.
    pub seconds: f64,
    /// Passes over the training rows.
    #[serde(default)]
    pub passes: usize,
    /// Seconds in the Gram / cross products (with their centring and host reads).
    #[serde(default)]
    pub gram_seconds: f64,
    /// Floating-point operations of those products.
    #[serde(default)]
    pub gram_flops: f64,
}

/// The report of `ngmnn train`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainReport {
    /// Dataset name.
    pub dataset: String,
    /// Training samples.
    pub n_train: usize,
    /// Test samples (0 without a test set).
    pub n_test: usize,
    /// Features.
    pub d: usize,
    /// Classes.
    pub classes: usize,
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// Backend name.
    pub backend: String,
    /// Seed of the split and the initialisation.
    pub seed: u64,
    /// Whether the inputs were standardised.
    pub standardize: bool,
    /// The trainer's configuration.
    pub trainer: ClosedFormConfig,
    /// Per-epoch figures.
    pub epochs: Vec<EpochReport>,
    /// Test accuracy after the last epoch.
    pub final_test_acc: Option<f64>,
    /// Best test accuracy over the epochs (the reference's "best-epoch" figure; not a model
    /// selection criterion).
    pub best_test_acc: Option<f64>,
    /// The epoch of `best_test_acc`.
    pub best_epoch: Option<usize>,
    /// Macro-F1 on the test set after the last epoch.
    pub final_test_macro_f1: Option<f64>,
    /// Seconds before the first epoch.
    pub setup_seconds: f64,
    /// Setup plus all epochs.
    pub total_seconds: f64,
}

impl TrainReport {
    /// Fill the per-epoch part from a fit's history (the fit's validation set is the test set).
    pub fn epochs_from(history: &History) -> Vec<EpochReport> {
        history
            .epochs
            .iter()
            .map(|r| EpochReport {
                epoch: r.epoch,
                train_acc: r.train_acc,
                test_acc: r.valid_acc,
                decision_objective: r.decision_objective(),
                ridge_objectives: r.ridge_objectives.clone(),
                seconds: r.seconds,
                passes: r.passes,
                gram_seconds: r.gram_seconds,
                gram_flops: r.gram_flops,
            })
            .collect()
    }
}

/// The report of `ngmnn eval`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Dataset name.
    pub dataset: String,
    /// Samples evaluated.
    pub n: usize,
    /// Accuracy.
    pub accuracy: f64,
    /// Macro-averaged F1.
    pub macro_f1: f64,
    /// Backend name.
    pub backend: String,
    /// Seconds of the prediction.
    pub seconds: f64,
}

/// Write any report as pretty JSON, atomically.
///
/// # Errors
/// [`NgmnnError::Json`] / [`NgmnnError::Io`].
pub fn write_json<T: Serialize>(value: &T, path: &Path) -> Result<()> {
    let json = serde_json::to_vec_pretty(value).map_err(|e| NgmnnError::Json {
        path: path.to_owned(),
        source: e,
    })?;
    write_atomic(path, &json)
}
