//! `ngmnn train --stream-rows N`: the closed-form fit reading its data from disk in passes
//! (CSV, TSV, IDX), never holding it in memory.

use std::time::Instant;

use anyhow::{Context, bail};
use ngmnn::data::open_stream;
use ngmnn::model::{NgmnnConfig, SavedModel, outdir};
use ngmnn::train::{History, Validation};

use super::epochs::{RunEnd, finish, run_epochs};
use super::interrupt;
use super::train::{DEFAULT_EPOCHS, Sizes, TrainArgs, report, trainer_config};

pub(super) fn run(args: &TrainArgs, rows: usize) -> anyhow::Result<()> {
    let run = &args.run;
    if args.resume.is_some() {
        bail!("--stream-rows cannot be combined with --resume");
    }
    if run.standardize {
        bail!(
            "--standardize needs the data in memory; standardise the file beforehand or train \
             without --stream-rows"
        );
    }
    let lock = super::checkpoint::lock_out(args)?;
    let chatty = args.chatty();
    let epochs = args.epochs.unwrap_or(DEFAULT_EPOCHS);
    let device = run.backend.device()?;
    let csv = run
        .data
        .csv_options()
        .with_memory_limit(run.memory_limit.map(|mb| mb.saturating_mul(1 << 20)));
    let opened = open_stream(&run.data.data, run.data.format, &csv, rows)
        .with_context(|| format!("opening {} for streaming", run.data.data))?;
    let test = match &run.test {
        Some(path) => {
            let t = open_stream(path, run.data.format, &csv, rows)
                .with_context(|| format!("opening {path} for streaming"))?;
            if t.classes.len() > opened.classes.len()
                || t.classes.iter().zip(&opened.classes).any(|(a, b)| a != b)
            {
                bail!(
                    "the test file's classes {:?} do not match the training file's {:?} \
                     (streamed files must have the same classes)",
                    t.classes,
                    opened.classes
                );
            }
            Some(t.data)
        }
        None => opened.test,
    };
    let (name, d, classes) = (opened.data.name(), opened.data.n_features(), opened.classes);
    let config = NgmnnConfig::new(d, run.hidden_widths(d), classes.len())
        .with_activation(run.activation)
        .with_seed(run.seed);
    super::train::small_host_systems(&run.hidden_widths(d));
    let trainer = trainer_config(run, epochs, None)?;
    trainer.check_model_memory(&config)?;
    let model = config.init(&device)?;
    if chatty {
        println!(
            "ngmnn train (streamed, {rows} rows per batch): {name} | d = {d} | {} classes | \
             hidden {:?} | {} | {} | {} | {}",
            classes.len(),
            run.hidden_widths(d),
            run.backend.backend,
            run.precision(),
            run.preset,
            run.targets,
        );
    }

    interrupt::install()?;
    let start = Instant::now();
    let test = test.map_or(Validation::None, Validation::Stream);
    let mut fit = trainer.init()?.start(&model, opened.data, test)?;
    let mut history = History::start(&fit, start.elapsed().as_secs_f64(), epochs);
    let (_, interrupted) = run_epochs(
        &mut fit,
        model,
        &mut history,
        epochs,
        chatty,
        |model, history| match &lock {
            Some(lock) => {
                let version = format!("v{}", history.epochs.len());
                outdir::publish(lock, &version, |staging| -> anyhow::Result<()> {
                    SavedModel::new(config.clone(), classes.clone())
                        .save(model, staging)
                        .with_context(|| format!("saving the model to {}", lock.dir().display()))
                })
                .map(|_| ())
            }
            None => Ok(()),
        },
    )?;
    if history.epochs.is_empty() {
        bail!("interrupted before the first epoch finished");
    }
    let (n_train, n_test) = fit.sample_counts();
    let sizes = Sizes {
        n_train,
        n_test: n_test.unwrap_or(0),
        d,
        classes: classes.len(),
    };
    let report = report(run, &sizes, trainer, &history, None);
    // `--out` saves the model only (no checkpoint: a stream is not resumed).
    let end = RunEnd {
        epochs,
        interrupted,
        out: args.out.as_deref(),
        resumable: false,
    };
    finish(args, &report, &history, None, &name, end)
}
