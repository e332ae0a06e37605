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

mod common;

use ngmnn::data::SyntheticSource;
use ngmnn::model::NgmnnConfig;
use ngmnn::solve::TargetMap;
use ngmnn::train::{ClosedFormConfig, History};
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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let opts = common::Options::parse();
    let header = opts.header;
    let get = |k: &str, default: usize| opts.get(k, default);
    let (n, d, classes) = (get("n", 100_000)?, get("d", 64)?, get("classes", 10)?);
    let (hidden, epochs, rows, shards) = (
        get("hidden", 256)?,
        get("epochs", 3)?,
        get("rows", 10_000)?,
        get("shards", 1)?,
    );
    let mode = opts.text("mode", "stream");
    let backend: BackendKind = opts.get("backend", BackendKind::Flex)?;
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
        "memory" => {
            let train = source.to_dataset()?;
            let valid = held_out.to_dataset()?;
            let devices = vec![device.clone(); shards];
            trainer
                .fit_sharded(model, &train, Some(&valid), &devices)?
                .1
        }
        "stream" => {
            trainer
                .fit_stream(model, Box::new(source), Some(Box::new(held_out)), |_| {})?
                .1
        }
        other => return Err(format!("--mode {other}: expected memory or stream").into()),
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
    let label = if mode == "memory" && shards > 1 {
        format!("memory ({shards} shards)")
    } else {
        mode.to_string()
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
