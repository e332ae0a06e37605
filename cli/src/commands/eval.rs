//! `ngmnn eval`.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use ngmnn::metrics::{accuracy, confusion, macro_f1};
use ngmnn::model::refuse_inside;
use ngmnn::report::{ClassMetrics, EvalReport, write_json};

use super::common::{BackendArgs, DataArgs, predict, prepare_for_model};

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model directory written by `ngmnn train --out`.
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    backend: BackendArgs,
    /// Write a JSON report here.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Print the JSON report on stdout instead of the summary line (for scripts).
    #[arg(long)]
    json: bool,
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.report {
        refuse_inside(path, &args.model, "--report")?;
    }
    let device = args.backend.device()?;
    let (saved, model, data) = prepare_for_model(&args.model, &device, args.data.load()?)?;
    let start = Instant::now();
    let pred = predict(&model, &data, &device)?;
    let seconds = start.elapsed().as_secs_f64();
    let confusion = confusion(&pred, data.labels(), saved.classes.len());
    let report = EvalReport {
        dataset: args.data.data.clone(),
        n: data.n(),
        accuracy: accuracy(&pred, data.labels()),
        macro_f1: macro_f1(&pred, data.labels(), data.n_classes()),
        backend: args.backend.backend.to_string(),
        seconds,
        per_class: ClassMetrics::from_confusion(&confusion, &saved.classes),
        classes: saved.classes.clone(),
        confusion,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{}: {} samples | accuracy {:.4} | macro-F1 {:.4} | {:.3} s",
            report.dataset, report.n, report.accuracy, report.macro_f1, report.seconds
        );
        print!("\n{}", report.table());
    }
    if let Some(path) = &args.report {
        write_json(&report, path)?;
    }
    Ok(())
}
