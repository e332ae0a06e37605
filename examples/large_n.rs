//! The paper preset at large n (issue "fidelity at large n"): MNIST training images scaled to
//! [0, 1], the first `n` rows, the 10000 t10k images as test set, test accuracy per epoch.
//! The same protocol as `../shared/reference-runner` runs on the authors' code.
//!
//! ```text
//! cargo run --release --example large_n -- [--data DIR] [--n 6000,15000,30000,60000]
//!     [--hidden 64,32] [--epochs 3] [--precision f32] [--targets softmax] [--preset paper]
//!     [--seed 0] [--header]
//! ```
//! Prints one Markdown table row per `n`: test accuracy after every epoch, seconds per epoch.

use std::time::Instant;

mod common;

use ngmnn::data::{Dataset, load_idx_dir};
use ngmnn::model::NgmnnConfig;
use ngmnn::solve::TargetMap;
use ngmnn::train::{ClosedFormConfig, Preset};
use ngmnn::{BackendKind, Precision};

fn scaled(data: &Dataset, n: usize) -> Result<Dataset, Box<dyn std::error::Error>> {
    let n = n.min(data.n());
    let d = data.d();
    let x = data.features()[..n * d].iter().map(|v| v / 255.0).collect();
    let y = data.labels()[..n].to_vec();
    Ok(Dataset::new(data.name(), x, y, d, data.classes().to_vec())?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let opts = common::Options::parse();
    let default_dir = common::mnist_dir();
    let dir = opts.text("data", &default_dir);
    let list = |key: &str, default: &str| -> Result<Vec<usize>, std::num::ParseIntError> {
        opts.text(key, default).split(',').map(str::parse).collect()
    };
    let sizes = list("n", "6000,15000,30000,60000")?;
    let hidden = list("hidden", "64,32")?;
    let epochs: usize = opts.get("epochs", 3)?;
    let precision: Precision = opts.get("precision", Precision::F32)?;
    let targets: TargetMap = opts.get("targets", TargetMap::ColumnSoftmax)?;
    let preset: Preset = opts.get("preset", Preset::Paper)?;
    let seed: u64 = opts.get("seed", 0)?;
    let device = BackendKind::Flex.device()?;

    let (all, test) = load_idx_dir(dir.as_ref()).map_err(|e| {
        format!("{e} (this example needs the four MNIST IDX files in {dir}; pass --data DIR)")
    })?;
    let test = scaled(
        &test.ok_or("the MNIST directory has no t10k files")?,
        usize::MAX,
    )?;
    if opts.header {
        println!("| n | hidden | preset | targets | precision | test acc per epoch | s/epoch |");
        println!("|---|---|---|---|---|---|---|");
    }
    for n in sizes {
        let train = scaled(&all, n)?;
        let model = NgmnnConfig::new(train.d(), hidden.clone(), train.n_classes())
            .with_seed(seed)
            .init(&device)?;
        let trainer = ClosedFormConfig::paper()
            .with_epochs(epochs)
            .with_precision(precision)
            .with_targets(targets)
            .with_preset(preset)
            .init()?;
        let start = Instant::now();
        let (_, history) = trainer.fit(model, &train, Some(&test))?;
        let per_epoch = (start.elapsed().as_secs_f64() - history.setup_seconds) / epochs as f64;
        let accs: Vec<String> = history
            .epochs
            .iter()
            .map(|e| format!("{:.3}", e.valid_acc.unwrap_or(f64::NAN)))
            .collect();
        println!(
            "| {} | {hidden:?} | {preset} | {targets} | {precision} | {} | {per_epoch:.2} |",
            train.n(),
            accs.join(" / ")
        );
    }
    Ok(())
}
