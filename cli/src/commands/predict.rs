//! `ngmnn predict`: classes (and scores) for new data, labeled or not.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use ngmnn::data::{
    BatchSource, CsvFeatureStream, CsvStream, DataFormat, Features, LabelColumn, load_features,
};
use ngmnn::model::{Ngmnn, OutputFile, SavedModel, refuse_inside};

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
    refuse_inside(&args.output, &args.model, "--output")?;
    let device = args.backend.device()?;
    let (saved, model) = SavedModel::load(&args.model, &device)
        .with_context(|| format!("loading model {}", args.model.display()))?;
    let d_model = saved.config.d_input;
    let mut output = Output::create(&args.output, &saved.classes, args.scores)?;
    let mut write = || -> anyhow::Result<bool> {
        let format = format_of(&args.data)?;
        Ok(match (unlabeled(&args.data, format, d_model)?, format) {
            (Some(mut source), _) => {
                // Unlabeled rows, a batch at a time: the file need not fit in memory.
                while let Some(mut batch) = source.next()? {
                    if batch.d() != d_model {
                        anyhow::bail!(
                            "the data has {} features but the model expects {d_model}",
                            batch.d()
                        );
                    }
                    if let Some(s) = &saved.standardizer {
                        batch.standardize(s)?;
                    }
                    output.write_batch(&model, &batch, None, &device)?;
                }
                false
            }
            (None, Some(format @ (DataFormat::Csv | DataFormat::Tsv))) => {
                // Labeled CSV/TSV: streamed too, labels mapped to the model's classes by name.
                let csv = args.data.csv_options().for_format(format);
                let mut stream = CsvStream::open(Path::new(&args.data.data), &csv, STREAM_ROWS)
                    .with_context(|| format!("loading {}", args.data.data))?;
                if stream.n_features() != d_model {
                    anyhow::bail!(
                        "the data has {} features but the model expects {d_model}",
                        stream.n_features()
                    );
                }
                let to_model: Vec<usize> =
                    stream
                        .classes()
                        .iter()
                        .map(|name| {
                            saved.classes.iter().position(|c| c == name).with_context(|| {
                            format!("class {name:?} of the data is not among the model's classes")
                        })
                        })
                        .collect::<anyhow::Result<_>>()?;
                stream.reset()?;
                while let Some(batch) = stream.next_batch()? {
                    let labels: Vec<usize> = batch.labels.iter().map(|&l| to_model[l]).collect();
                    let mut features = Features::new(stream.name(), batch.features, d_model)?;
                    if let Some(s) = &saved.standardizer {
                        features.standardize(s)?;
                    }
                    output.write_batch(&model, &features, Some(&labels), &device)?;
                }
                true
            }
            (None, _) => {
                let (_, _, data) = prepare_for_model(&args.model, &device, args.data.load()?)?;
                let features = Features::new(data.name(), data.features().to_vec(), data.d())?;
                output.write_batch(&model, &features, Some(data.labels()), &device)?;
                true
            }
        })
    };
    // On an error `output` is dropped unfinished: a file output leaves no partial file.
    let labeled = write()?;
    let to_stdout = output.writer.get_ref().get_ref().is_stdout();
    let n = output.finish(&args.output)?;
    let said = format!(
        "{n} predictions{} written to {}",
        if labeled { "" } else { " (unlabeled data)" },
        args.output.display()
    );
    // Standard output holds the rows: the line goes to stderr.
    if to_stdout {
        eprintln!("{said}");
    } else {
        println!("{said}");
    }
    Ok(())
}

/// The predictions file, written row by row through an [`OutputFile`]: a regular file is a
/// temporary file beside it renamed at the end (a failed run leaves no partial output), a
/// FIFO or `-` is written through.
struct Output {
    writer: csv::Writer<std::io::BufWriter<OutputFile>>,
    classes: Vec<String>,
    scores: bool,
    header: bool,
    rows: usize,
}

impl Output {
    fn create(path: &Path, classes: &[String], scores: bool) -> anyhow::Result<Self> {
        let file =
            OutputFile::create(path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self {
            writer: csv::Writer::from_writer(std::io::BufWriter::new(file)),
            classes: classes.to_vec(),
            scores,
            header: false,
            rows: 0,
        })
    }

    /// Predict `features` in device batches and append their rows (`actual` when `labels`).
    fn write_batch(
        &mut self,
        model: &Ngmnn,
        features: &Features,
        labels: Option<&[usize]>,
        device: &burn::tensor::Device,
    ) -> anyhow::Result<()> {
        if !self.header {
            let mut header = vec!["index".to_string(), "predicted".to_string()];
            if labels.is_some() {
                header.push("actual".into());
            }
            if self.scores {
                header.extend(self.classes.iter().map(|c| format!("score:{c}")));
            }
            self.writer.write_record(&header)?;
            self.header = true;
        }
        let (n, c) = (features.n(), self.classes.len());
        for start in (0..n).step_by(BATCH_ROWS) {
            let rows = start..(start + BATCH_ROWS).min(n);
            let (pred, scores) = predict_batch(model, features, rows.clone(), device)?;
            for (i, p) in rows.zip(pred) {
                let mut record = vec![(self.rows + i).to_string(), self.classes[p].clone()];
                if let Some(labels) = labels {
                    record.push(self.classes[labels[i]].clone());
                }
                if self.scores {
                    let row = &scores[(i - start) * c..(i - start + 1) * c];
                    record.extend(row.iter().map(|s| format!("{s:.6}")));
                }
                self.writer.write_record(&record)?;
            }
        }
        self.rows += n;
        Ok(())
    }

    /// Flush, sync and move the file into place; the number of rows written.
    fn finish(self, path: &Path) -> anyhow::Result<usize> {
        let file = self
            .writer
            .into_inner()
            .map_err(|e| anyhow::anyhow!("writing {}: {}", path.display(), e.error()))?
            .into_inner()
            .map_err(|e| anyhow::anyhow!("writing {}: {}", path.display(), e.error()))?;
        file.finish()?;
        Ok(self.rows)
    }
}

/// Unlabeled rows, read a batch at a time.
enum Unlabeled {
    /// A CSV/TSV stream and its first batch (read to see the width).
    Csv(CsvFeatureStream, Option<Features>),
    /// IDX images (one batch).
    Whole(Option<Features>),
}

impl Unlabeled {
    fn next(&mut self) -> anyhow::Result<Option<Features>> {
        Ok(match self {
            Unlabeled::Csv(stream, first) => match first.take() {
                Some(batch) => Some(batch),
                None => stream.next_batch(STREAM_ROWS)?,
            },
            Unlabeled::Whole(all) => all.take(),
        })
    }
}

/// The data's file format (given or detected); `None` for the built-in set.
fn format_of(data: &DataArgs) -> anyhow::Result<Option<DataFormat>> {
    if data.data == ngmnn::data::BUILTIN_NAME {
        return Ok(None);
    }
    Ok(Some(match data.format {
        Some(f) => f,
        None => DataFormat::detect(Path::new(&data.data))?,
    }))
}

/// Rows read per batch from a CSV file.
const STREAM_ROWS: usize = 65_536;

/// The data as unlabeled rows, when it has no labels: `--label-col none`; a CSV/TSV file with
/// exactly the model's number of columns; an IDX images file without a labels file. `None`:
/// labeled data (read as for `eval`).
fn unlabeled(
    data: &DataArgs,
    format: Option<DataFormat>,
    d_model: usize,
) -> anyhow::Result<Option<Unlabeled>> {
    let Some(format) = format else {
        return Ok(None);
    };
    let path = Path::new(&data.data);
    let csv = data.csv_options().for_format(format);
    let explicit = data.label_col == LabelColumn::None;
    match format {
        DataFormat::Csv | DataFormat::Tsv => {
            let mut stream = CsvFeatureStream::open(path, &csv)?;
            // As many numeric columns as the model has inputs: no label column. (A file whose
            // rows do not parse as all-numeric has a label column, e.g. names: read it labeled.)
            match stream.next_batch(STREAM_ROWS) {
                Ok(first) if explicit || first.as_ref().is_some_and(|f| f.d() == d_model) => {
                    Ok(Some(Unlabeled::Csv(stream, first)))
                }
                Err(e) if explicit => Err(e).with_context(|| format!("loading {}", data.data)),
                _ => Ok(None),
            }
        }
        DataFormat::Idx
            if path.is_file()
                && (explicit || ngmnn::data::labels_path_for(path).is_none_or(|p| !p.exists())) =>
        {
            let features = load_features(path, Some(format), &csv)
                .with_context(|| format!("loading {}", data.data))?;
            Ok(Some(Unlabeled::Whole(Some(features))))
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
