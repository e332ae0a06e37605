//! [`ClosedFormConfig`]: the trainer's hyper-parameters (spec §5) and presets.

use burn::config::Config;
use serde::{Deserialize, Serialize};

use crate::backend::Precision;
use crate::error::{NgmnnError, Result};
use crate::solve::class_ridge::GammaRule;
use crate::solve::{
    adaptive_weights::AlphaIndex, backward_targets::TargetMap, decision_layer::DecisionOptions,
    gamma_search::GCV_GRID,
};

use super::{ClosedForm, Preset};

crate::choice::choice_enum! {
    "gamma selection",
    /// How the lowest learned layer's ridge parameter is set (the layer that reads a fixed
    /// input: the random layer in `broad`, the data in `paper`).
    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum GammaSelection {
        /// `gamma` (or the preset's), as every other layer.
        Fixed,
        /// Generalised cross-validation over [`GCV_GRID`], once per fit from the system the fit
        /// builds anyway ([`crate::solve::gamma_search`]); the other layers keep `gamma`.
        Gcv,
    }
}

/// The ridge parameters that make numerical sense (checked by [`ClosedFormConfig::check`]): every
/// system gamma regularises is a (weighted) sum of squares of hidden outputs, which lie in
/// `(0, 1)` (a sigmoid's range, row-normalised); below `1e-12` gamma does not regularise even
/// in f64 (a singular Gram stays singular), above `1e12` it drives every weight to zero (the
/// issue's `--gamma 1e300` gave one class for every row).
pub const GAMMA_RANGE: (f64, f64) = (1e-12, 1e12);

/// The largest `random_scale` (standard deviation of a random unit's pre-activation): beyond
/// it nearly every row sits on a sigmoid's flat tails and the units are step functions.
pub const MAX_RANDOM_SCALE: f64 = 32.0;

/// The largest `random_offset`: `sigmoid(16) = 1 - 1.1e-7`, within f32's rounding of 1, so a
/// unit centred beyond it is constant on almost every row.
pub const MAX_RANDOM_OFFSET: f64 = 16.0;

/// Hyper-parameters of the closed-form trainer. The numbers default to the reference's (spec
/// §5); the preset defaults to [`Preset::Broad`] (beyond the paper). [`ClosedFormConfig::paper`]
/// is the reference's behaviour.
///
/// # Example
/// ```
/// use ngmnn::train::{ClosedFormConfig, Preset};
/// let config = ClosedFormConfig::new().with_epochs(10).with_preset(Preset::Corrected);
/// assert!(config.check().is_ok());
/// assert!(config.clone().with_gamma(Some(-1.0)).check().is_err());
/// ```
#[derive(Config, Debug)]
pub struct ClosedFormConfig {
    /// Ridge / Tikhonov parameter `gamma`, shared by all layers. `None`: the preset's
    /// ([`Preset::default_gamma`]: 0.3 for paper and corrected, 0.03 for broad, whose lowest
    /// learned layer then has its own chosen by cross-validation, see
    /// [`ClosedFormConfig::gamma_selection`](field@ClosedFormConfig::gamma_selection)); read
    /// it with [`ClosedFormConfig::gamma`].
    #[config(default = "None")]
    pub gamma: Option<f64>,
    /// Fraction of samples the adaptive weights keep (`K = round(ratio * n) - 2`).
    #[config(default = 1.0)]
    pub ratio: f64,
    /// Number of epochs `T`.
    #[config(default = 50)]
    pub epochs: usize,
    /// Decision-layer block-coordinate-descent rounds per epoch (at most).
    #[config(default = 4)]
    pub decision_iterations: usize,
    /// Decision-layer stopping tolerance on the objective's change.
    #[config(default = 1e-2)]
    pub tolerance: f64,
    /// Bound of the backward targets (spec §2): the softmax map replaces values at 0 or 1 by
    /// `clip` / `1 - clip` (the reference's repair; smaller values are kept); the min-max map
    /// spreads each column over `[clip, 1 - clip]`.
    #[config(default = 1e-4)]
    pub clip: f64,
    /// `paper` (reference, quirks included) or `corrected`.
    #[config(default = "Preset::Broad")]
    pub preset: Preset,
    /// How backward pre-images are mapped into the activation's range (spec §2): `softmax`
    /// (reference) or `minmax` (works at any n).
    #[config(default = "TargetMap::ColumnSoftmax")]
    pub targets: TargetMap,
    /// Precision of the device computations (host solves are always f64).
    #[config(default = "Precision::F64")]
    pub precision: Precision,
    /// Rows per chunk in every pass over the data (results do not depend on it beyond
    /// rounding). `None`: about 2^21 elements of the widest layer (plus the classes) per chunk,
    /// which keeps CPU temporaries small; a GPU may prefer whole shards (a large value).
    #[config(default = "None")]
    pub chunk_rows: Option<usize>,
    /// `broad` preset: standard deviation of each unit's pre-activation on the training
    /// data.
    #[config(default = 2.0)]
    pub random_scale: f64,
    /// `broad` preset: spread of the units' mean pre-activations (measured on MNIST [1024, 64]:
    /// 0 -> 0.940, 1 -> 0.948, 2 -> 0.953, 3 -> 0.955; waveform 0.865 / 0.862 / 0.857 for 1 / 2
    /// / 3).
    #[config(default = 2.0)]
    pub random_offset: f64,
    /// `broad` preset: the inputs are images of `[height, width]` pixels (row-major); each
    /// random unit then sees a random rectangle of the image (local receptive fields, McDonnell
    /// et al. 2015) instead of every pixel. `None`: every unit sees every feature (tabular data).
    #[config(default = "None")]
    pub image_shape: Option<[usize; 2]>,
    /// `broad` preset: the model's first layer was already scaled to the data by an earlier
    /// fit (resuming from a checkpoint, or continuing a fitted model): keep it as it is instead
    /// of scaling (and masking) it again at the start of this fit.
    #[config(default = false)]
    pub keep_first_layer: bool,
    /// Memory the fit may use, in bytes, checked before the large allocations (the moments of
    /// the lowest learned layer's input); `None`: the machine's available memory.
    #[config(default = "None")]
    pub memory_limit: Option<u64>,
    /// Proximal ridge for the learned hidden layers (beyond the paper; block coordinate
    /// descent, Zeng et al. 2019): each solve adds `rho ||W - W_prev||^2`, so the label targets
    /// correct the previous weights (from the random initialisation) instead of replacing them
    /// ([`crate::solve::class_ridge::ClassRidge::solve_proximal`]). `None`: the paper's plain ridge. Needs
    /// the primal form of the systems (inputs no wider than the rows). Measured, no gain: the
    /// broad default loses with every `rho` tried (MNIST slice 0.944 -> 0.937 / 0.898 / 0.848
    /// at 0.3 / 3 / 30), the paper preset is unchanged or worse (docs/beyond-the-paper.md);
    /// kept for experiments, off by default.
    #[config(default = "None")]
    pub proximal: Option<f64>,
    /// Forward passes through the lowest learned layer by its class projection
    /// (`(H P + 1 a^T) G`, computed once per fit, instead of `H W`; [`crate::solve::class_ridge::ClassRidge::projection`]):
    /// the same mathematics at a fraction of the cost, and the layers below it are not run
    /// again. Rounding differs from `H W`, so a fit resumed from a model alone is exact only
    /// with this off or with the epoch's targets restored
    /// ([`crate::train::ClosedFormFit::with_base_targets`]; the CLI's checkpoints keep them,
    /// burn-train's do not, so the burn-train strategy turns it off). `None` (the default):
    /// on; an `Option` so that model files written before it existed still load.
    #[config(default = "None")]
    pub projected_forward: Option<bool>,
    /// How the lowest learned layer's ridge parameter is set. `None`: the preset's rule,
    /// [`GammaSelection::Gcv`] for `broad` when `gamma` is not given (measured on the
    /// development sets, docs/beyond-the-paper.md), [`GammaSelection::Fixed`] otherwise and
    /// always with `proximal`; read it with [`ClosedFormConfig::gamma_selection`].
    #[config(default = "None")]
    pub gamma_selection: Option<GammaSelection>,
    /// Early stopping: with validation data, stop once its accuracy has not improved for this
    /// many epochs and return the best epoch's model (spec §4: select by validation data).
    /// `None`: run all `epochs` and return the last model.
    #[config(default = "None")]
    pub patience: Option<usize>,
}

impl ClosedFormConfig {
    /// Check, before the model is built, that a model of `model`'s shape and this fit's copy
    /// of its parameters (in the fit's precision, with one temporary of that size) fit in the
    /// memory limit (or the memory available): a model too wide for the machine is one clear
    /// error instead of minutes of allocation and an abort.
    ///
    /// # Errors
    /// [`NgmnnError::OutOfMemory`].
    pub fn check_model_memory(&self, model: &crate::model::NgmnnConfig) -> Result<()> {
        let params = model.n_params().unwrap_or(u64::MAX);
        // The model's own f32 parameters, then the fit's copy.
        let fit = crate::memory::fit_params_bytes(params, self.precision.dtype().size());
        crate::memory::ensure_fits(
            params.saturating_mul(4).saturating_add(fit),
            self.memory_limit,
            &format!(
                "a model of {params} parameters (widths {:?}) and its {} copy for the fit",
                model.widths(),
                self.precision
            ),
            "narrow the hidden layers (--hidden), use precision f32, or raise --memory-limit",
        )
    }

    /// Validate every field (the first broken rule is reported).
    ///
    /// # Errors
    /// [`NgmnnError::InvalidConfig`] naming the field, its value and the rule.
    pub fn check(&self) -> Result<()> {
        let finite_pos = |v: f64| v.is_finite() && v > 0.0;
        if !(GAMMA_RANGE.0..=GAMMA_RANGE.1).contains(&self.gamma()) {
            return Err(NgmnnError::config(
                "gamma",
                self.gamma(),
                format!(
                    "must lie in [{:e}, {:e}]: the systems it regularises are sums of squares of \
                     hidden outputs in (0, 1), and outside that range it either leaves them \
                     singular or removes every signal (a constant model)",
                    GAMMA_RANGE.0, GAMMA_RANGE.1
                ),
            ));
        }
        if !(self.ratio > 0.0 && self.ratio <= 1.0) {
            return Err(NgmnnError::config(
                "ratio",
                self.ratio,
                "must lie in (0, 1]",
            ));
        }
        if self.epochs == 0 {
            return Err(NgmnnError::config(
                "epochs",
                self.epochs,
                "must be at least 1",
            ));
        }
        if self.decision_iterations == 0 {
            return Err(NgmnnError::config(
                "decision_iterations",
                self.decision_iterations,
                "must be at least 1",
            ));
        }
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return Err(NgmnnError::config(
                "tolerance",
                self.tolerance,
                "must be finite and >= 0",
            ));
        }
        if !(finite_pos(self.random_scale) && self.random_scale <= MAX_RANDOM_SCALE) {
            return Err(NgmnnError::config(
                "random_scale",
                self.random_scale,
                format!(
                    "must lie in (0, {MAX_RANDOM_SCALE}]: a larger spread makes every random unit \
                     a step function"
                ),
            ));
        }
        if !(self.random_offset >= 0.0 && self.random_offset <= MAX_RANDOM_OFFSET) {
            return Err(NgmnnError::config(
                "random_offset",
                self.random_offset,
                format!(
                    "must lie in [0, {MAX_RANDOM_OFFSET}]: a sigmoid unit whose mean \
                     pre-activation is beyond +-{MAX_RANDOM_OFFSET} is constant to f32 precision"
                ),
            ));
        }
        if let Some(rho) = self.proximal
            && !finite_pos(rho)
        {
            return Err(NgmnnError::config(
                "proximal",
                rho,
                "must be finite and > 0",
            ));
        }
        if self.patience == Some(0) {
            return Err(NgmnnError::config("patience", 0, "must be at least 1"));
        }
        if self.chunk_rows == Some(0) {
            return Err(NgmnnError::config("chunk_rows", 0, "must be at least 1"));
        }
        if !(self.clip > 0.0 && self.clip < 0.5) {
            return Err(NgmnnError::config(
                "clip",
                self.clip,
                "must lie in (0, 0.5)",
            ));
        }
        Ok(())
    }

    /// Build the trainer.
    ///
    /// # Errors
    /// As [`ClosedFormConfig::check`].
    pub fn init(&self) -> Result<ClosedForm> {
        self.check()?;
        Ok(ClosedForm::new(self.clone()))
    }

    /// The reference's behaviour (spec §1-§5), quirks included: `new()` with the `paper`
    /// preset.
    pub fn paper() -> Self {
        Self::new().with_preset(Preset::Paper)
    }

    /// The ridge parameter in force: `gamma`, or the preset's default.
    pub fn gamma(&self) -> f64 {
        self.gamma.unwrap_or(self.preset.default_gamma())
    }

    /// The rule in force for the lowest learned layer's ridge parameter (see
    /// [`ClosedFormConfig::gamma_selection`](field@ClosedFormConfig::gamma_selection)).
    pub fn gamma_selection(&self) -> GammaSelection {
        match (self.gamma_selection, self.proximal) {
            (_, Some(_)) => GammaSelection::Fixed,
            (Some(rule), None) => rule,
            (None, None) if self.preset == Preset::Broad && self.gamma.is_none() => {
                GammaSelection::Gcv
            }
            (None, None) => GammaSelection::Fixed,
        }
    }

    /// The lowest learned layer's [`GammaRule`] for a fit whose sums are accumulated with
    /// machine epsilon `eps`.
    pub fn base_gamma_rule(&self, eps: f64) -> GammaRule {
        match self.gamma_selection() {
            GammaSelection::Fixed => GammaRule::Fixed(self.system_gamma()),
            GammaSelection::Gcv => GammaRule::Gcv {
                grid: GCV_GRID.to_vec(),
                eps,
            },
        }
    }

    /// The diagonal added to the learned layers' Gram matrices: `gamma`, plus the proximal
    /// weight `rho` when [`ClosedFormConfig::proximal`] is set.
    pub fn system_gamma(&self) -> f64 {
        self.gamma() + self.proximal.unwrap_or(0.0)
    }

    /// Whether the first hidden layer is a frozen random layer (the broad preset).
    pub fn random_first_layer(&self) -> bool {
        self.preset == Preset::Broad
    }

    /// The decision-layer solver's options under this config.
    pub fn decision_options(&self) -> DecisionOptions {
        DecisionOptions {
            gamma: self.gamma(),
            ratio: self.ratio,
            max_iterations: self.decision_iterations,
            tolerance: self.tolerance,
            alpha_index: match self.preset {
                Preset::Paper | Preset::Broad => AlphaIndex::Paper,
                Preset::Corrected => AlphaIndex::Textbook,
            },
            fresh_bias: self.preset != Preset::Paper,
            hold_lambda: self.preset == Preset::Corrected,
            ridge_in_objective: self.preset == Preset::Corrected,
            monotone: self.preset == Preset::Corrected,
        }
    }
}
