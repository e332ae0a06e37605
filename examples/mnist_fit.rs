//! A complete closed-form fit of MNIST: 10000 of the 60000 training images held out for
//! validation (seeded, stratified), epochs until the validation accuracy stops improving
//! (`patience`), the best epoch's model evaluated on the 10000 t10k test images.
//!
//! ```text
//! cargo run --release --example mnist_fit -- [--data DIR] [--preset broad|paper]
//!     [--hidden 2048,64 (broad) | 256 (paper)] [--shards 2] [--patience 1] [--backend flex]
//!     [--header]
//! ```
//! Prints the epochs, then one Markdown table row: hidden, shards, load s, setup s, epochs run,
//! best epoch, fit s (setup + epochs: the complete fit), validation and test accuracy of the
//! selected model.

use std::time::Instant;

mod common;

use ngmnn::data::load_idx_dir;
use ngmnn::model::NgmnnConfig;
use ngmnn::solve::TargetMap;
use ngmnn::train::{ClosedFormConfig, ClosedFormFit, Preset};
use ngmnn::{BackendKind, Precision};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let opts = common::Options::parse();
    let header = opts.header;
    let default_dir = common::mnist_dir();
    let dir = opts.text("data", &default_dir);
    let preset: Preset = opts.get("preset", Preset::Broad)?;
    let default_hidden = if preset == Preset::Broad {
        "2048,64"
    } else {
        "256"
    };
    let hidden: Vec<usize> = opts
        .text("hidden", default_hidden)
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let shards: usize = opts.get("shards", 2)?;
    let patience: usize = opts.get("patience", 1)?;
    let backend: BackendKind = opts.get("backend", BackendKind::Flex)?;
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
        ClosedFormFit::new_sharded(config.clone(), &model, &train, Some(&valid), &devices)?;
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
    let acc = |data: &ngmnn::data::Dataset| -> ngmnn::Result<f64> {
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
