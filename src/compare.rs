//! Side-by-side comparison of the closed-form trainer with the gradient baselines (feature
//! `train`): the same data, split, architecture, initial weights and backend for every
//! trainer; test accuracy after every epoch against cumulative wall-clock seconds; and the
//! time each trainer needs to reach a target accuracy.
//!
//! Timing: a trainer's clock starts before its set-up (uploading the data, layer 1's
//! factorisation, or moving the model to the autodiff device) and includes each epoch's
//! test-set evaluation, identically for all trainers.

use std::fmt::Write as _;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::data::LabeledData;
use crate::error::{NgmnnError, Result};
use crate::learner::{Classifier, GradientConfig, GradientHistory, MlpConfig};
use crate::metrics::macro_f1;
use crate::model::NgmnnConfig;
use crate::train::{ClosedFormConfig, History, RidgeReadoutConfig};

/// What to compare.
#[derive(Debug, Clone)]
pub struct CompareConfig {
    /// The closed-form trainer (`None`: leave it out).
    pub closed_form: Option<ClosedFormConfig>,
    /// The gradient baselines, one run each.
    pub gradient: Vec<GradientConfig>,
    /// Gradient trainers of a plain ReLU network with the same widths ([`crate::learner::Mlp`]):
    /// gradient descent on the architecture it is usually given.
    pub mlp: Vec<GradientConfig>,
    /// Gradient trainers started from the closed-form solution (`closed-form + adam`): their
    /// curves continue the closed-form curve, so their seconds count from the start of the
    /// closed-form fit. Needs `closed_form`.
    pub refine: Vec<GradientConfig>,
    /// The ridge read-out on the closed-form trainer's random first layer
    /// ([`crate::train::RidgeReadoutConfig`]): the baseline the learned layers must beat.
    pub ridge_readout: Option<RidgeReadoutConfig>,
    /// Target test accuracy; `None`: the closed-form trainer's final accuracy (or, without
    /// it, the first trainer's).
    pub target: Option<f64>,
}

/// One point of a learning curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// 1-based epoch.
    pub epoch: usize,
    /// Cumulative wall-clock seconds at the end of the epoch (set-up included).
    pub seconds: f64,
    /// Test accuracy after the epoch.
    pub test_acc: f64,
}

/// One trainer's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainerRun {
    /// `closed-form (paper)`, `sgd (lr 0.1)`, ...
    pub trainer: String,
    /// Backend name.
    pub backend: String,
    /// The float type the trained model computes in (`f32`, `f64`): the closed form's
    /// precision, the gradient trainers' model dtype.
    #[serde(default)]
    pub dtype: String,
    /// Epochs run.
    pub epochs: usize,
    /// Best test accuracy over the epochs.
    pub best_acc: f64,
    /// Epoch of the best test accuracy.
    pub best_epoch: usize,
    /// Test accuracy after the last epoch.
    pub final_acc: f64,
    /// Macro-F1 of the final model on the test set.
    pub macro_f1: f64,
    /// Total wall-clock seconds.
    pub seconds: f64,
    /// Seconds until the test accuracy first reached the target (`None`: not reached).
    pub time_to_target: Option<f64>,
    /// Epoch at which the target was first reached.
    pub epochs_to_target: Option<usize>,
    /// The learning curve.
    pub curve: Vec<CurvePoint>,
}

/// The comparison: what was compared and every trainer's run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Training data name.
    pub dataset: String,
    /// Training / test sizes.
    pub n_train: usize,
    /// Test set size.
    pub n_test: usize,
    /// Layer widths, input to output.
    pub widths: Vec<usize>,
    /// Target test accuracy for the time-to-target column.
    pub target: f64,
    /// Where the target came from.
    pub target_source: String,
    /// One entry per trainer, in the order run.
    pub runs: Vec<TrainerRun>,
}

/// Run every trainer of `config` on `train`, measuring `test` after every epoch. Each trainer
/// starts from `model.init(device)` (same seed, same weights). `on_run` sees each finished run.
///
/// # Errors
/// The trainers' errors; [`NgmnnError::InvalidConfig`] if no trainer is selected.
pub fn compare(
    model: &NgmnnConfig,
    train: &LabeledData,
    test: &LabeledData,
    device: &Device,
    backend: &str,
    config: &CompareConfig,
    mut on_run: impl FnMut(&TrainerRun),
) -> Result<Comparison> {
    if config.closed_form.is_none() && !config.refine.is_empty() {
        return Err(NgmnnError::config(
            "trainers",
            "closed-form + gradient",
            "starting a gradient trainer from the closed form needs the closed-form trainer",
        ));
    }
    if config.closed_form.is_none()
        && config.ridge_readout.is_none()
        && config.gradient.is_empty()
        && config.mlp.is_empty()
    {
        return Err(NgmnnError::config(
            "trainers",
            "none",
            "select at least one trainer",
        ));
    }
    let mut runs = Vec::new();
    if let Some(cf) = &config.closed_form {
        let trainer = cf.init()?;
        let (fitted, history) = trainer.fit(model.init(device)?, train, Some(test))?;
        let curve = closed_form_curve(&history);
        let name = format!("closed-form ({})", cf.preset);
        let run = finish(name.clone(), backend, curve.clone(), &fitted, test)?;
        on_run(&run);
        runs.push(run);
        for g in &config.refine {
            let (refined, more) = g.init()?.fit(fitted.clone(), train, Some(test))?;
            let name = format!("{name} + {}", gradient_name(g));
            let run = finish(name, backend, continued(&curve, &more), &refined, test)?;
            on_run(&run);
            runs.push(run);
        }
    }
    if let Some(readout) = &config.ridge_readout {
        let start = std::time::Instant::now();
        let (fitted, chosen) = readout.fit(model, train, device)?;
        let pred = fitted.predict_dataset(test)?;
        let point = CurvePoint {
            epoch: 1,
            seconds: start.elapsed().as_secs_f64(),
            test_acc: crate::metrics::accuracy(&pred, test.labels()),
        };
        let name = format!(
            "ridge read-out (gamma {:e} on {}% validation)",
            chosen.gamma,
            (readout.validation * 100.0).round()
        );
        let run = finish(name, backend, vec![point], &fitted, test)?;
        on_run(&run);
        runs.push(run);
    }
    for g in &config.gradient {
        let trainer = g.init()?;
        let (fitted, history) = trainer.fit(model.init(device)?, train, Some(test))?;
        let curve = gradient_curve(&history);
        let run = finish(gradient_name(g), backend, curve, &fitted, test)?;
        on_run(&run);
        runs.push(run);
    }
    let mlp =
        MlpConfig::new(model.d_input, model.hidden.clone(), model.n_classes).with_seed(model.seed);
    for g in &config.mlp {
        let trainer = g.init()?;
        let (fitted, history) = trainer.fit(mlp.init(device)?, train, Some(test))?;
        let curve = gradient_curve(&history);
        let name = format!("{} relu-mlp", gradient_name(g));
        let run = finish(name, backend, curve, &fitted, test)?;
        on_run(&run);
        runs.push(run);
    }
    let (target, target_source) = match config.target {
        Some(t) => (t, "given".to_string()),
        None => (
            runs[0].final_acc,
            format!("final test accuracy of {}", runs[0].trainer),
        ),
    };
    for run in &mut runs {
        let hit = run.curve.iter().find(|p| p.test_acc >= target);
        run.time_to_target = hit.map(|p| p.seconds);
        run.epochs_to_target = hit.map(|p| p.epoch);
    }
    Ok(Comparison {
        dataset: train.name().to_string(),
        n_train: train.n(),
        n_test: test.n(),
        widths: model.widths(),
        target,
        target_source,
        runs,
    })
}

fn gradient_name(g: &GradientConfig) -> String {
    format!("{} (lr {}, batch {})", g.optimizer, g.lr(), g.batch_size)
}

/// The closed-form curve followed by a gradient trainer's curve that started from its
/// solution: epochs and seconds continue from the closed form's last point.
fn continued(closed_form: &[CurvePoint], more: &GradientHistory) -> Vec<CurvePoint> {
    let (epochs, seconds) = closed_form
        .last()
        .map_or((0, 0.0), |p| (p.epoch, p.seconds));
    let tail = gradient_curve(more).into_iter().map(|p| CurvePoint {
        epoch: epochs + p.epoch,
        seconds: seconds + p.seconds,
        test_acc: p.test_acc,
    });
    closed_form.iter().copied().chain(tail).collect()
}

fn closed_form_curve(history: &History) -> Vec<CurvePoint> {
    let epochs = history.epochs.iter();
    curve(
        history.setup_seconds,
        epochs.map(|r| (r.epoch, r.seconds, r.valid_acc)),
    )
}

fn gradient_curve(history: &GradientHistory) -> Vec<CurvePoint> {
    let epochs = history.epochs.iter();
    curve(
        history.setup_seconds,
        epochs.map(|r| (r.epoch, r.seconds, r.valid_acc)),
    )
}

/// Learning curve from per-epoch `(epoch, seconds, test accuracy)`: cumulative seconds from
/// the set-up on.
fn curve(setup: f64, epochs: impl Iterator<Item = (usize, f64, Option<f64>)>) -> Vec<CurvePoint> {
    let mut t = setup;
    epochs
        .map(|(epoch, seconds, acc)| {
            t += seconds;
            CurvePoint {
                epoch,
                seconds: t,
                test_acc: acc.unwrap_or(f64::NAN),
            }
        })
        .collect()
}

fn finish(
    trainer: String,
    backend: &str,
    curve: Vec<CurvePoint>,
    model: &impl Classifier,
    test: &LabeledData,
) -> Result<TrainerRun> {
    let last = *curve
        .last()
        .ok_or_else(|| NgmnnError::config("epochs", 0, "must be at least 1"))?;
    let best = curve
        .iter()
        .copied()
        .reduce(|a, b| if b.test_acc > a.test_acc { b } else { a })
        .unwrap_or(last);
    let pred = model.predict_rows(test)?;
    Ok(TrainerRun {
        trainer,
        backend: backend.to_string(),
        dtype: format!("{:?}", model.dtype()).to_lowercase(),
        epochs: curve.len(),
        best_acc: best.test_acc,
        best_epoch: best.epoch,
        final_acc: last.test_acc,
        macro_f1: macro_f1(&pred, test.labels(), test.n_classes()),
        seconds: last.seconds,
        time_to_target: None,
        epochs_to_target: None,
        curve,
    })
}

impl Comparison {
    /// The comparison as a Markdown table (with a one-line header naming data and target).
    pub fn markdown(&self) -> String {
        let widths: Vec<String> = self.widths.iter().map(ToString::to_string).collect();
        let mut s = format!(
            "{}: {} train / {} test, layers {}; target test accuracy {:.4} ({})\n\n",
            self.dataset,
            self.n_train,
            self.n_test,
            widths.join("-"),
            self.target,
            self.target_source
        );
        s.push_str("| trainer | backend | dtype | epochs | best test acc (epoch) | final test acc | macro-F1 | seconds | time to target |\n");
        s.push_str("|---|---|---|---:|---:|---:|---:|---:|---:|\n");
        for r in &self.runs {
            let ttt = match (r.time_to_target, r.epochs_to_target) {
                (Some(t), Some(e)) => format!("{} s (epoch {e})", secs(t)),
                _ => "not reached".to_string(),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {:.4} ({}) | {:.4} | {:.4} | {} | {} |",
                r.trainer,
                r.backend,
                r.dtype,
                r.epochs,
                r.best_acc,
                r.best_epoch,
                r.final_acc,
                r.macro_f1,
                secs(r.seconds),
                ttt
            );
        }
        s
    }

    #[cfg(feature = "plot")]
    /// Draw test accuracy against wall-clock seconds for every trainer into an SVG file.
    ///
    /// # Errors
    /// As [`crate::plot::plot_curves`].
    pub fn plot(&self, path: &std::path::Path) -> Result<()> {
        let curves: Vec<(String, Vec<(f64, f64)>)> = self
            .runs
            .iter()
            .map(|r| {
                let pts = r.curve.iter().map(|p| (p.seconds, p.test_acc)).collect();
                (r.trainer.clone(), pts)
            })
            .collect();
        let title = format!("{}: test accuracy against wall-clock time", self.dataset);
        crate::plot::plot_curves(&curves, Some(self.target), &title, path)
    }
}

/// Seconds with precision suited to their size.
fn secs(t: f64) -> String {
    if t < 1.0 {
        format!("{t:.3}")
    } else if t < 100.0 {
        format!("{t:.2}")
    } else {
        format!("{t:.0}")
    }
}
