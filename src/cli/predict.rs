//! `ngmnn predict`.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use ngmnn::model::write_atomic;

use super::common::{BackendArgs, DataArgs, predict, prepare_for_model};

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Model directory written by `ngmnn train --out`.
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    backend: BackendArgs,
    /// CSV file to write: `index,predicted,actual`.
    #[arg(long)]
    output: PathBuf,
}

pub fn run(args: PredictArgs) -> anyhow::Result<()> {
    let device = args.backend.device()?;
    let (saved, model, data) = prepare_for_model(&args.model, &device, args.data.load()?)?;
    let pred = predict(&model, &data, &device)?;
    let mut csv = String::from("index,predicted,actual\n");
    for (i, (&p, &t)) in pred.iter().zip(data.labels()).enumerate() {
        writeln!(csv, "{i},{},{}", saved.classes[p], saved.classes[t])?;
    }
    write_atomic(&args.output, csv.as_bytes())?;
    println!(
        "{} predictions written to {}",
        pred.len(),
        args.output.display()
    );
    Ok(())
}
