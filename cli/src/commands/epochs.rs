//! The run skeleton shared by `ngmnn train` in memory and `--stream-rows`: the epochs with
//! their table, progress bar and per-epoch save ([`run_epochs`]), then the end of the run
//! ([`finish`]: summary, report, plot, the degenerate-model check, the interrupt's exit).

use anyhow::Context;
use ngmnn::model::Ngmnn;
use ngmnn::plot::plot_history;
use ngmnn::report::{TrainReport, write_json};
use ngmnn::train::{ClosedFormFit, EpochRecord, History};

use super::interrupt;
use super::train::TrainArgs;
use super::train_report::{progress, row, summary};

/// Run epochs until `epochs` are in `history` or Ctrl-C: a table row per epoch, the fit's
/// parameters written into the model after each, then `after_epoch` (saving). Returns the model
/// and whether the run was interrupted.
pub(super) fn run_epochs(
    fit: &mut ClosedFormFit,
    mut model: Ngmnn,
    history: &mut History,
    epochs: usize,
    chatty: bool,
    mut after_epoch: impl FnMut(&Ngmnn, &History) -> anyhow::Result<()>,
) -> anyhow::Result<(Ngmnn, bool)> {
    let bar = progress(chatty, history.epochs.len(), epochs);
    if chatty {
        bar.suspend(|| {
            println!(
                "{:>5}  {:>9}  {:>9}  {:>14}  {:>8}",
                "epoch", "train_acc", "test_acc", "decision_obj", "seconds"
            )
        });
    }
    let mut interrupted = false;
    let mut warned = false;
    while history.epochs.len() < epochs {
        if interrupt::requested() {
            interrupted = true;
            break;
        }
        let record = fit.epoch()?;
        for note in &record.recoveries {
            bar.suspend(|| eprintln!("{note}"));
        }
        if chatty {
            bar.suspend(|| println!("{}", row(&record)));
        }
        if let Some(share) = saturation_warning(&record)
            && !warned
        {
            warned = true;
            bar.suspend(|| {
                eprintln!(
                    "warning: {:.0}% of a hidden layer's backward targets sit at the target map's \
                     bounds: that layer learns little (try --targets softmax or minmax, or the \
                     broad preset)",
                    share * 100.0
                )
            });
        }
        bar.inc(1);
        history.epochs.push(record);
        history.base_targets = fit.base_targets();
        model = fit.write_into(model)?;
        after_epoch(&model, history)?;
    }
    bar.finish_and_clear();
    Ok((model, interrupted))
}

/// The largest share of a hidden layer's backward targets at the target map's bounds, when
/// it is most of them (over one half).
fn saturation_warning(record: &EpochRecord) -> Option<f64> {
    record
        .saturated_targets
        .iter()
        .copied()
        .fold(None, |acc: Option<f64>, s| {
            Some(acc.map_or(s, |a| a.max(s)))
        })
        .filter(|&s| s > 0.5)
}

/// Print the summary (or the JSON report with `--json`), write `--report` and `--plot`.
fn output(
    args: &TrainArgs,
    report: &TrainReport,
    history: &History,
    final_f1: Option<f64>,
    name: &str,
) -> anyhow::Result<()> {
    let chatty = args.chatty();
    if args.json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        println!("{}", summary(history, final_f1));
    }
    if let Some(path) = &args.report {
        write_json(report, path).with_context(|| format!("writing {}", path.display()))?;
        if chatty {
            println!("report written to {}", path.display());
        }
    }
    if let Some(path) = &args.plot {
        plot_history(history, &format!("ngmnn: {name}"), path)?;
        if chatty {
            println!("plot written to {}", path.display());
        }
    }
    Ok(())
}

/// How a run of epochs ended (see [`finish`]).
pub(super) struct RunEnd<'a> {
    /// The epochs asked for.
    pub(super) epochs: usize,
    /// Whether Ctrl-C stopped it.
    pub(super) interrupted: bool,
    /// The output folder, if any.
    pub(super) out: Option<&'a std::path::Path>,
    /// Whether the folder holds a checkpoint (`--resume` continues it).
    pub(super) resumable: bool,
}

/// The end shared by the in-memory and the streamed run: the summary, report and plot
/// ([`output`]), the degenerate-model check, then the interrupt's exit or the saved folder.
pub(super) fn finish(
    args: &TrainArgs,
    report: &TrainReport,
    history: &History,
    final_f1: Option<f64>,
    name: &str,
    end: RunEnd<'_>,
) -> anyhow::Result<()> {
    output(args, report, history, final_f1, name)?;
    check_degenerate(args, history)?;
    let RunEnd {
        epochs,
        interrupted,
        out,
        resumable,
    } = end;
    if interrupted {
        let k = history.epochs.len();
        match out {
            Some(dir) if resumable => eprintln!(
                "interrupted after epoch {k} of {epochs}: the model of epoch {k} is saved in {0}; \
                 continue with `ngmnn train --resume {0}`",
                dir.display()
            ),
            Some(dir) => eprintln!(
                "interrupted after epoch {k} of {epochs}: the model of epoch {k} is saved in {}",
                dir.display()
            ),
            None => eprintln!("interrupted after epoch {k} of {epochs} (no --out: nothing saved)"),
        }
        std::process::exit(interrupt::INTERRUPTED_EXIT);
    }
    if let (Some(dir), true) = (out, args.chatty()) {
        println!("model saved to {}", dir.display());
    }
    Ok(())
}

/// A fit whose last epoch predicts one class for every training row
/// ([`History::degenerate`]): a warning on stderr, or the run's error under `--strict`.
fn check_degenerate(args: &TrainArgs, history: &History) -> anyhow::Result<()> {
    if let Some(what) = history.degenerate() {
        if args.strict {
            anyhow::bail!(what);
        }
        eprintln!("warning: {what} (--strict makes this an error)");
    }
    Ok(())
}
