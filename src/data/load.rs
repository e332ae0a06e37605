//! Choosing a loader: `builtin`, or a path whose format ([`super::format`]) comes from its
//! name (or is given explicitly).

use std::path::Path;

use super::format::DataFormat;
use super::stream::BatchSource;
use super::{BUILTIN_NAME, CsvOptions, LabeledData, digits};
#[cfg(doc)]
use super::{CsvStream, IdxStream};
use crate::error::{NgmnnError, Result};

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
    DataFormat::reader_for(format, path)?.load(path, csv)
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
    if source == BUILTIN_NAME {
        return Err(NgmnnError::UnsupportedFormat {
            path: path.to_owned(),
            reason: "the built-in set is in memory already: train without streaming".into(),
        });
    }
    DataFormat::reader_for(format, path)?.stream(path, csv, rows)
}
