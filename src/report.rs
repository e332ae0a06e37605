//! JSON run reports written by the CLI (`--report`).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{NgmnnError, Result};
use crate::model::write_output;
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
    /// Workers lost during the epoch and what the fit did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recoveries: Vec<String>,
    /// Bytes exchanged with remote workers during the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<crate::train::Traffic>,
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
    /// Bytes exchanged with remote workers during the setup (the rows' upload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_traffic: Option<crate::train::Traffic>,
    /// The lowest learned layer's ridge parameter ([`History::base_gamma`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_gamma: Option<f64>,
    /// How it was chosen, when it was searched ([`History::gamma_search`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gamma_search: Option<crate::solve::gamma_search::GammaSearch>,
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
                recoveries: r.recoveries.clone(),
                traffic: r.traffic,
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
    /// The class names, in the model's order.
    #[serde(default)]
    pub classes: Vec<String>,
    /// `confusion[t][p]`: samples of true class `t` predicted as `p` (model order).
    #[serde(default)]
    pub confusion: Vec<Vec<usize>>,
    /// Precision, recall, F1 and support of every class.
    #[serde(default)]
    pub per_class: Vec<ClassMetrics>,
}

/// One class's figures in an [`EvalReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Class name.
    pub class: String,
    /// Of the samples predicted as this class, the fraction that are (0 when none are).
    pub precision: f64,
    /// Of the samples of this class, the fraction predicted as it (0 when there are none).
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
    /// Samples of this class.
    pub support: usize,
}

impl ClassMetrics {
    /// Every class's figures from a confusion matrix (`confusion[t][p]`).
    pub fn from_confusion(confusion: &[Vec<usize>], classes: &[String]) -> Vec<Self> {
        classes
            .iter()
            .enumerate()
            .map(|(k, class)| {
                let tp = confusion[k][k] as f64;
                let support: usize = confusion[k].iter().sum();
                let predicted: usize = confusion.iter().map(|row| row[k]).sum();
                let ratio = |a: f64, b: usize| if b == 0 { 0.0 } else { a / b as f64 };
                let (precision, recall) = (ratio(tp, predicted), ratio(tp, support));
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                Self {
                    class: class.clone(),
                    precision,
                    recall,
                    f1,
                    support,
                }
            })
            .collect()
    }
}

impl EvalReport {
    /// The confusion matrix and the per-class figures as a text table.
    pub fn table(&self) -> String {
        let width = self
            .classes
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(1)
            .max(6);
        let mut out = format!("{:>width$} | predicted ->\n", "actual");
        out += &format!("{:>width$} |", "");
        for c in &self.classes {
            out += &format!(" {c:>width$}");
        }
        out += "\n";
        for (c, row) in self.classes.iter().zip(&self.confusion) {
            out += &format!("{c:>width$} |");
            for v in row {
                out += &format!(" {v:>width$}");
            }
            out += "\n";
        }
        out += &format!(
            "\n{:>width$} | precision    recall        F1   support\n",
            "class"
        );
        for m in &self.per_class {
            out += &format!(
                "{:>width$} | {:>9.4} {:>9.4} {:>9.4} {:>9}\n",
                m.class, m.precision, m.recall, m.f1, m.support
            );
        }
        out
    }
}

/// Write any report as pretty JSON to the output `path`: a regular file atomically (a
/// symlink's target replaced), `-` / a FIFO / a device written through
/// ([`crate::model::OutputFile`]).
///
/// # Errors
/// [`NgmnnError::Json`] / [`NgmnnError::Io`].
pub fn write_json<T: Serialize>(value: &T, path: &Path) -> Result<()> {
    let json = serde_json::to_vec_pretty(value).map_err(|e| NgmnnError::Json {
        path: path.to_owned(),
        source: e,
    })?;
    write_output(path, &json)
}

#[cfg(test)]
mod tests {
    use super::ClassMetrics;
    use crate::metrics::confusion;

    #[test]
    fn per_class_metrics_match_sklearn() {
        // sklearn.metrics.precision_recall_fscore_support([0,0,1,1,2,2], [0,1,1,1,2,0]):
        // precision [0.5, 0.667, 1.0], recall [0.5, 1.0, 0.5], f1 [0.5, 0.8, 0.667], support 2 each.
        let truth = [0, 0, 1, 1, 2, 2];
        let pred = [0, 1, 1, 1, 2, 0];
        let names: Vec<String> = ["a", "b c", "d"].iter().map(|s| s.to_string()).collect();
        let m = ClassMetrics::from_confusion(&confusion(&pred, &truth, 3), &names);
        let want = [
            (0.5, 0.5, 0.5),
            (2.0 / 3.0, 1.0, 0.8),
            (1.0, 0.5, 2.0 / 3.0),
        ];
        for (got, (p, r, f)) in m.iter().zip(want) {
            assert!((got.precision - p).abs() < 1e-12 && (got.recall - r).abs() < 1e-12);
            assert!((got.f1 - f).abs() < 1e-12 && got.support == 2);
        }
        assert_eq!(m[1].class, "b c");
    }
}
