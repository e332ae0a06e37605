//! A closed-form fit of a synthetic problem of any size, in memory or streamed from a
//! re-readable source (the data is generated batch by batch and never held), with the epoch
//! times, passes, accuracy and the process's peak resident memory.
//!
//! ```text
//! cargo run --release --example streaming_fit -- --n 1000000 --d 64 --mode stream
//! cargo run --release --example streaming_fit -- --n 100000 --mode memory --shards 2
//! options: --n N (100000) --d D (64) --classes C (10) --hidden H (256) --epochs E (3)
//!          --rows R (rows per streamed batch, 10000) --mode memory|stream (stream)
//!          --shards S (memory mode: threads, 1) --backend B (flex) --header (print the
//!          Markdown table header first)
//! ```
//! Prints one Markdown table row: mode, n, d, hidden, s/epoch (median), passes/epoch, setup
//! s, train and held-out accuracy, Gram GFLOP/s, peak RSS (Linux `VmHWM`).

use clap::{Parser, ValueEnum};

mod common;

use ngmnn::data::SyntheticSource;
use ngmnn::model::NgmnnConfig;
use ngmnn::solve::backward_targets::TargetMap;
use ngmnn::train::{ClosedFormConfig, History, Training, Validation};
use ngmnn::{BackendKind, Precision};

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Where the rows live during the fit.
#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Mode {
    /// On the device (split over `--shards` threads).
    Memory,
    /// Generated batch by batch in every pass, never held.
    Stream,
}

/// A closed-form fit of a synthetic problem, in memory or streamed.
#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 100_000)]
    n: usize,
    #[arg(long, default_value_t = 64)]
    d: usize,
    #[arg(long, default_value_t = 10)]
    classes: usize,
    #[arg(long, default_value_t = 256)]
    hidden: usize,
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// Rows per streamed batch.
    #[arg(long, default_value_t = 10_000)]
    rows: usize,
    #[arg(long, value_enum, default_value_t = Mode::Stream)]
    mode: Mode,
    /// Memory mode: row shards (threads).
    #[arg(long, default_value_t = 1)]
    shards: usize,
    #[arg(long, default_value_t = BackendKind::Flex)]
    backend: BackendKind,
    /// Print the Markdown table header first.
    #[arg(long)]
    header: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Args {
        n,
        d,
        classes,
        hidden,
        epochs,
        rows,
        mode,
        shards,
        backend,
        header,
    } = Args::parse();
    let device = backend.device()?;

    let source = SyntheticSource::new(n, d, classes, rows, 42)?.with_noise(1.5);
    let held_out = source.held_out(10_000);
    let model = NgmnnConfig::new(d, vec![hidden], classes).init(&device)?;
    let trainer = ClosedFormConfig::paper()
        .with_epochs(epochs)
        .with_targets(TargetMap::ColumnMinMax)
        .with_precision(Precision::F32)
        .init()?;
    let history: History = match mode {
        Mode::Memory => {
            let train = source.to_dataset()?;
            let valid = held_out.to_dataset()?;
            let devices = vec![device.clone(); shards];
            trainer
                .fit(model, Training::sharded(&train, &devices), Some(&valid))?
                .1
        }
        Mode::Stream => {
            trainer
                .fit(
                    model,
                    Training::stream(source),
                    Validation::stream(held_out),
                )?
                .1
        }
    };
    let mut secs: Vec<f64> = history.epochs.iter().map(|r| r.seconds).collect();
    secs.sort_by(f64::total_cmp);
    let last = history.last().ok_or("no epochs")?;
    let (gs, gf) = history.epochs.iter().fold((0.0, 0.0), |(s, f), r| {
        (s + r.gram_seconds, f + r.gram_flops)
    });
    if header {
        println!(
            "| mode | n | d | hidden | s/epoch (median) | passes/epoch | setup s | train acc | held-out acc | Gram GFLOP/s | peak RSS MB |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    }
    let label = match mode {
        Mode::Memory if shards > 1 => format!("memory ({shards} shards)"),
        Mode::Memory => "memory".to_string(),
        Mode::Stream => "stream".to_string(),
    };
    println!(
        "| {label} | {n} | {d} | {hidden} | {:.3} | {} | {:.2} | {:.4} | {:.4} | {:.1} | {:.0} |",
        secs[secs.len() / 2],
        last.passes,
        history.setup_seconds,
        last.train_acc,
        last.valid_acc.unwrap_or(f64::NAN),
        gf / gs.max(1e-12) * 1e-9,
        peak_rss_mb()
    );
    Ok(())
}
