//! Choosing a loader: `builtin`, a directory of MNIST IDX files, or a file whose format comes
//! from its extension (or is given explicitly).

use std::path::Path;

use super::idx::{load_idx_dir_within, load_idx_within, mnist_paths};
use super::mat::load_mat_within;
use super::stream::{BatchSource, CsvStream, IdxStream};
use super::{BUILTIN_NAME, CsvOptions, LabeledData, digits, load_csv};
use crate::error::{NgmnnError, Result};

crate::choice::choice_enum! {
    "format",
    /// A data file format.
    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum DataFormat {
        /// MATLAB v5 `.mat` with `X` and `Y`.
        Mat,
        /// MNIST-style IDX (images file + labels file, or a directory of the four MNIST files).
        #[strum(to_string = "idx", serialize = "mnist")]
        Idx,
        /// Comma-separated values.
        Csv,
        /// Tab-separated values.
        Tsv,
    }
}

impl DataFormat {
    /// Detect the format from a path: a directory is IDX; else by extension (a trailing `.gz`
    /// is looked through); names containing `idx` or `ubyte` are IDX.
    ///
    /// # Errors
    /// [`NgmnnError::UnsupportedFormat`] if nothing matches.
    pub fn detect(path: &Path) -> Result<Self> {
        if path.is_dir() {
            return Ok(DataFormat::Idx);
        }
        let name = path
            .file_name()
            .map(|s| s.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.ends_with(".mat") {
            Ok(DataFormat::Mat)
        } else if name.ends_with(".csv") {
            Ok(DataFormat::Csv)
        } else if name.ends_with(".tsv") {
            Ok(DataFormat::Tsv)
        } else if name.contains("idx") || name.contains("ubyte") {
            Ok(DataFormat::Idx)
        } else {
            Err(NgmnnError::UnsupportedFormat {
                path: path.to_owned(),
                reason: "cannot tell the format from the name: use .mat, .csv, .tsv, an IDX file \
                         (…-idx3-ubyte[.gz]) or a directory of MNIST files, or pass --format"
                    .into(),
            })
        }
    }
}

/// What a data source yields: the data, and a test set when the source carries one (the
/// MNIST directory's t10k pair).
#[derive(Debug, Clone)]
pub struct LoadedData {
    /// The (training) data.
    pub data: LabeledData,
    /// A test set that came with the source.
    pub test: Option<LabeledData>,
}

/// Load `source`: `builtin`, or a path, within the input budget `csv.memory_limit` (the
/// machine's available memory when `None`) whatever the format.
///
/// # Errors
/// The loaders' errors; [`NgmnnError::Io`] if the path does not exist;
/// [`NgmnnError::OutOfMemory`] naming the size when the decompressed or parsed data would
/// pass the budget.
pub fn load(source: &str, format: Option<DataFormat>, csv: &CsvOptions) -> Result<LoadedData> {
    if source == BUILTIN_NAME {
        return Ok(LoadedData {
            data: digits(),
            test: None,
        });
    }
    let path = Path::new(source);
    if !path.exists() {
        return Err(NgmnnError::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
        ));
    }
    let format = match format {
        Some(f) => f,
        None => DataFormat::detect(path)?,
    };
    let single = |data| Ok(LoadedData { data, test: None });
    let limit = csv.budget();
    match format {
        DataFormat::Idx if path.is_dir() => {
            let (data, test) = load_idx_dir_within(path, limit)?;
            Ok(LoadedData { data, test })
        }
        DataFormat::Idx => single(load_idx_within(path, limit)?),
        DataFormat::Mat => single(load_mat_within(path, limit)?),
        DataFormat::Csv | DataFormat::Tsv => single(load_csv(path, &csv.for_format(format))?),
    }
}

/// A source opened for streaming ([`open_stream`]): the training batches, the class names (in
/// class-index order) and, for a directory of MNIST files, the t10k part.
pub struct StreamedData {
    /// The training rows, read in passes.
    pub data: Box<dyn BatchSource>,
    /// Class names, in class-index order.
    pub classes: Vec<String>,
    /// The source's own test part (an MNIST directory's t10k files), if any.
    pub test: Option<Box<dyn BatchSource>>,
}

impl std::fmt::Debug for StreamedData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamedData")
            .field("data", &self.data.name())
            .field("classes", &self.classes)
            .field("test", &self.test.as_ref().map(|t| t.name()))
            .finish()
    }
}

/// Open `source` (a CSV/TSV file, an IDX images file or a directory of MNIST files) to be
/// read in batches of `rows` rows on every pass, without loading it: the streaming
/// counterpart of [`load`].
///
/// # Errors
/// [`NgmnnError::UnsupportedFormat`] for `builtin` and `.mat` files (a MATLAB matrix is one
/// piece); the errors of [`CsvStream::open`] and [`IdxStream::open`].
pub fn open_stream(
    source: &str,
    format: Option<DataFormat>,
    csv: &CsvOptions,
    rows: usize,
) -> Result<StreamedData> {
    let path = Path::new(source);
    if source == "builtin" {
        return Err(NgmnnError::UnsupportedFormat {
            path: path.to_owned(),
            reason: "the built-in set is in memory already: train without streaming".into(),
        });
    }
    let format = match format {
        Some(f) => f,
        None => DataFormat::detect(path)?,
    };
    let idx = |images: &Path| -> Result<(Box<dyn BatchSource>, usize)> {
        let s = IdxStream::open_within(images, rows, csv.budget())?;
        let c = s.n_classes();
        Ok((Box::new(s), c))
    };
    match format {
        DataFormat::Idx => {
            let (train, test) = if path.is_dir() {
                mnist_paths(path)?
            } else {
                (path.to_owned(), None)
            };
            let (data, c) = idx(&train)?;
            let test = match test {
                Some(t) => Some(idx(&t)?.0),
                None => None,
            };
            Ok(StreamedData {
                data,
                classes: (0..c).map(|k| k.to_string()).collect(),
                test,
            })
        }
        DataFormat::Csv | DataFormat::Tsv => {
            let s = CsvStream::open(path, &csv.for_format(format), rows)?;
            Ok(StreamedData {
                classes: s.classes().to_vec(),
                data: Box::new(s),
                test: None,
            })
        }
        DataFormat::Mat => Err(NgmnnError::UnsupportedFormat {
            path: path.to_owned(),
            reason: "a .mat file cannot be streamed (MATLAB v5 stores each matrix in one piece): \
                     load it without streaming"
                .into(),
        }),
    }
}
