//! `ngmnn train`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use ngmnn::Precision;
use ngmnn::data::{Dataset, Standardizer};
use ngmnn::metrics::macro_f1;
use ngmnn::model::{Activation, NgmnnConfig, SavedModel};
use ngmnn::report::{TrainReport, write_json};
use ngmnn::solve::TargetMap;
use ngmnn::train::{ClosedFormConfig, EpochRecord, Preset};

use super::common::{BackendArgs, DataArgs, predict};

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Explicit test set (same format options); otherwise a seeded stratified split, or the
    /// t10k files of an MNIST directory.
    #[arg(long)]
    test: Option<String>,
    /// Fraction held out for testing when no test set is given (0 disables testing).
    #[arg(long, default_value_t = 0.3)]
    test_fraction: f64,
    /// Hidden layer widths, comma-separated (the last must be >= the number of classes).
    #[arg(long, value_delimiter = ',', default_value = "64")]
    hidden: Vec<usize>,
    /// Number of closed-form epochs.
    #[arg(long, default_value_t = 20)]
    epochs: usize,
    /// Ridge parameter gamma.
    #[arg(long, default_value_t = 0.3)]
    gamma: f64,
    /// paper (reference behaviour, quirks included) or corrected.
    #[arg(long, default_value = "paper")]
    preset: Preset,
    /// Backward-target map: softmax (reference; degenerates for n > ~10^4) or minmax.
    #[arg(long, default_value = "softmax")]
    targets: TargetMap,
    /// Hidden activation: sigmoid or tanh.
    #[arg(long, default_value = "sigmoid")]
    activation: Activation,
    /// Precision of the device computations: f64 (reference) or f32 (faster).
    #[arg(long, default_value = "f64")]
    precision: Precision,
    /// Standardise features (mean 0, std 1), fitted on the training part only.
    #[arg(long)]
    standardize: bool,
    /// Seed of the split and of the initialisation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    backend: BackendArgs,
    /// Save the model (model.bpk + model.json) into this directory.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write a JSON report here.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Print only the summary.
    #[arg(long)]
    quiet: bool,
}

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let device = args.backend.device()?;
    let loaded = args.data.load()?;
    let (mut train, test) = split(&args, loaded.data, loaded.test)?;
    let mut test = test;
    let standardizer = args.standardize.then(|| Standardizer::fit(&train));
    if let Some(s) = &standardizer {
        s.apply(&mut train)?;
        if let Some(t) = test.as_mut() {
            s.apply(t)?;
        }
    }
    let config = NgmnnConfig::new(train.d(), args.hidden.clone(), train.n_classes())
        .with_activation(args.activation)
        .with_seed(args.seed);
    let model = config.init(&device)?;
    let trainer_config = ClosedFormConfig::new()
        .with_epochs(args.epochs)
        .with_gamma(args.gamma)
        .with_preset(args.preset)
        .with_targets(args.targets)
        .with_precision(args.precision);
    let trainer = trainer_config.init()?;
    if !args.quiet {
        println!(
            "ngmnn train: {} | {} train / {} test | d = {} | {} classes | hidden {:?} | {} | {} | {}",
            train.name(),
            train.n(),
            test.as_ref().map_or(0, Dataset::n),
            train.d(),
            train.n_classes(),
            args.hidden,
            args.backend.backend,
            args.precision,
            args.preset,
        );
        println!(
            "{:>5}  {:>9}  {:>9}  {:>14}  {:>8}",
            "epoch", "train_acc", "test_acc", "decision_obj", "seconds"
        );
    }
    let start = Instant::now();
    let quiet = args.quiet;
    let (model, history) = trainer.fit_with(model, &train, test.as_ref(), |r: &EpochRecord| {
        if !quiet {
            let test_acc = r.valid_acc.map_or("-".into(), |a| format!("{a:.4}"));
            println!(
                "{:>5}  {:>9.4}  {:>9}  {:>14.6e}  {:>8.3}",
                r.epoch,
                r.train_acc,
                test_acc,
                r.decision_objective(),
                r.seconds
            );
        }
    })?;
    let total = start.elapsed().as_secs_f64();
    let final_f1 = match &test {
        Some(t) => Some(macro_f1(
            &predict(&model, t, &device)?,
            t.labels(),
            t.n_classes(),
        )),
        None => None,
    };
    let last = history.last().expect("at least one epoch");
    let best = history.best_valid();
    println!(
        "final: train acc {:.4} | test acc {} | best test acc {} | test macro-F1 {} | {:.2} s ({:.2} s setup, {:.3} s/epoch)",
        last.train_acc,
        fmt_opt(last.valid_acc),
        best.map_or("-".into(), |b| format!(
            "{:.4} (epoch {})",
            b.valid_acc.unwrap_or(0.0),
            b.epoch
        )),
        fmt_opt(final_f1),
        total,
        history.setup_seconds,
        (total - history.setup_seconds) / history.epochs.len() as f64,
    );
    if let Some(dir) = &args.out {
        let mut saved = SavedModel::new(config, train.classes().to_vec());
        saved.standardizer = standardizer;
        saved.trainer = Some(trainer_config.clone());
        saved
            .save(&model, dir)
            .with_context(|| format!("saving the model to {}", dir.display()))?;
        println!("model saved to {}", dir.display());
    }
    if let Some(path) = &args.report {
        let report = TrainReport {
            dataset: args.data.data.clone(),
            n_train: train.n(),
            n_test: test.as_ref().map_or(0, Dataset::n),
            d: train.d(),
            classes: train.n_classes(),
            hidden: args.hidden.clone(),
            backend: args.backend.backend.to_string(),
            seed: args.seed,
            standardize: args.standardize,
            trainer: trainer_config,
            epochs: TrainReport::epochs_from(&history),
            final_test_acc: last.valid_acc,
            best_test_acc: best.and_then(|b| b.valid_acc),
            best_epoch: best.map(|b| b.epoch),
            final_test_macro_f1: final_f1,
            setup_seconds: history.setup_seconds,
            total_seconds: total,
        };
        write_json(&report, path).with_context(|| format!("writing {}", path.display()))?;
        println!("report written to {}", path.display());
    }
    Ok(())
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or("-".into(), |a| format!("{a:.4}"))
}

/// Training and test parts: an explicit test file, the source's own test part, a seeded
/// stratified split, or no test set (`--test-fraction 0`).
fn split(
    args: &TrainArgs,
    data: Dataset,
    own_test: Option<Dataset>,
) -> anyhow::Result<(Dataset, Option<Dataset>)> {
    if let Some(path) = &args.test {
        let test = args.data.load_other(path)?.data;
        let test = test
            .with_classes(data.classes())
            .context("matching test classes to training classes")?;
        return Ok((data, Some(test)));
    }
    if let Some(test) = own_test {
        let test = test
            .with_classes(data.classes())
            .context("matching test classes to training classes")?;
        return Ok((data, Some(test)));
    }
    if args.test_fraction == 0.0 {
        return Ok((data, None));
    }
    let (train, test) = data.stratified_split(args.test_fraction, args.seed)?;
    Ok((train, Some(test)))
}
