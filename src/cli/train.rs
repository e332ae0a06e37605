//! `ngmnn train`: the closed-form fit, with per-epoch checkpoints (`--out`), clean Ctrl-C
//! handling, `--resume`, a progress bar, `--plot` and `--json`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use ngmnn::Precision;
use ngmnn::data::{LabeledData, Standardizer};
use ngmnn::metrics::macro_f1;
use ngmnn::model::{Activation, Ngmnn, NgmnnConfig, SavedModel, outdir};
use ngmnn::plot::plot_history;
use ngmnn::report::{TrainReport, write_json};
use ngmnn::solve::{RidgeForm, TargetMap};
use ngmnn::train::{ClosedFormConfig, ClosedFormFit, EpochRecord, GammaSelection, History, Preset};
use serde::{Deserialize, Serialize};

use super::checkpoint::Checkpoint;
use super::common::{BackendArgs, DataArgs, predict};
use super::interrupt;

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

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub(super) run: RunArgs,
    /// Number of closed-form epochs (default 20, for every preset; the reference runs 50, but
    /// accuracy peaks within 2-4 epochs, spec §4; with --resume: the total to reach).
    #[arg(long)]
    pub(super) epochs: Option<usize>,
    /// Save the model (model.bpk + model.json) and a checkpoint into this directory after
    /// every epoch. It must be new, empty or written by ngmnn; only the versions ngmnn wrote
    /// there are ever deleted.
    #[arg(long)]
    pub(super) out: Option<PathBuf>,
    /// Write into an `--out` folder that is not empty and was not written by ngmnn, beside its
    /// files: nothing ngmnn did not write is deleted or replaced.
    #[arg(long, requires = "out")]
    pub(super) out_force: bool,
    /// Continue the run checkpointed in this directory from its last completed epoch (the
    /// data and model options are taken from the checkpoint).
    #[arg(long, conflicts_with = "out")]
    pub(super) resume: Option<PathBuf>,
    /// Write a JSON report here.
    #[arg(long)]
    pub(super) report: Option<PathBuf>,
    /// Draw train/test accuracy and the objectives per epoch into this SVG file.
    #[arg(long)]
    pub(super) plot: Option<PathBuf>,
    /// Print only the summary.
    #[arg(long)]
    pub(super) quiet: bool,
    /// Print the JSON report on stdout instead of the table (for scripts).
    #[arg(long)]
    pub(super) json: bool,
    /// Split the training rows into this many shards, each computed on its own thread on
    /// the device, their moments merged on the host (same weights up to rounding).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub(super) shards: u16,
    #[command(flatten)]
    pub(super) workers: super::workers::WorkersArgs,
    /// Stream the training data from disk in batches of this many rows instead of loading
    /// it (CSV, TSV, an IDX images file or an MNIST directory: data larger than memory). Every
    /// pass re-reads the file; the test set is `--test` or the MNIST directory's t10k files,
    /// also streamed. Not with --standardize or --resume; `--out` saves the model only.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub(super) stream_rows: Option<u32>,
    /// Fail (exit 1) instead of warning when the fit leaves a degenerate model: every
    /// training row predicted as one class.
    #[arg(long)]
    pub(super) strict: bool,
}

/// The data of a run, prepared: split, standardised.
pub(super) struct Prepared {
    pub(super) train: LabeledData,
    pub(super) test: Option<LabeledData>,
    pub(super) standardizer: Option<Standardizer>,
}

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    if let Some(rows) = args.stream_rows {
        return super::stream::run(&args, rows as usize);
    }
    // One run per output folder: the lock is taken before anything else is done.
    let out = args.out.clone().or_else(|| args.resume.clone());
    let lock = super::checkpoint::lock_out(&args)?;
    let resumed = match &args.resume {
        Some(dir) => Some(Checkpoint::load(dir)?),
        None => None,
    };
    let run = resumed
        .as_ref()
        .map_or_else(|| args.run.clone(), |c| c.run.clone());
    let epochs = args
        .epochs
        .or(resumed.as_ref().map(|c| c.epochs))
        .unwrap_or(DEFAULT_EPOCHS);
    let chatty = !(args.quiet || args.json);

    let device = run.backend.device()?;
    let spinner = spinner(chatty, &format!("loading {}", run.data.data));
    let data = prepare(&run)?;
    spinner.finish_and_clear();
    let (train, test) = (&data.train, data.test.as_ref());

    let config = NgmnnConfig::new(train.d(), run.hidden_widths(train.d()), train.n_classes())
        .with_activation(run.activation)
        .with_seed(run.seed);
    let trainer = trainer_config(&run, epochs, train.image_shape())?;
    trainer.check_model_memory(&config)?;
    small_host_systems(&run.hidden_widths(train.d()));
    let (model, mut history) = match (&resumed, &args.resume) {
        (Some(ckpt), Some(dir)) => {
            let (_, model) = SavedModel::load(dir, &device)?;
            (model, ckpt.history.clone())
        }
        _ => (config.init(&device)?, History::default()),
    };
    let done = history.epochs.len();
    if done >= epochs {
        anyhow::bail!(
            "the run already has {done} epochs; ask for more with --epochs N (N > {done})"
        );
    }
    if chatty {
        println!(
            "ngmnn train: {} | {} train / {} test | d = {} | {} classes | hidden {:?} | {} | {} | {} | {}",
            train.name(),
            train.n(),
            test.map_or(0, LabeledData::n),
            train.d(),
            train.n_classes(),
            run.hidden_widths(train.d()),
            run.backend.backend,
            run.precision(),
            run.preset,
            run.targets,
        );
        if done > 0 {
            println!("resuming after epoch {done}");
        }
    }

    interrupt::install()?;
    let start = Instant::now();
    let workers = super::workers::workers(&args.workers, &device, args.shards)?;
    // A resumed model's random first layer (broad) is already scaled: keep it.
    let trainer = trainer.with_keep_first_layer(done > 0);
    let mut fit = ClosedFormFit::on_workers(trainer.clone(), &model, train, test, &workers)?
        .with_epochs_done(done)
        .with_base_targets(history.base_targets.clone())?;
    history.setup_seconds += start.elapsed().as_secs_f64();
    history.base_form = Some(fit.base_form());
    history.base_gamma = Some(fit.base_gamma());
    history.gamma_search = fit.gamma_search().cloned();
    history.setup_traffic = fit.setup_traffic();
    super::workers::say_setup(&fit, chatty);
    if chatty && let Some(search) = fit.gamma_search() {
        println!(
            "lowest learned layer: gamma {:e}, chosen by generalised cross-validation among {} \
             candidates ({:e} to {:e})",
            search.gamma,
            search.scores.len(),
            search.scores.first().map_or(f64::NAN, |s| s.gamma),
            search.scores.last().map_or(f64::NAN, |s| s.gamma),
        );
    }
    if chatty && fit.base_form() == RidgeForm::Dual {
        println!(
            "the lowest learned layer's input is wider than the {} training rows: its ridge is \
             solved in dual form (an n x n system)",
            train.n()
        );
    }
    let (model, interrupted) = run_epochs(
        &mut fit,
        model,
        &mut history,
        epochs,
        chatty,
        |model, history| match &lock {
            Some(lock) => save(lock, &run, &config, &data, &trainer, model, history, epochs),
            None => Ok(()),
        },
    )?;

    let final_f1 = match test {
        Some(t) => Some(macro_f1(
            &predict(&model, t, &device)?,
            t.labels(),
            t.n_classes(),
        )),
        None => None,
    };
    let sizes = Sizes {
        n_train: train.n(),
        n_test: test.map_or(0, LabeledData::n),
        d: train.d(),
        classes: train.n_classes(),
    };
    let report = report(&run, &sizes, trainer, &history, final_f1);
    output(&args, &report, &history, final_f1, train.name())?;
    check_degenerate(&args, &history)?;
    if interrupted {
        let k = history.epochs.len();
        match &out {
            Some(dir) => eprintln!(
                "interrupted after epoch {k} of {epochs}: the model of epoch {k} is saved in {0}; \
                 continue with `ngmnn train --resume {0}`",
                dir.display()
            ),
            None => eprintln!("interrupted after epoch {k} of {epochs} (no --out: nothing saved)"),
        }
        std::process::exit(interrupt::INTERRUPTED_EXIT);
    }
    if let (Some(dir), true) = (&out, chatty) {
        println!("model saved to {}", dir.display());
    }
    Ok(())
}

/// A fit whose last epoch predicts one class for every training row
/// ([`History::degenerate`]): a warning on stderr, or the run's error under `--strict`.
pub(super) fn check_degenerate(args: &TrainArgs, history: &History) -> anyhow::Result<()> {
    if let Some(what) = history.degenerate() {
        if args.strict {
            anyhow::bail!(what);
        }
        eprintln!("warning: {what} (--strict makes this an error)");
    }
    Ok(())
}

/// With hidden layers all narrower than 512 units every per-epoch host system is small, and
/// on small matrices Rayon's thread hand-offs cost more than faer's parallel kernels save: run
/// faer on one thread for this process (measured, 2-core flex, paper preset: att40 [64] 5.06
/// -> 3.84 ms per epoch, umist [64, 32] 3.83 -> 2.44 ms; the one larger system, the lowest
/// layer's `d x d` once per fit, then takes a few milliseconds more). The device's products
/// are not affected (they use Burn's backend threads).
pub(super) fn small_host_systems(widths: &[usize]) {
    if widths.iter().all(|&w| w < 512) {
        faer::set_global_parallelism(faer::Par::Seq);
    }
}

/// Run epochs until `epochs` are in `history` or Ctrl-C: a table row per epoch, the fit's
/// parameters written into the model after each, then `after_epoch` (saving). Returns the model
/// and whether the run was interrupted.
pub(super) fn run_epochs(
    fit: &mut ClosedFormFit,
    mut model: Ngmnn,
    history: &mut History,
    epochs: usize,
    chatty: bool,
    mut after_epoch: impl FnMut(&Ngmnn, &History) -> anyhow::Result<()>,
) -> anyhow::Result<(Ngmnn, bool)> {
    let bar = progress(chatty, history.epochs.len(), epochs);
    if chatty {
        bar.suspend(|| {
            println!(
                "{:>5}  {:>9}  {:>9}  {:>14}  {:>8}",
                "epoch", "train_acc", "test_acc", "decision_obj", "seconds"
            )
        });
    }
    let mut interrupted = false;
    let mut warned = false;
    while history.epochs.len() < epochs {
        if interrupt::requested() {
            interrupted = true;
            break;
        }
        let record = fit.epoch()?;
        for note in &record.recoveries {
            bar.suspend(|| eprintln!("{note}"));
        }
        if chatty {
            bar.suspend(|| println!("{}", row(&record)));
        }
        if let Some(share) = saturation_warning(&record)
            && !warned
        {
            warned = true;
            bar.suspend(|| {
                eprintln!(
                    "warning: {:.0}% of a hidden layer's backward targets sit at the target map's \
                     bounds: that layer learns little (try --targets softmax or minmax, or the \
                     broad preset)",
                    share * 100.0
                )
            });
        }
        bar.inc(1);
        history.epochs.push(record);
        history.base_targets = fit.base_targets();
        model = fit.write_into(model)?;
        after_epoch(&model, history)?;
    }
    bar.finish_and_clear();
    Ok((model, interrupted))
}

/// The largest share of a hidden layer's backward targets at the target map's bounds, when
/// it is most of them (over one half).
fn saturation_warning(record: &EpochRecord) -> Option<f64> {
    record
        .saturated_targets
        .iter()
        .copied()
        .fold(None, |acc: Option<f64>, s| {
            Some(acc.map_or(s, |a| a.max(s)))
        })
        .filter(|&s| s > 0.5)
}

/// Print the summary (or the JSON report with `--json`), write `--report` and `--plot`.
pub(super) fn output(
    args: &TrainArgs,
    report: &TrainReport,
    history: &History,
    final_f1: Option<f64>,
    name: &str,
) -> anyhow::Result<()> {
    let chatty = !(args.quiet || args.json);
    if args.json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        println!("{}", summary(history, final_f1));
    }
    if let Some(path) = &args.report {
        write_json(report, path).with_context(|| format!("writing {}", path.display()))?;
        if chatty {
            println!("report written to {}", path.display());
        }
    }
    if let Some(path) = &args.plot {
        plot_history(history, &format!("ngmnn: {name}"), path)?;
        if chatty {
            println!("plot written to {}", path.display());
        }
    }
    Ok(())
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

/// Write the model, its description and the checkpoint (each file atomically).
#[allow(clippy::too_many_arguments)]
fn save(
    lock: &outdir::DirLock,
    run: &RunArgs,
    config: &NgmnnConfig,
    data: &Prepared,
    trainer: &ClosedFormConfig,
    model: &Ngmnn,
    history: &History,
    epochs: usize,
) -> anyhow::Result<()> {
    let mut saved = SavedModel::new(config.clone(), data.train.classes().to_vec());
    saved.standardizer = data.standardizer.clone();
    saved.trainer = Some(trainer.clone());
    let version = format!("v{}", history.epochs.len());
    let dir = lock.dir();
    outdir::publish(lock, &version, |staging| -> anyhow::Result<()> {
        saved
            .save(model, staging)
            .with_context(|| format!("saving the model to {}", dir.display()))?;
        Checkpoint {
            run: run.clone(),
            epochs,
            history: history.clone(),
        }
        .save(staging)
    })?;
    Ok(())
}

fn row(r: &EpochRecord) -> String {
    let traffic = r.traffic.map_or(String::new(), |t| {
        format!(
            "  ({:.3} MB sent, {:.3} MB received)",
            t.sent as f64 * 1e-6,
            t.received as f64 * 1e-6
        )
    });
    format!(
        "{:>5}  {:>9.4}  {:>9}  {:>14.6e}  {:>8.3}{traffic}",
        r.epoch,
        r.train_acc,
        fmt_opt(r.valid_acc),
        r.decision_objective(),
        r.seconds
    )
}

fn summary(history: &History, final_f1: Option<f64>) -> String {
    let last = history.last().expect("at least one epoch");
    let best = history.best_valid();
    let epoch_seconds: f64 = history.epochs.iter().map(|r| r.seconds).sum();
    format!(
        "final: train acc {:.4} | test acc {} | best test acc {} | test macro-F1 {} | {:.2} s ({:.2} s setup, {:.3} s/epoch)",
        last.train_acc,
        fmt_opt(last.valid_acc),
        best.map_or("-".into(), |b| format!(
            "{:.4} (epoch {})",
            b.valid_acc.unwrap_or(0.0),
            b.epoch
        )),
        fmt_opt(final_f1),
        history.total_seconds(),
        history.setup_seconds,
        epoch_seconds / history.epochs.len() as f64,
    )
}

/// The data's sizes, for the report.
pub(super) struct Sizes {
    pub(super) n_train: usize,
    pub(super) n_test: usize,
    pub(super) d: usize,
    pub(super) classes: usize,
}

pub(super) fn report(
    run: &RunArgs,
    sizes: &Sizes,
    trainer: ClosedFormConfig,
    history: &History,
    f1: Option<f64>,
) -> TrainReport {
    let last = history.last().expect("at least one epoch");
    let best = history.best_valid();
    TrainReport {
        dataset: run.data.data.clone(),
        n_train: sizes.n_train,
        n_test: sizes.n_test,
        d: sizes.d,
        classes: sizes.classes,
        hidden: run.hidden_widths(sizes.d),
        backend: run.backend.backend.to_string(),
        seed: run.seed,
        standardize: run.standardize,
        trainer,
        epochs: TrainReport::epochs_from(history),
        final_test_acc: last.valid_acc,
        best_test_acc: best.and_then(|b| b.valid_acc),
        best_epoch: best.map(|b| b.epoch),
        final_test_macro_f1: f1,
        setup_seconds: history.setup_seconds,
        total_seconds: history.total_seconds(),
        setup_traffic: history.setup_traffic,
        base_gamma: history.base_gamma,
        gamma_search: history.gamma_search.clone(),
    }
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or("-".into(), |a| format!("{a:.4}"))
}

/// An epoch progress bar with ETA on stderr; hidden when stderr is not a terminal or output
/// is quiet.
fn progress(show: bool, done: usize, total: usize) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64).with_position(done as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} epoch {pos}/{len} · {elapsed_precise} elapsed · ETA {eta}",
        )
        .expect("valid template"),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(250));
    bar
}

pub(super) fn spinner(show: bool, message: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let s = ProgressBar::new_spinner().with_message(message.to_owned());
    s.enable_steady_tick(std::time::Duration::from_millis(120));
    s
}
