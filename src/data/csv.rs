//! CSV files: numeric feature columns and one label column (numbers or strings).
//!
//! A header row is detected (every feature cell of the first row non-numeric) unless forced; the
//! label column is the last unless chosen by index or header name; cells are trimmed;
//! `.gz` files are decompressed as they are read, within the input budget
//! ([`CsvOptions::memory_limit`]).

use std::path::Path;

use super::LabeledData;
use super::input::Input;
use super::records::read_labeled;
use crate::error::{NgmnnError, Result};

/// Which column holds the labels.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelColumn {
    /// The last column (default).
    #[default]
    Last,
    /// The first column.
    First,
    /// A 0-based column index.
    Index(usize),
    /// A header name (requires a header row).
    Name(String),
    /// No label column: every column is a feature (unlabeled data, for prediction).
    None,
}

impl std::str::FromStr for LabelColumn {
    type Err = std::convert::Infallible;

    /// `last`, `first`, `none`, a 0-based index, or a header name.
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(match s.trim() {
            "last" => LabelColumn::Last,
            "first" => LabelColumn::First,
            "none" => LabelColumn::None,
            t => t
                .parse()
                .map(LabelColumn::Index)
                .unwrap_or_else(|_| LabelColumn::Name(t.to_owned())),
        })
    }
}

/// How to read a CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    /// The label column.
    pub label: LabelColumn,
    /// `Some(true/false)` forces a header row or its absence; `None` detects it.
    pub header: Option<bool>,
    /// Field delimiter (`b','`; `b'\t'` for `.tsv`).
    pub delimiter: u8,
    /// The input budget, in bytes, of every loader given these options (CSV, IDX, `.mat`):
    /// decompressed text and parsed values stop with [`NgmnnError::OutOfMemory`] naming the
    /// size before they pass it; one CSV record may take 1/32 of it (1 MB at least). `None`:
    /// the machine's available memory ([`crate::memory::input_budget`]).
    pub memory_limit: Option<u64>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            label: LabelColumn::Last,
            header: None,
            delimiter: b',',
            memory_limit: None,
        }
    }
}

impl CsvOptions {
    /// These options for a file of `format`: tab-delimited for TSV, as given otherwise.
    pub fn for_format(&self, format: super::DataFormat) -> Self {
        match format {
            super::DataFormat::Tsv => Self {
                delimiter: b'\t',
                ..self.clone()
            },
            _ => self.clone(),
        }
    }

    /// These options with an input budget of `bytes` (`None`: the available memory).
    pub fn with_memory_limit(self, bytes: Option<u64>) -> Self {
        Self {
            memory_limit: bytes,
            ..self
        }
    }

    /// The input budget in bytes ([`crate::memory::input_budget`]).
    pub(crate) fn budget(&self) -> u64 {
        crate::memory::input_budget(self.memory_limit)
    }
}

/// Load a CSV file (gzipped or not), parsing it as it is read.
///
/// # Errors
/// See [`parse_csv`]; [`NgmnnError::Io`] if unreadable; [`NgmnnError::Parse`] for a gzip
/// stream that does not decode.
pub fn load_csv(path: &Path, options: &CsvOptions) -> Result<LabeledData> {
    let name = path
        .file_name()
        .map_or_else(|| "csv".into(), |s| s.to_string_lossy().into_owned());
    read_labeled(Input::open(path, options.budget())?, &name, options)
}

/// Parse CSV bytes (gzipped or not) into a dataset named `name`.
///
/// # Errors
/// [`NgmnnError::InvalidData`] for an empty file, a header-only file, ragged rows, a
/// non-numeric or non-finite feature cell (row and column named), a NaN or infinite label,
/// fewer than two columns, a label column that does not exist or a header name that two
/// columns share, a record longer than the budget allows; [`NgmnnError::OutOfMemory`] when
/// the parsed rows would pass the budget ([`CsvOptions::memory_limit`]).
pub fn parse_csv(bytes: &[u8], name: &str, options: &CsvOptions) -> Result<LabeledData> {
    read_labeled(Input::from_bytes(bytes, options.budget()), name, options)
}

/// A CSV reader with the crate's settings (no header handling, flexible widths, trimmed cells).
pub(crate) fn reader<R: std::io::Read>(input: R, options: &CsvOptions) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .delimiter(options.delimiter)
        .from_reader(input)
}

/// A blank line.
pub(crate) fn is_blank(rec: &csv::StringRecord) -> bool {
    rec.len() == 1 && rec[0].is_empty()
}

/// The 1-based line of a record.
pub(crate) fn line_of(rec: &csv::StringRecord) -> u64 {
    rec.position().map_or(0, |p| p.line())
}

/// Where the labels are and whether the first row is a header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    /// Fields per row.
    pub width: usize,
    /// The label column.
    pub label: usize,
    /// Whether the first row is a header.
    pub header: bool,
}

impl Layout {
    /// From the first row and the options.
    ///
    /// # Errors
    /// [`NgmnnError::InvalidData`] for fewer than two columns or a label column that does not
    /// exist.
    pub(crate) fn detect(
        first: &csv::StringRecord,
        options: &CsvOptions,
        name: &str,
    ) -> Result<Self> {
        let err = |reason: String| NgmnnError::data(Some(name), reason);
        let width = first.len();
        if width < 2 {
            return Err(err(format!(
                "{width} column(s): need at least one feature and a label"
            )));
        }
        let resolve = |header: Option<&csv::StringRecord>| -> Result<usize> {
            match &options.label {
                LabelColumn::Last => Ok(width - 1),
                LabelColumn::First => Ok(0),
                LabelColumn::Index(i) if *i < width => Ok(*i),
                LabelColumn::Index(i) => Err(err(format!(
                    "label column {i} does not exist ({width} columns)"
                ))),
                LabelColumn::Name(n) => {
                    let mut at = header
                        .into_iter()
                        .flat_map(|h| h.iter().enumerate())
                        .filter(|&(_, c)| c == n)
                        .map(|(j, _)| j);
                    match (at.next(), at.next()) {
                        (Some(j), None) => Ok(j),
                        (Some(a), Some(b)) => Err(err(format!(
                            "two header columns are named {n:?}: columns {} and {} (1-based); \
                             rename one or choose the label column by index",
                            a + 1,
                            b + 1
                        ))),
                        (None, _) => Err(err(format!("no header column named {n:?}"))),
                    }
                }
                LabelColumn::None => Err(err(
                    "--label-col none: the file has no labels; training and evaluation need \
                     them (predict reads unlabeled files)"
                        .into(),
                )),
            }
        };
        let header = match options.header {
            Some(h) => h,
            None => {
                // A header if every feature cell of the first row is non-numeric (a label column
                // chosen by name implies a header). A row mixing numbers and text is data, and
                // its text cell is reported.
                let label = resolve(Some(first)).unwrap_or(width - 1);
                matches!(options.label, LabelColumn::Name(_))
                    || first
                        .iter()
                        .enumerate()
                        .all(|(j, c)| j == label || c.parse::<f64>().is_err())
            }
        };
        Ok(Self {
            width,
            label: resolve(header.then_some(first))?,
            header,
        })
    }

    /// Append a data row's features to `x` and return its label (normalised: `"3.0"` is
    /// `"3"`).
    ///
    /// # Errors
    /// [`NgmnnError::InvalidData`] for a ragged row, a non-numeric or non-finite feature, or an
    /// empty, NaN or infinite label, naming the line and column.
    pub(crate) fn parse_row(
        &self,
        rec: &csv::StringRecord,
        line: u64,
        name: &str,
        x: &mut Vec<f32>,
    ) -> Result<String> {
        let err = |reason: String| NgmnnError::data(Some(name), reason);
        if rec.len() != self.width {
            return Err(err(format!(
                "ragged rows: line {line} has {} fields, the first row has {}",
                rec.len(),
                self.width
            )));
        }
        let mut label = String::new();
        for (j, cell) in rec.iter().enumerate() {
            if j == self.label {
                if cell.parse::<f64>().is_ok_and(|v| !v.is_finite()) {
                    return Err(err(format!(
                        "line {line}, column {}: label {cell:?} is not a class (NaN or \
                         infinite)",
                        j + 1
                    )));
                }
                label = normalize_label(cell);
                continue;
            }
            let v: f64 = cell.parse().map_err(|_| {
                err(format!(
                    "line {line}, column {}: {cell:?} is not a number (a header row? pass --header)",
                    j + 1
                ))
            })?;
            if !v.is_finite() {
                return Err(err(format!(
                    "line {line}, column {}: non-finite value {cell:?}",
                    j + 1
                )));
            }
            x.push(v as f32);
        }
        if label.is_empty() {
            return Err(err(format!("line {line}: empty label")));
        }
        Ok(label)
    }
}

/// `"3.0"` and `"3"` are the same class.
fn normalize_label(cell: &str) -> String {
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 => format!("{}", v as i64),
        _ => cell.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<LabeledData> {
        parse_csv(s.as_bytes(), "t.csv", &CsvOptions::default())
    }

    #[test]
    fn csv_detects_header_and_string_labels() {
        let ds = parse("a,b,species\n1,2, setosa \n3,4,virginica\n5,6,setosa\n").unwrap();
        assert_eq!((ds.n(), ds.d()), (3, 2));
        assert_eq!(ds.classes(), ["setosa", "virginica"]);
        assert_eq!(ds.labels(), [0, 1, 0]);
        assert_eq!(ds.features(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn csv_without_header_and_label_first() {
        let opts = CsvOptions {
            label: LabelColumn::First,
            ..Default::default()
        };
        let ds = parse_csv(b"1,0.5,0.25\n2.0,1.5,1\n", "t", &opts).unwrap();
        assert_eq!(ds.classes(), ["1", "2"]);
        assert_eq!(ds.features(), [0.5, 0.25, 1.5, 1.0]);
    }

    #[test]
    fn csv_label_by_name() {
        let opts = CsvOptions {
            label: LabelColumn::Name("y".into()),
            ..Default::default()
        };
        let ds = parse_csv(b"y,f\n1,0.5\n0,1.5\n", "t", &opts).unwrap();
        assert_eq!(ds.features(), [0.5, 1.5]);
    }

    #[test]
    fn csv_errors_are_typed() {
        for bad in [
            "",
            "a,b,c\n",
            "1,2,0\n1,2\n",
            "1,x,0\n1,2,0\n",
            "1,2,0\n1,nan,1\n",
            "1\n2\n",
        ] {
            assert!(
                matches!(parse(bad), Err(NgmnnError::InvalidData { .. })),
                "{bad:?}"
            );
        }
    }
}
