//! Command-line interface (clap derive). Errors are reported by `main` as one line.

mod backends;
mod checkpoint;
mod common;
mod compare;
mod epochs;
mod eval;
mod interrupt;
mod predict;
mod run_args;
mod stream;
mod train;
mod train_report;
mod workers;

use clap::{Parser, Subcommand};

/// Train neural networks without gradients: closed-form NGMNN (arXiv 2106.07905) on Burn.
#[derive(Debug, Parser)]
#[command(name = "ngmnn", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a model with the closed-form trainer.
    #[command(
        allow_negative_numbers = true,
        after_help = "Examples:\n  ngmnn train\n  ngmnn train --data data/att40.mat --preset paper --hidden 64 --epochs 10 --report r.json --plot r.svg\n  ngmnn train --data data/mnist-slice --precision f32 --epochs 3 --out runs/mnist\n  ngmnn train --resume runs/mnist --epochs 10"
    )]
    Train(train::TrainArgs),
    /// Evaluate a saved model: accuracy and macro-F1.
    #[command(after_help = "Example:\n  ngmnn eval --model runs/mnist --data data/mnist-slice")]
    Eval(eval::EvalArgs),
    /// Write a saved model's predictions as CSV.
    #[command(
        after_help = "Example:\n  ngmnn predict --model runs/digits --data builtin --output preds.csv"
    )]
    Predict(predict::PredictArgs),
    /// List the Burn backends compiled in and whether each works on this machine.
    #[command(after_help = "Examples:\n  ngmnn backends\n  ngmnn backends --device 1 --json")]
    Backends(backends::BackendsArgs),
    /// Compare the closed-form trainer with SGD and Adam on the same model, data and backend.
    #[command(
        allow_negative_numbers = true,
        after_help = "Examples:\n  ngmnn compare --data builtin\n  ngmnn compare --data data/att40.mat --epochs 10 --gradient-epochs 50 --plot att40.svg --report att40.json\n  ngmnn compare --data data/mnist-slice --precision f32 --epochs 2 --gradient-epochs 5 --trainers closed-form,adam,closed-form+adam"
    )]
    Compare(compare::CompareArgs),
    /// Serve one device of this machine to fits on other machines (`ngmnn train --workers`;
    /// feature `remote`). The transport is unencrypted: use a private network or a tunnel.
    #[command(
        after_help = "Examples:\n  ngmnn worker --listen 127.0.0.1:4000\n  ngmnn worker --listen 10.0.0.5:4000 --token-file token.txt\n  ngmnn train --data data/mnist --workers ws://10.0.0.5:4000,ws://10.0.0.6:4000 --token-file token.txt"
    )]
    Worker(workers::WorkerArgs),
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train(a) => train::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Predict(a) => predict::run(a),
        Command::Backends(a) => backends::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Worker(a) => workers::run(a),
    }
}

/// The error of a failed command as one line: its message and its causes, each cause added
/// only when the text before it does not already say it (an I/O error's message carries its
/// cause, so `{:#}` alone would print "Is a directory (os error 21)" twice).
pub fn error_line(error: &anyhow::Error) -> String {
    let mut line = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !line.contains(&cause) {
            line.push_str(": ");
            line.push_str(&cause);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_line_says_each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::IsADirectory, "Is a directory");
        let error = anyhow::Error::new(ngmnn::NgmnnError::Io {
            path: "d".into(),
            source: io,
        })
        .context("loading d");
        assert_eq!(
            error_line(&error),
            "loading d: I/O error on d: Is a directory"
        );
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(error_line(&plain), "outer: inner");
    }
}
