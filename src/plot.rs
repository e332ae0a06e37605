//! SVG plots of a fit's history: accuracy per epoch (train and test/validation), the
//! decision-layer objective, and each hidden layer's ridge objective. Written atomically.

use std::path::Path;

use plotters::prelude::*;

use crate::error::{NgmnnError, Result};
use crate::model::write_output;
use crate::train::History;

fn plot_err(e: impl std::fmt::Display) -> NgmnnError {
    NgmnnError::Plot(e.to_string())
}

/// Draw `history` into an SVG file at `path`.
///
/// # Errors
/// [`NgmnnError::Plot`] if the history is empty or drawing fails, [`NgmnnError::Io`] if the
/// file cannot be written.
pub fn plot_history(history: &History, title: &str, path: &Path) -> Result<()> {
    if history.epochs.is_empty() {
        return Err(plot_err("no epochs to plot"));
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 900)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let root = root.titled(title, ("sans-serif", 22)).map_err(plot_err)?;
        let panels = root.split_evenly((3, 1));
        let epochs = history.epochs.len() as f64;
        let x_range = 0.5..epochs + 0.5;

        // Accuracy.
        let mut chart = panel(&panels[0], "accuracy", x_range.clone(), 0.0..1.0)?;
        let train: Vec<(f64, f64)> = history
            .epochs
            .iter()
            .map(|r| (r.epoch as f64, r.train_acc))
            .collect();
        series(&mut chart, train, BLUE, "train")?;
        let valid: Vec<(f64, f64)> = history
            .epochs
            .iter()
            .filter_map(|r| r.valid_acc.map(|a| (r.epoch as f64, a)))
            .collect();
        if !valid.is_empty() {
            series(&mut chart, valid, RED, "test")?;
        }
        legend(&mut chart)?;

        // Decision-layer objective.
        let dec: Vec<(f64, f64)> = history
            .epochs
            .iter()
            .map(|r| (r.epoch as f64, r.decision_objective()))
            .collect();
        let mut chart = panel(
            &panels[1],
            "decision-layer objective (§3)",
            x_range.clone(),
            padded(dec.iter().map(|p| p.1)),
        )?;
        series(&mut chart, dec, BLACK, "objective")?;

        // Ridge objectives, one line per hidden layer.
        let layers = history.epochs[0].ridge_objectives.len();
        let all = history
            .epochs
            .iter()
            .flat_map(|r| r.ridge_objectives.iter().copied());
        let mut chart = panel(
            &panels[2],
            "ridge objective per hidden layer (§1)",
            x_range,
            padded(all),
        )?;
        for l in 0..layers {
            let pts: Vec<(f64, f64)> = history
                .epochs
                .iter()
                .filter_map(|r| r.ridge_objectives.get(l).map(|&o| (r.epoch as f64, o)))
                .collect();
            series(
                &mut chart,
                pts,
                Palette99::pick(l).to_rgba(),
                &format!("layer {}", l + 1),
            )?;
        }
        if layers > 0 {
            legend(&mut chart)?;
        }
        root.present().map_err(plot_err)?;
    }
    write_output(path, svg.as_bytes())
}

/// Draw learning curves (`(name, [(seconds, test accuracy)])`) into an SVG file at `path`, with
/// an optional horizontal line at `target`.
///
/// # Errors
/// [`NgmnnError::Plot`] if there is nothing to plot or drawing fails, [`NgmnnError::Io`] if
/// the file cannot be written.
pub fn plot_curves(
    curves: &[(String, Vec<(f64, f64)>)],
    target: Option<f64>,
    title: &str,
    path: &Path,
) -> Result<()> {
    let t_max = curves
        .iter()
        .flat_map(|(_, pts)| pts.iter().map(|p| p.0))
        .filter(|t| t.is_finite())
        .fold(0.0f64, f64::max);
    if t_max <= 0.0 {
        return Err(plot_err("no points to plot"));
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 540)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let root = root.titled(title, ("sans-serif", 22)).map_err(plot_err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(36)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..t_max * 1.05, 0.0..1.0)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("wall-clock seconds")
            .y_desc("test accuracy")
            .draw()
            .map_err(plot_err)?;
        if let Some(t) = target.filter(|t| t.is_finite()) {
            let style = BLACK.mix(0.5).stroke_width(1);
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(0.0, t), (t_max * 1.05, t)],
                    6,
                    4,
                    style,
                ))
                .map_err(plot_err)?
                .label(format!("target {t:.4}"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
        for (i, (name, pts)) in curves.iter().enumerate() {
            series(&mut chart, pts.clone(), Palette99::pick(i).to_rgba(), name)?;
        }
        legend(&mut chart)?;
        root.present().map_err(plot_err)?;
    }
    write_output(path, svg.as_bytes())
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

fn series<C: Color>(
    chart: &mut Chart<'_, '_>,
    pts: Vec<(f64, f64)>,
    color: C,
    label: &str,
) -> Result<()> {
    let style = color.stroke_width(2);
    let legend_style = style;
    chart
        .draw_series(LineSeries::new(pts.clone(), style))
        .map_err(plot_err)?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], legend_style));
    chart
        .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, style.filled())))
        .map_err(plot_err)?;
    Ok(())
}

/// One panel: caption, epoch axis, y range, mesh.
fn panel<'a, 'b: 'a>(
    area: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    caption: &str,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> Result<Chart<'a, 'b>> {
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .caption(caption, ("sans-serif", 16))
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(x, y)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_label_formatter(&|x| {
            // Epochs are integers: label only the integral ticks.
            if (x - x.round()).abs() < 1e-9 {
                format!("{x:.0}")
            } else {
                String::new()
            }
        })
        .draw()
        .map_err(plot_err)?;
    Ok(chart)
}

fn legend<'a, 'b: 'a>(chart: &mut Chart<'a, 'b>) -> Result<()> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(plot_err)
}

/// A y range covering `values` with 5% padding (a flat series gets a unit-wide range).
fn padded(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return 0.0..1.0;
    }
    let pad = ((hi - lo) * 0.05).max(1e-9 * hi.abs().max(1.0));
    if hi - lo < 1e-12 {
        return lo - 0.5..hi + 0.5;
    }
    lo - pad..hi + pad
}
