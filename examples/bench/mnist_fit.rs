//! A complete closed-form fit of MNIST: 10000 of the 60000 training images held out for
//! validation (seeded, stratified), epochs until the validation accuracy stops improving
//! (`patience`), the best epoch's model evaluated on the 10000 t10k test images.
//!
//! ```text
//! cargo run --release --example mnist_fit -- --data DIR (or NGMNN_MNIST=DIR)
//!     [--preset broad|paper] [--hidden 2048,64 (broad) | 256 (paper)] [--shards 2]
//!     [--patience 1] [--backend flex] [--header]
//! ```
//! Prints the epochs, then one Markdown table row: hidden, shards, load s, setup s, epochs run,
//! best epoch, fit s (setup + epochs: the complete fit), validation and test accuracy of the
//! selected model.

use std::time::Instant;

use clap::Parser;

mod common;

use ngmnn::data::load_idx_dir;
use ngmnn::model::NgmnnConfig;
use ngmnn::solve::backward_targets::TargetMap;
use ngmnn::train::{ClosedFormConfig, Preset, Training};
use ngmnn::{BackendKind, Precision};

/// A complete closed-form fit of MNIST with validation-based epoch selection.
#[derive(Parser)]
struct Args {
    /// MNIST directory (the four IDX files); default: the environment variable `NGMNN_MNIST`.
    #[arg(long)]
    data: Option<String>,
    #[arg(long, default_value_t = Preset::Broad)]
    preset: Preset,
    /// Hidden widths (default 2048,64 for broad, 256 for paper).
    #[arg(long, value_delimiter = ',')]
    hidden: Vec<usize>,
    /// Row shards (threads) of the fit.
    #[arg(long, default_value_t = 2)]
    shards: usize,
    /// Epochs without a better validation accuracy before stopping.
    #[arg(long, default_value_t = 1)]
    patience: usize,
    #[arg(long, default_value_t = BackendKind::Flex)]
    backend: BackendKind,
    /// Print the Markdown table header first.
    #[arg(long)]
    header: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Args {
        data: dir,
        preset,
        hidden,
        shards,
        patience,
        backend,
        header,
    } = Args::parse();
    let dir = common::mnist_dir(dir)?;
    let hidden = match (hidden.is_empty(), preset) {
        (false, _) => hidden,
        (true, Preset::Broad) => vec![2048, 64],
        (true, _) => vec![256],
    };
    let device = backend.device()?;

    let start = Instant::now();
    let (all, test) = load_idx_dir(dir.as_ref()).map_err(|e| {
        format!("{e} (this example needs the four MNIST IDX files in {dir}; pass --data DIR or set NGMNN_MNIST)")
    })?;
    let test = test.ok_or("the MNIST directory has no t10k files")?;
    let (train, valid) = all.stratified_split(10_000.0 / all.n() as f64, 0)?;
    let load = start.elapsed().as_secs_f64();

    let model = NgmnnConfig::new(train.d(), hidden.clone(), train.n_classes()).init(&device)?;
    let config = ClosedFormConfig::new()
        .with_preset(preset)
        .with_epochs(20)
        .with_patience(Some(patience))
        .with_precision(Precision::F32);
    // The paper preset needs min-max targets on raw pixels; broad uses the images' shape.
    let config = match preset {
        Preset::Broad => config.with_image_shape(train.image_shape()),
        _ => config.with_targets(TargetMap::ColumnMinMax),
    };
    let fit_start = Instant::now();
    let devices = vec![device.clone(); shards];
    let mut fit =
        (config.init()?).start(&model, Training::sharded(&train, &devices), Some(&valid))?;
    let setup = fit_start.elapsed().as_secs_f64();
    eprintln!(
        "{} train / {} valid / {} test, setup {setup:.2} s",
        train.n(),
        valid.n(),
        test.n()
    );
    while fit.epochs_done() < config.epochs && !fit.patience_exhausted() {
        let r = fit.epoch()?;
        eprintln!(
            "epoch {}: train {:.4} valid {:.4} {:.3} s ({} passes)",
            r.epoch,
            r.train_acc,
            r.valid_acc.unwrap_or(f64::NAN),
            r.seconds,
            r.passes
        );
    }
    let fit_seconds = fit_start.elapsed().as_secs_f64();
    let best = fit.best_epoch().ok_or("no validation accuracy")?;
    let model = fit.write_best_into(model)?;
    let acc = |data: &ngmnn::data::LabeledData| -> ngmnn::Result<f64> {
        let pred = model.predict_dataset(data)?;
        Ok(ngmnn::metrics::accuracy(&pred, data.labels()))
    };
    if header {
        println!(
            "| hidden | shards | load s | setup s | epochs run | best epoch | complete fit s | valid acc | test acc |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    }
    println!(
        "| {hidden:?} | {shards} | {load:.2} | {setup:.2} | {} | {best} | {fit_seconds:.2} | {:.4} | {:.4} |",
        fit.epochs_done(),
        acc(&valid)?,
        acc(&test)?
    );
    Ok(())
}
