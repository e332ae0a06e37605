//! Features without labels: what prediction on new data reads.
//!
//! A CSV/TSV file whose every column is a feature (no label column; a header row of names is
//! detected or forced as for [`super::load_csv`]) or an IDX images file without a labels file.

use std::path::Path;

use burn::tensor::{DType, Device, Tensor, TensorData};

use super::csv::{CsvOptions, line_of};
use super::dataset::non_finite;
use super::format::DataFormat;
use super::input::Input;
use super::records::Records;
use super::standardize::Standardizer;
use crate::error::{NgmnnError, Result};

/// Unlabeled samples: `n` rows of `d` features, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    name: String,
    x: Vec<f32>,
    d: usize,
}

impl Features {
    /// Build and validate: `x.len() == n d`, `n, d >= 1`, every value finite.
    ///
    /// # Errors
    /// [`NgmnnError::InvalidData`] naming the first problem.
    pub fn new(name: impl Into<String>, x: Vec<f32>, d: usize) -> Result<Self> {
        let name = name.into();
        let err = |reason: String| Err(NgmnnError::data(Some(&name), reason));
        if d == 0 || x.is_empty() || !x.len().is_multiple_of(d) {
            return err(format!(
                "{} values do not make rows of {d} features",
                x.len()
            ));
        }
        if let Some(reason) = non_finite(&x, d) {
            return err(reason);
        }
        Ok(Self { name, x, d })
    }

    /// The source's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Samples.
    pub fn n(&self) -> usize {
        self.x.len() / self.d
    }

    /// Features per sample.
    pub fn d(&self) -> usize {
        self.d
    }

    /// The values, row-major.
    pub fn values(&self) -> &[f32] {
        &self.x
    }

    /// Standardise with a saved standardiser.
    ///
    /// # Errors
    /// [`NgmnnError::ShapeMismatch`] if the widths differ.
    pub fn standardize(&mut self, s: &Standardizer) -> Result<()> {
        s.apply_rows(&mut self.x, self.d)
    }

    /// Rows `range` as a `[rows, d]` tensor.
    pub fn tensor(&self, rows: std::ops::Range<usize>, device: &Device, dtype: DType) -> Tensor<2> {
        let values = self.x[rows.start * self.d..rows.end * self.d].to_vec();
        Tensor::from_data(
            TensorData::new(values, [rows.len(), self.d]),
            (device, dtype),
        )
    }
}

/// Load unlabeled features from a CSV/TSV file (every column a feature) or an IDX images file,
/// within the input budget (`csv.memory_limit`).
///
/// # Errors
/// [`NgmnnError::UnsupportedFormat`] for `.mat` and MNIST directories (they carry labels: load
/// them with [`super::load`]); the parse errors of the formats.
pub fn load_features(
    path: &Path,
    format: Option<DataFormat>,
    csv: &CsvOptions,
) -> Result<Features> {
    DataFormat::reader_for(format, path)?.features(path, csv)
}

/// Parse CSV bytes whose every column is a feature. A first row with no numeric cell is a
/// header (or as `options.header` says).
///
/// # Errors
/// As [`CsvFeatureStream::next_batch`]; [`NgmnnError::InvalidData`] for a file without data
/// rows.
pub fn parse_csv_features(bytes: &[u8], name: &str, options: &CsvOptions) -> Result<Features> {
    let input = Box::new(std::io::Cursor::new(bytes.to_vec()));
    collect_features(CsvFeatureStream::new(input, name, options))
}

/// Every row of `stream`, within its budget.
pub(crate) fn collect_features(mut stream: CsvFeatureStream) -> Result<Features> {
    let name = stream.name.clone();
    let mut x = Vec::new();
    let mut d = None;
    while let Some(batch) = stream.next_batch(1 << 16)? {
        d = Some(batch.d);
        let held = 4 * (x.len() + batch.x.len()) as u64;
        let what = || format!("reading {name} ({} rows so far)", x.len() / batch.d);
        stream.records.progress().check_held(2 * held, what)?;
        x.extend_from_slice(&batch.x);
    }
    let d = d.ok_or_else(|| NgmnnError::data(Some(&name), "no data rows"))?;
    Features::new(name, x, d)
}

/// Unlabeled CSV rows read a batch at a time (prediction on files larger than memory).
pub struct CsvFeatureStream {
    records: Records<'static>,
    name: String,
    header: Option<bool>,
    width: Option<usize>,
    first: bool,
}

impl CsvFeatureStream {
    /// Read CSV from `input` (every column a feature; gzip decoded), within the input budget
    /// `options.memory_limit`.
    pub fn new(input: Box<dyn std::io::Read + Send>, name: &str, options: &CsvOptions) -> Self {
        Self::from_input(Input::new(input, 0, options.budget()), name, options)
    }

    fn from_input(input: Input<'static>, name: &str, options: &CsvOptions) -> Self {
        Self {
            records: Records::new(input, options, name),
            name: name.to_owned(),
            header: options.header,
            width: None,
            first: true,
        }
    }

    /// Open a CSV/TSV file (gzip optional) for streaming.
    ///
    /// # Errors
    /// [`NgmnnError::Io`] if it cannot be opened.
    pub fn open(path: &Path, options: &CsvOptions) -> Result<Self> {
        let name = path
            .file_name()
            .map_or_else(|| "csv".into(), |s| s.to_string_lossy().into_owned());
        let input = Input::open(path, options.budget())?;
        Ok(Self::from_input(input, &name, options))
    }

    /// The next at most `rows` rows; `None` at the end.
    ///
    /// # Errors
    /// [`NgmnnError::InvalidData`] for ragged rows or a non-numeric / non-finite cell (line and
    /// column named).
    pub fn next_batch(&mut self, rows: usize) -> Result<Option<Features>> {
        let name = self.name.clone();
        let err = |reason: String| NgmnnError::data(Some(&name), reason);
        let mut x = Vec::new();
        let mut count = 0;
        let mut rec = csv::StringRecord::new();
        while count < rows {
            if !self.records.next(&mut rec)? {
                break;
            }
            let header = self.first
                && self
                    .header
                    .unwrap_or_else(|| rec.iter().all(|c| c.parse::<f64>().is_err()));
            self.first = false;
            if header {
                continue;
            }
            let w = *self.width.get_or_insert(rec.len());
            let line = line_of(&rec);
            if rec.len() != w {
                return Err(err(format!(
                    "line {line}: {} fields, expected {w}",
                    rec.len()
                )));
            }
            for (j, cell) in rec.iter().enumerate() {
                let v: f32 = cell
                    .parse()
                    .ok()
                    .filter(|v: &f32| v.is_finite())
                    .ok_or_else(|| {
                        err(format!(
                            "line {line}, column {}: {cell:?} is not a finite number",
                            j + 1
                        ))
                    })?;
                x.push(v);
            }
            count += 1;
        }
        match (count, self.width) {
            (0, _) | (_, None) => Ok(None),
            (_, Some(d)) => Features::new(&self.name, x, d).map(Some),
        }
    }
}
