//! The paper preset at large n (issue "fidelity at large n"): MNIST training images scaled to
//! [0, 1], the first `n` rows, the 10000 t10k images as test set, test accuracy per epoch.
//! The authors' reference code was run with the same protocol on the same machine.
//!
//! ```text
//! cargo run --release --example large_n -- --data DIR (or NGMNN_MNIST=DIR)
//!     [--n 6000,15000,30000,60000] [--hidden 64,32] [--epochs 3] [--precision f32]
//!     [--targets softmax] [--preset paper] [--seed 0] [--header]
//! ```
//! Prints one Markdown table row per `n`: test accuracy after every epoch, seconds per epoch.

use std::time::Instant;

use clap::Parser;

mod common;

use ngmnn::data::{LabeledData, load_idx_dir};
use ngmnn::model::NgmnnConfig;
use ngmnn::solve::backward_targets::TargetMap;
use ngmnn::train::{ClosedFormConfig, Preset};
use ngmnn::{BackendKind, Precision};

fn scaled(data: &LabeledData, n: usize) -> Result<LabeledData, Box<dyn std::error::Error>> {
    let n = n.min(data.n());
    let d = data.d();
    let x = data.features()[..n * d].iter().map(|v| v / 255.0).collect();
    let y = data.labels()[..n].to_vec();
    Ok(LabeledData::new(
        data.name(),
        x,
        y,
        d,
        data.classes().to_vec(),
    )?)
}

/// The paper preset at large n on MNIST.
#[derive(Parser)]
struct Args {
    /// MNIST directory (the four IDX files); default: the environment variable `NGMNN_MNIST`.
    #[arg(long)]
    data: Option<String>,
    /// Training sizes (the first n training images).
    #[arg(long, value_delimiter = ',', default_value = "6000,15000,30000,60000")]
    n: Vec<usize>,
    /// Hidden widths.
    #[arg(long, value_delimiter = ',', default_value = "64,32")]
    hidden: Vec<usize>,
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    #[arg(long, default_value_t = Precision::F32)]
    precision: Precision,
    #[arg(long, default_value_t = TargetMap::ColumnSoftmax)]
    targets: TargetMap,
    #[arg(long, default_value_t = Preset::Paper)]
    preset: Preset,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print the Markdown table header first.
    #[arg(long)]
    header: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Args {
        data: dir,
        n: sizes,
        hidden,
        epochs,
        precision,
        targets,
        preset,
        seed,
        header,
    } = Args::parse();
    let dir = common::mnist_dir(dir)?;
    let device = BackendKind::Flex.device()?;

    let (all, test) = load_idx_dir(dir.as_ref()).map_err(|e| {
        format!("{e} (this example needs the four MNIST IDX files in {dir}; pass --data DIR or set NGMNN_MNIST)")
    })?;
    let test = scaled(
        &test.ok_or("the MNIST directory has no t10k files")?,
        usize::MAX,
    )?;
    if header {
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
