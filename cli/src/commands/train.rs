//! `ngmnn train`: the closed-form fit, with per-epoch checkpoints (`--out`), clean Ctrl-C
//! handling, `--resume`, a progress bar, `--plot` and `--json`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use ngmnn::data::LabeledData;
use ngmnn::metrics::macro_f1;
use ngmnn::model::{Ngmnn, NgmnnConfig, SavedModel, outdir};
use ngmnn::solve::class_ridge::RidgeForm;
use ngmnn::train::{ClosedFormConfig, History, Training};

use super::checkpoint::Checkpoint;
use super::common::predict;
use super::epochs::{RunEnd, finish, run_epochs};
use super::interrupt;
pub(super) use super::run_args::{DEFAULT_EPOCHS, Prepared, RunArgs, prepare, trainer_config};
pub(super) use super::train_report::{Sizes, report, spinner};

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

impl TrainArgs {
    /// Whether the run prints its header, epoch table and messages (not with `--quiet` or
    /// `--json`).
    pub(super) fn chatty(&self) -> bool {
        !(self.quiet || self.json)
    }
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
    let chatty = args.chatty();

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
    let mut fit = (trainer.init()?)
        .start(&model, Training::on_workers(train, &workers), test)?
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
    let end = RunEnd {
        epochs,
        interrupted,
        out: out.as_deref(),
        resumable: true,
    };
    finish(&args, &report, &history, final_f1, train.name(), end)
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
