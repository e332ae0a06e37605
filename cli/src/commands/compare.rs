//! `ngmnn compare`: the closed-form trainer against SGD and Adam on the same data, split,
//! architecture, initial weights and backend; a Markdown table, `--report` JSON, `--plot` SVG.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use ngmnn::Precision;
use ngmnn::compare::{CompareConfig, compare};
use ngmnn::learner::{GradientConfig, OptimizerKind};
use ngmnn::model::NgmnnConfig;
use ngmnn::report::write_json;
use ngmnn::train::RidgeReadoutConfig;

use super::train::{RunArgs, prepare, spinner, trainer_config};

/// A trainer to include.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Trainer {
    /// The closed-form NGMNN trainer.
    ClosedForm,
    /// SGD with momentum 0.9 (cross-entropy, Burn autodiff).
    Sgd,
    /// Adam (cross-entropy, Burn autodiff).
    Adam,
    /// SGD started from the closed-form solution (seconds count from the closed-form start).
    #[value(name = "closed-form+sgd")]
    ClosedFormSgd,
    /// Adam started from the closed-form solution (seconds count from the closed-form start).
    #[value(name = "closed-form+adam")]
    ClosedFormAdam,
    /// SGD on a plain ReLU network with the same widths.
    #[value(name = "sgd-mlp")]
    SgdMlp,
    /// Adam on a plain ReLU network with the same widths.
    #[value(name = "adam-mlp")]
    AdamMlp,
    /// A ridge read-out of the labels on the broad preset's random first layer (gamma chosen
    /// on a validation split of the training rows): the baseline for the learned layers.
    #[value(name = "ridge-readout")]
    RidgeReadout,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Trainers to run, comma-separated: closed-form, sgd, adam, closed-form+sgd,
    /// closed-form+adam (these two start from the closed-form solution and run
    /// --gradient-epochs more epochs), sgd-mlp, adam-mlp (a plain ReLU network of the same
    /// widths: gradient descent on its usual architecture; on unscaled features give it
    /// --standardize or a smaller --sgd-lr: digits' 0-16 pixels diverge at SGD's 0.1),
    /// ridge-readout (the broad preset's random first layer with a ridge read-out of the
    /// labels: one solve, gamma chosen on 20% of the training rows).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "closed-form,sgd,adam"
    )]
    trainers: Vec<Trainer>,
    /// Closed-form epochs.
    #[arg(long, default_value_t = 20)]
    epochs: usize,
    /// Epochs of the gradient trainers.
    #[arg(long, default_value_t = 20)]
    gradient_epochs: usize,
    /// Mini-batch size of the gradient trainers.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// SGD learning rate (default 0.1, momentum 0.9).
    #[arg(long)]
    sgd_lr: Option<f64>,
    /// Adam learning rate (default 0.01).
    #[arg(long)]
    adam_lr: Option<f64>,
    /// Learning rate of the gradient trainers that continue from the closed-form solution
    /// (closed-form+sgd, closed-form+adam); default: --sgd-lr / --adam-lr. A solution that is
    /// already good is fine-tuned, so a smaller rate than from scratch usually suits it.
    #[arg(long)]
    refine_lr: Option<f64>,
    /// Target test accuracy for "time to target" (default: the closed-form final accuracy).
    #[arg(long)]
    target: Option<f64>,
    /// Write the comparison (with every learning curve) as JSON here.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Draw test accuracy against wall-clock seconds for every trainer into this SVG file.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Print only the table.
    #[arg(long)]
    quiet: bool,
}

pub fn run(args: CompareArgs) -> anyhow::Result<()> {
    let run = &args.run;
    let device = run.backend.device()?;
    let loading = spinner(!args.quiet, &format!("loading {}", run.data.data));
    let data = prepare(run)?;
    loading.finish_and_clear();
    let test = data
        .test
        .as_ref()
        .context("compare needs a test set: give --test or a --test-fraction above 0")?;
    let train = &data.train;
    let model = NgmnnConfig::new(train.d(), run.hidden_widths(train.d()), train.n_classes())
        .with_activation(run.activation)
        .with_seed(run.seed);
    model.check()?;
    let refine_sgd = args.trainers.contains(&Trainer::ClosedFormSgd);
    let refine_adam = args.trainers.contains(&Trainer::ClosedFormAdam);
    let wants_closed_form =
        args.trainers.contains(&Trainer::ClosedForm) || refine_sgd || refine_adam;
    // One precision for every trainer: the gradient trainers compute in the model's f32, so
    // the closed form does too unless --precision says otherwise.
    let closed_form = wants_closed_form
        .then(|| trainer_config(run, args.epochs, train.image_shape()))
        .transpose()?
        .map(|c| c.with_precision(run.precision.unwrap_or(Precision::F32)));
    let gradient = |optimizer, lr| {
        GradientConfig::new()
            .with_optimizer(optimizer)
            .with_learning_rate(lr)
            .with_batch_size(args.batch_size)
            .with_epochs(args.gradient_epochs)
            .with_seed(run.seed)
    };
    let mut gradients = Vec::new();
    if args.trainers.contains(&Trainer::Sgd) {
        gradients.push(gradient(OptimizerKind::Sgd, args.sgd_lr));
    }
    if args.trainers.contains(&Trainer::Adam) {
        gradients.push(gradient(OptimizerKind::Adam, args.adam_lr));
    }
    let mut refine = Vec::new();
    if refine_sgd {
        refine.push(gradient(OptimizerKind::Sgd, args.refine_lr.or(args.sgd_lr)));
    }
    if refine_adam {
        refine.push(gradient(
            OptimizerKind::Adam,
            args.refine_lr.or(args.adam_lr),
        ));
    }
    let mut mlp = Vec::new();
    if args.trainers.contains(&Trainer::SgdMlp) {
        mlp.push(gradient(OptimizerKind::Sgd, args.sgd_lr));
    }
    if args.trainers.contains(&Trainer::AdamMlp) {
        mlp.push(gradient(OptimizerKind::Adam, args.adam_lr));
    }
    let ridge_readout = if args.trainers.contains(&Trainer::RidgeReadout) {
        let random_layer = trainer_config(run, 1, train.image_shape())?
            .with_precision(run.precision.unwrap_or(Precision::F32));
        Some(RidgeReadoutConfig {
            seed: run.seed,
            ..RidgeReadoutConfig::new(random_layer)
        })
    } else {
        None
    };
    let config = CompareConfig {
        mlp,
        ridge_readout,
        closed_form,
        gradient: gradients,
        refine,
        target: args.target,
    };
    let backend = run.backend.backend.to_string();
    let busy = spinner(!args.quiet, "training");
    let comparison = compare(&model, train, test, &device, &backend, &config, |r| {
        busy.println(format!(
            "{}: best test acc {:.4}, {:.2} s",
            r.trainer, r.best_acc, r.seconds
        ));
    })?;
    busy.finish_and_clear();
    print!("{}", comparison.markdown());
    if let Some(path) = &args.report {
        write_json(&comparison, path)?;
    }
    if let Some(path) = &args.plot {
        comparison.plot(path)?;
    }
    Ok(())
}
