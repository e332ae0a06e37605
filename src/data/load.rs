//! Choosing a loader: `builtin`, a directory of MNIST IDX files, or a file whose format comes
//! from its extension (or is given explicitly).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::GzDecoder;

use super::idx::mnist_paths;
use super::stream::{BatchSource, CsvStream, IdxStream};
use super::{
    BUILTIN_NAME, CsvOptions, LabeledData, digits, load_csv, load_idx, load_idx_dir, load_mat,
};
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

/// Load `source`: `builtin`, or a path.
///
/// # Errors
/// The loaders' errors; [`NgmnnError::Io`] if the path does not exist.
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
    match format {
        DataFormat::Idx if path.is_dir() => {
            let (data, test) = load_idx_dir(path)?;
            Ok(LoadedData { data, test })
        }
        DataFormat::Idx => single(load_idx(path)?),
        DataFormat::Mat => single(load_mat(path)?),
        DataFormat::Csv | DataFormat::Tsv => single(load_csv(path, &csv.for_format(format))?),
    }
}

/// Read a whole file, gunzipping it if it starts with the gzip magic.
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| NgmnnError::io(path, e))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        gunzip(&raw, path)
    } else {
        Ok(raw)
    }
}

/// Open `path` for streaming, decompressing it if it starts with the gzip magic.
///
/// # Errors
/// [`NgmnnError::Io`] if it cannot be opened or read.
pub(crate) fn open_maybe_gz(path: &Path) -> Result<Box<dyn Read + Send>> {
    let mut file = BufReader::new(File::open(path).map_err(|e| NgmnnError::io(path, e))?);
    // Peek at the magic through the buffer (a fresh buffer holds the start of the file).
    let gz = file
        .fill_buf()
        .map_err(|e| NgmnnError::io(path, e))?
        .starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(BufReader::new(GzDecoder::new(file)))
    } else {
        Box::new(file)
    })
}

/// Decompress gzip bytes (`path` names them in errors).
pub(crate) fn gunzip(bytes: &[u8], path: &Path) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| NgmnnError::Parse {
            path: path.to_owned(),
            format: "gzip",
            reason: e.to_string(),
        })?;
    Ok(out)
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
        let s = IdxStream::open(images, rows)?;
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
