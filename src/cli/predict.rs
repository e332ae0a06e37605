//! `ngmnn predict`: classes (and scores) for new data, labeled or not.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use ngmnn::data::{DataFormat, Features, LabelColumn, load_features};
use ngmnn::model::{Ngmnn, SavedModel, write_atomic};

use super::common::{BackendArgs, DataArgs, prepare_for_model};

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Model directory written by `ngmnn train --out`.
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    backend: BackendArgs,
    /// CSV file to write: `index,predicted` (class names as saved with the model), then
    /// `actual` when the data has labels, then with `--scores` one `score:<class>` column per
    /// class.
    #[arg(long)]
    output: PathBuf,
    /// Add the model's decision scores per class: the row-normalised decision-layer outputs
    /// (each row has unit L2 norm; the predicted class has the largest). They rank the classes
    /// but are not calibrated probabilities: the closed form does not fit a likelihood.
    #[arg(long)]
    scores: bool,
}

/// Rows per prediction batch: bounds the device memory whatever the file's size.
const BATCH_ROWS: usize = 8192;

pub fn run(args: PredictArgs) -> anyhow::Result<()> {
    let device = args.backend.device()?;
    let (saved, model) = SavedModel::load(&args.model, &device)
        .with_context(|| format!("loading model {}", args.model.display()))?;
    let (features, actual) = match unlabeled(&args.data, saved.config.d_input)? {
        Some(mut features) => {
            if let Some(s) = &saved.standardizer {
                features.standardize(s)?;
            }
            (features, None)
        }
        None => {
            let (_, _, data) = prepare_for_model(&args.model, &device, args.data.load()?)?;
            let features = Features::new(data.name(), data.features().to_vec(), data.d())?;
            (features, Some(data.labels().to_vec()))
        }
    };
    if features.d() != saved.config.d_input {
        anyhow::bail!(
            "the data has {} features but the model expects {}",
            features.d(),
            saved.config.d_input
        );
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["index".to_string(), "predicted".to_string()];
    if actual.is_some() {
        header.push("actual".into());
    }
    if args.scores {
        header.extend(saved.classes.iter().map(|c| format!("score:{c}")));
    }
    out.write_record(&header)?;
    let n = features.n();
    for start in (0..n).step_by(BATCH_ROWS) {
        let rows = start..(start + BATCH_ROWS).min(n);
        let (pred, scores) = predict_batch(&model, &features, rows.clone(), &device)?;
        for (i, p) in rows.zip(pred) {
            let mut record = vec![i.to_string(), saved.classes[p].clone()];
            if let Some(actual) = &actual {
                record.push(saved.classes[actual[i]].clone());
            }
            if args.scores {
                let c = saved.classes.len();
                let row = &scores[(i - start) * c..(i - start + 1) * c];
                record.extend(row.iter().map(|s| format!("{s:.6}")));
            }
            out.write_record(&record)?;
        }
    }
    let bytes = out.into_inner().context("writing the predictions")?;
    write_atomic(&args.output, &bytes)?;
    println!(
        "{n} predictions{} written to {}",
        if actual.is_some() {
            ""
        } else {
            " (unlabeled data)"
        },
        args.output.display()
    );
    Ok(())
}

/// The data as unlabeled features, when it has no labels: `--label-col none`; a CSV/TSV file
/// with exactly the model's number of columns; an IDX images file without a labels file.
/// `None`: labeled data (read as for `eval`).
fn unlabeled(data: &DataArgs, d_model: usize) -> anyhow::Result<Option<Features>> {
    if data.data == ngmnn::data::BUILTIN_NAME {
        return Ok(None);
    }
    let path = Path::new(&data.data);
    let format = match data.format {
        Some(f) => f,
        None => DataFormat::detect(path)?,
    };
    let csv = data.csv_options();
    let load = || -> anyhow::Result<Features> {
        load_features(path, Some(format), &csv).with_context(|| format!("loading {}", data.data))
    };
    match format {
        _ if data.label_col == LabelColumn::None => Ok(Some(load()?)),
        DataFormat::Csv | DataFormat::Tsv => {
            // As many numeric columns as the model has inputs: no label column. (A file that
            // does not parse as all-numeric has a label column, e.g. names: read it labeled.)
            Ok(load().ok().filter(|f| f.d() == d_model))
        }
        DataFormat::Idx
            if path.is_file() && ngmnn::data::labels_path_for(path).is_none_or(|p| !p.exists()) =>
        {
            Ok(Some(load()?))
        }
        _ => Ok(None),
    }
}

/// Predicted class indices and (row-major, `[rows, c]`) row-normalised scores of `rows`.
fn predict_batch(
    model: &Ngmnn,
    features: &Features,
    rows: std::ops::Range<usize>,
    device: &burn::tensor::Device,
) -> anyhow::Result<(Vec<usize>, Vec<f64>)> {
    let x = features.tensor(rows, device, model.dtype());
    let scores = model.forward(x);
    let pred = scores
        .clone()
        .argmax(1)
        .into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .map_err(|e| anyhow::anyhow!("reading predictions: {e:?}"))?;
    let scores = scores
        .into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .map_err(|e| anyhow::anyhow!("reading scores: {e:?}"))?;
    Ok((pred.into_iter().map(|p| p as usize).collect(), scores))
}
