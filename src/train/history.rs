//! Per-epoch records of a fit.

use super::ClosedFormFit;
use crate::solve::{class_ridge::RidgeForm, gamma_search::GammaSearch};
use serde::{Deserialize, Serialize};

/// What one closed-form epoch did and reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Training accuracy after the epoch.
    pub train_acc: f64,
    /// Every training row got the same class after the epoch: a degenerate model (a ridge
    /// parameter or random-layer scaling that leaves no usable signal). [`History::degenerate`]
    /// says so for the fit; the CLI warns, and fails under `--strict`.
    #[serde(default)]
    pub one_class: bool,
    /// Validation accuracy after the epoch, if validation data was given.
    pub valid_acc: Option<f64>,
    /// Decision-layer objective after each of its rounds (spec §3).
    pub decision_objectives: Vec<f64>,
    /// Ridge objective of each hidden layer, bottom to top (spec §1).
    pub ridge_objectives: Vec<f64>,
    /// Fraction of each hidden layer's backward targets that sat at a bound the target map
    /// imposed (softmax: values the reference's repair replaced; min-max: `clip` or
    /// `1 - clip`), bottom to top (spec §2). Near 1 the targets carry no
    /// information.
    #[serde(default)]
    pub saturated_targets: Vec<f64>,
    /// Passes over the training rows the epoch made (decision-layer rounds and the forward
    /// pass; see [`crate::train::ClosedFormFit`]).
    #[serde(default)]
    pub passes: usize,
    /// Seconds spent computing moments (the Gram and cross products, with their centring and
    /// host reads) during the epoch, summed over shard threads: the cost the epoch's
    /// [`crate::solve::moments::Moments`] carry ([`crate::solve::moments::MomentsProfile`]).
    #[serde(default)]
    pub gram_seconds: f64,
    /// Floating-point operations of those products.
    #[serde(default)]
    pub gram_flops: f64,
    /// This epoch's forward passes and host solves ([`crate::train::StepProfile`]).
    #[serde(default)]
    pub steps: super::StepProfile,
    /// Wall-clock seconds of the epoch (solves and the forward pass for the metrics).
    pub seconds: f64,
    /// Workers lost during the epoch (or the setup before it) and what the fit did: whose
    /// rows moved where, and that the epoch was redone from the last completed epoch's
    /// weights ([`crate::train::Workers`]). Empty for an uninterrupted epoch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recoveries: Vec<String>,
    /// Bytes exchanged with remote workers during the epoch (feature `remote`, Linux; `None`
    /// without remote workers). A worker lost in the epoch is not counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<super::Traffic>,
}

impl EpochRecord {
    /// The decision-layer objective at the end of the epoch.
    pub fn decision_objective(&self) -> f64 {
        self.decision_objectives.last().copied().unwrap_or(f64::NAN)
    }
}

/// The records of a whole fit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// Seconds spent before the first epoch (uploading data, layer 1's Gram matrix and its
    /// factorisation, the initial forward pass).
    pub setup_seconds: f64,
    /// One record per epoch.
    pub epochs: Vec<EpochRecord>,
    /// The form of the lowest learned layer's ridge system: dual where its input is wider than
    /// the number of training rows ([`crate::solve::class_ridge::ClassRidge`]). `None` in reports written
    /// before it was recorded.
    #[serde(default)]
    pub base_form: Option<RidgeForm>,
    /// The lowest learned layer's ridge parameter ([`ClosedFormFit::base_gamma`]). `None` in
    /// reports written before it was recorded.
    #[serde(default)]
    pub base_gamma: Option<f64>,
    /// How it was chosen, when it was searched ([`crate::train::GammaSelection::Gcv`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gamma_search: Option<GammaSearch>,
    /// Bytes exchanged with remote workers during the setup (the rows' upload and the first
    /// pass; feature `remote`, Linux), summed over the workers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_traffic: Option<super::Traffic>,
    /// After the last epoch: the lowest learned layer's class targets
    /// ([`super::ClosedFormFit::base_targets`]), kept so that a resumed fit is exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_targets: Option<Vec<f64>>,
}

impl History {
    /// An empty history of `fit`, whose setup took `setup_seconds`.
    pub fn start(fit: &ClosedFormFit, setup_seconds: f64, epochs: usize) -> Self {
        Self {
            setup_seconds,
            epochs: Vec::with_capacity(epochs),
            base_form: Some(fit.base_form()),
            base_gamma: Some(fit.base_gamma()),
            gamma_search: fit.gamma_search().cloned(),
            setup_traffic: fit.setup_traffic(),
            base_targets: None,
        }
    }

    /// The last epoch's record.
    pub fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }

    /// The epoch with the best validation accuracy (the earliest among ties), if validation
    /// data was given.
    pub fn best_valid(&self) -> Option<&EpochRecord> {
        self.epochs.iter().filter(|r| r.valid_acc.is_some()).fold(
            None,
            |best: Option<&EpochRecord>, r| match best {
                Some(b) if b.valid_acc >= r.valid_acc => Some(b),
                _ => Some(r),
            },
        )
    }

    /// The fit's last epoch left a degenerate model: every training row gets one class (with
    /// two or more classes in the data). `None` when it did not (or no epoch ran); otherwise
    /// a one-line explanation naming what to change.
    pub fn degenerate(&self) -> Option<String> {
        let last = self.last().filter(|r| r.one_class)?;
        Some(format!(
            "after epoch {} every training row is predicted as the same class (training accuracy \
             {:.3}): the model is degenerate; check --gamma (too large or too small for the \
             data's scale), --random-scale/--random-offset and the features",
            last.epoch, last.train_acc
        ))
    }

    /// Setup plus all epochs, in seconds.
    pub fn total_seconds(&self) -> f64 {
        self.setup_seconds + self.epochs.iter().map(|r| r.seconds).sum::<f64>()
    }
}
