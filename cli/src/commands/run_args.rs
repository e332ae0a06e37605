//! What a run is: the data, model and trainer options that `train`, `compare` and the
//! checkpoints share, the trainer's configuration from them, and the data prepared (split,
//! standardised).

use anyhow::Context;
use clap::Args;
use ngmnn::Precision;
use ngmnn::data::{LabeledData, Standardizer};
use ngmnn::model::Activation;
use ngmnn::solve::backward_targets::TargetMap;
use ngmnn::train::{ClosedFormConfig, GammaSelection, Preset};
use serde::{Deserialize, Serialize};

use super::common::{BackendArgs, DataArgs};

fn default_random_scale() -> f64 {
    2.0
}

fn default_random_offset() -> f64 {
    2.0
}

fn default_image_shape() -> String {
    "auto".into()
}

impl RunArgs {
    /// The image shape the trainer uses (`--image-shape`): `auto` takes `declared`, the
    /// shape the data's file declares.
    pub fn image_shape(&self, declared: Option<[usize; 2]>) -> anyhow::Result<Option<[usize; 2]>> {
        match self.image_shape.trim() {
            "auto" => Ok(declared),
            "none" => Ok(None),
            text => {
                let parsed = text
                    .split_once(['x', 'X'])
                    .and_then(|(h, w)| Some([h.trim().parse().ok()?, w.trim().parse().ok()?]))
                    .filter(|[h, w]: &[usize; 2]| *h > 0 && *w > 0);
                parsed.map(Some).ok_or_else(|| {
                    anyhow::anyhow!("--image-shape {text}: expected auto, none or HxW (e.g. 28x28)")
                })
            }
        }
    }

    /// `--precision`, or the default: f32 for the broad preset (measured: the same test
    /// accuracy as f64 to three decimals on every development set, seeds 0-2, and on MNIST
    /// 0.9649 both, at well under half the time; the host solves stay f64), else the
    /// backend's ([`BackendArgs::default_precision`]: f64 on CPUs, so the paper and
    /// corrected presets keep the reference's float64).
    pub fn precision(&self) -> Precision {
        self.precision.unwrap_or_else(|| match self.preset {
            Preset::Broad => Precision::F32,
            Preset::Paper | Preset::Corrected => self.backend.default_precision(),
        })
    }

    /// The hidden widths: as given, or the preset's default (broad: a wide random layer and a
    /// learned one; paper / corrected: the reference's single layer of 64).
    pub fn hidden_widths(&self, d_input: usize) -> Vec<usize> {
        if self.hidden.is_empty() {
            self.preset.default_hidden(d_input)
        } else {
            self.hidden.clone()
        }
    }
}

/// Default number of epochs.
pub(super) const DEFAULT_EPOCHS: usize = 20;

/// What defines a training run (saved in checkpoints so `--resume` rebuilds the same run).
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct RunArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Explicit test set (same format options); otherwise a seeded stratified split, or the
    /// t10k files of an MNIST directory.
    #[arg(long)]
    pub test: Option<String>,
    /// Fraction held out for testing when no test set is given (0 disables testing).
    #[arg(long, default_value_t = 0.3)]
    pub test_fraction: f64,
    /// Hidden layer widths, comma-separated (the last must be >= the number of classes).
    /// Default: 2048,64 for the broad preset (random, learned; fewer random units for more than
    /// 8192 features: at most 2^24 random weights), 64 for paper and corrected.
    #[arg(long, value_delimiter = ',')]
    pub hidden: Vec<usize>,
    /// Ridge parameter gamma (default: the preset's, 0.03 for broad, 0.3 for paper and
    /// corrected). Given, it is every layer's, the lowest learned layer's included (unless
    /// --gamma-selection gcv).
    #[arg(long)]
    pub gamma: Option<f64>,
    /// How the lowest learned layer's gamma is set: gcv (generalised cross-validation over
    /// 1e-5..10, once per fit; broad's default when --gamma is not given) or fixed (--gamma or
    /// the preset's; paper's and corrected's default).
    #[arg(long, value_name = "RULE")]
    #[serde(default)]
    pub gamma_selection: Option<GammaSelection>,
    /// broad (default: a frozen random first layer scaled to the data, the layers above learned
    /// in closed form; beyond the paper), paper (the reference's behaviour, quirks included) or
    /// corrected (paper with its quirks fixed).
    #[arg(long, default_value = "broad")]
    pub preset: Preset,
    /// Backward-target map: softmax (reference; degenerates for n > ~10^4) or minmax.
    #[arg(long, default_value = "softmax")]
    pub targets: TargetMap,
    /// Broad preset: the inputs are images of this shape (HxW, e.g. 28x28), so each random
    /// unit sees a random rectangle of pixels; `auto` (default): the shape IDX image files
    /// declare (none for CSV / .mat data); `none`: every unit sees every feature.
    #[arg(long, default_value = "auto")]
    #[serde(default = "default_image_shape")]
    pub image_shape: String,
    /// Broad preset: standard deviation of each random unit's pre-activation on the data.
    #[arg(long, default_value_t = 2.0)]
    #[serde(default = "default_random_scale")]
    pub random_scale: f64,
    /// Broad preset: spread of the random units' mean pre-activations (each unit's mean is
    /// drawn in (-S, S)).
    #[arg(long, default_value_t = 2.0)]
    #[serde(default = "default_random_offset")]
    pub random_offset: f64,
    /// Proximal ridge for the learned hidden layers: each solve adds RHO ||W - W_prev||^2
    /// (the label targets correct the previous weights instead of replacing them). An
    /// experiment: off by default, no gain measured (docs/beyond-the-paper.md).
    #[arg(long, value_name = "RHO")]
    #[serde(default)]
    pub proximal: Option<f64>,
    /// Hidden activation: sigmoid or tanh.
    #[arg(long, default_value = "sigmoid")]
    pub activation: Activation,
    /// Precision of the closed form's device computations: f64 (reference) or f32 (faster).
    /// Default: f32 for the broad preset; for paper and corrected f64 on CPU backends, f32 on
    /// GPUs (`compare`: f32, the gradient trainers' precision, so that every trainer computes
    /// in one precision).
    #[arg(long)]
    pub precision: Option<Precision>,
    /// Standardise features (mean 0, std 1), fitted on the training part only.
    #[arg(long)]
    pub standardize: bool,
    /// Memory the fit may use, in MB (default: the machine's available memory); the fit stops
    /// with a clear error before an allocation that would not fit.
    #[arg(long)]
    #[serde(default)]
    pub memory_limit: Option<u64>,
    /// Seed of the split and of the initialisation.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub backend: BackendArgs,
}

/// The data of a run, prepared: split, standardised.
pub(super) struct Prepared {
    pub(super) train: LabeledData,
    pub(super) test: Option<LabeledData>,
    pub(super) standardizer: Option<Standardizer>,
}

/// The closed-form trainer's configuration of a run.
pub(super) fn trainer_config(
    run: &RunArgs,
    epochs: usize,
    declared_image: Option<[usize; 2]>,
) -> anyhow::Result<ClosedFormConfig> {
    let trainer = ClosedFormConfig::new()
        .with_epochs(epochs)
        .with_gamma(run.gamma)
        .with_preset(run.preset)
        .with_targets(run.targets)
        .with_random_scale(run.random_scale)
        .with_random_offset(run.random_offset)
        .with_proximal(run.proximal)
        .with_gamma_selection(run.gamma_selection)
        .with_image_shape(run.image_shape(declared_image)?)
        .with_memory_limit(run.memory_limit.map(|mb| mb.saturating_mul(1 << 20)))
        .with_precision(run.precision());
    trainer.check()?;
    Ok(trainer)
}

/// Load the data and build the run's training/test parts (deterministic in `run`).
pub(super) fn prepare(run: &RunArgs) -> anyhow::Result<Prepared> {
    let loaded = run.data.load_within(run.memory_limit)?;
    let (mut train, mut test) = split(run, loaded.data, loaded.test)?;
    let standardizer = run.standardize.then(|| Standardizer::fit(&train));
    if let Some(s) = &standardizer {
        s.apply(&mut train)?;
        if let Some(t) = test.as_mut() {
            s.apply(t)?;
        }
    }
    Ok(Prepared {
        train,
        test,
        standardizer,
    })
}

/// Training and test parts: an explicit test file, the source's own test part, a seeded
/// stratified split, or no test set (`--test-fraction 0`).
fn split(
    run: &RunArgs,
    data: LabeledData,
    own_test: Option<LabeledData>,
) -> anyhow::Result<(LabeledData, Option<LabeledData>)> {
    let test = match &run.test {
        Some(path) => Some(run.data.load_other_within(path, run.memory_limit)?.data),
        None => own_test,
    };
    if let Some(test) = test {
        let test = test
            .with_classes(data.classes())
            .context("matching test classes to training classes")?;
        return Ok((data, Some(test)));
    }
    if run.test_fraction == 0.0 {
        return Ok((data, None));
    }
    let (train, test) = data.stratified_split(run.test_fraction, run.seed)?;
    Ok((train, Some(test)))
}
