//! What `ngmnn train` shows and writes: the epoch table's rows, the summary line, the JSON
//! report, the progress bar and spinners.

use indicatif::{ProgressBar, ProgressStyle};
use ngmnn::report::TrainReport;
use ngmnn::train::{ClosedFormConfig, EpochRecord, History};

use super::run_args::RunArgs;

pub(super) fn row(r: &EpochRecord) -> String {
    let traffic = r.traffic.map_or(String::new(), |t| {
        format!(
            "  ({:.3} MB sent, {:.3} MB received)",
            t.sent as f64 * 1e-6,
            t.received as f64 * 1e-6
        )
    });
    format!(
        "{:>5}  {:>9.4}  {:>9}  {:>14.6e}  {:>8.3}{traffic}",
        r.epoch,
        r.train_acc,
        fmt_opt(r.valid_acc),
        r.decision_objective(),
        r.seconds
    )
}

pub(super) fn summary(history: &History, final_f1: Option<f64>) -> String {
    let last = history.last().expect("at least one epoch");
    let best = history.best_valid();
    let epoch_seconds: f64 = history.epochs.iter().map(|r| r.seconds).sum();
    format!(
        "final: train acc {:.4} | test acc {} | best test acc {} | test macro-F1 {} | {:.2} s ({:.2} s setup, {:.3} s/epoch)",
        last.train_acc,
        fmt_opt(last.valid_acc),
        best.map_or("-".into(), |b| format!(
            "{:.4} (epoch {})",
            b.valid_acc.unwrap_or(0.0),
            b.epoch
        )),
        fmt_opt(final_f1),
        history.total_seconds(),
        history.setup_seconds,
        epoch_seconds / history.epochs.len() as f64,
    )
}

/// The data's sizes, for the report.
pub(super) struct Sizes {
    pub(super) n_train: usize,
    pub(super) n_test: usize,
    pub(super) d: usize,
    pub(super) classes: usize,
}

pub(super) fn report(
    run: &RunArgs,
    sizes: &Sizes,
    trainer: ClosedFormConfig,
    history: &History,
    f1: Option<f64>,
) -> TrainReport {
    let last = history.last().expect("at least one epoch");
    let best = history.best_valid();
    TrainReport {
        dataset: run.data.data.clone(),
        n_train: sizes.n_train,
        n_test: sizes.n_test,
        d: sizes.d,
        classes: sizes.classes,
        hidden: run.hidden_widths(sizes.d),
        backend: run.backend.backend.to_string(),
        seed: run.seed,
        standardize: run.standardize,
        trainer,
        epochs: TrainReport::epochs_from(history),
        final_test_acc: last.valid_acc,
        best_test_acc: best.and_then(|b| b.valid_acc),
        best_epoch: best.map(|b| b.epoch),
        final_test_macro_f1: f1,
        setup_seconds: history.setup_seconds,
        total_seconds: history.total_seconds(),
        setup_traffic: history.setup_traffic,
        base_gamma: history.base_gamma,
        gamma_search: history.gamma_search.clone(),
    }
}

pub(super) fn fmt_opt(v: Option<f64>) -> String {
    v.map_or("-".into(), |a| format!("{a:.4}"))
}

/// An epoch progress bar with ETA on stderr; hidden when stderr is not a terminal or output
/// is quiet.
pub(super) fn progress(show: bool, done: usize, total: usize) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64).with_position(done as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} epoch {pos}/{len} · {elapsed_precise} elapsed · ETA {eta}",
        )
        .expect("valid template"),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(250));
    bar
}

pub(super) fn spinner(show: bool, message: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let s = ProgressBar::new_spinner().with_message(message.to_owned());
    s.enable_steady_tick(std::time::Duration::from_millis(120));
    s
}
