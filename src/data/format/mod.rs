//! Data file formats behind one trait. A format says how one of its files is loaded with its
//! labels ([`Format::load`]), opened to be read in batches on every pass ([`Format::stream`]),
//! and read without labels for prediction ([`Format::features`]); [`DataFormat`] names the
//! formats and tells them from a path. The parsers stay in their files (`data/csv.rs`,
//! `data/idx.rs`, `data/mat.rs`, `data/stream/`, `data/features.rs`); each format's file here
//! is where its three entry points meet.
//!
//! A new format: a file here implementing [`Format`], a variant of [`DataFormat`] (and its
//! extension in [`DataFormat::detect`]), a fuzz target for its parser.

mod csv;
mod idx;
mod mat;

use std::path::Path;

use super::{CsvOptions, Features, LoadedData, StreamedData};
use crate::error::{NgmnnError, Result};

/// How the files of one format are read. Every read goes through the input budget
/// (`options.memory_limit`, else the machine's available memory).
pub(crate) trait Format {
    /// The labelled rows of `path` (and the test part a source carries, e.g. an MNIST
    /// directory's t10k files).
    fn load(&self, path: &Path, options: &CsvOptions) -> Result<LoadedData>;

    /// `path` opened to be read in batches of `rows` rows on every pass, without loading it.
    fn stream(&self, path: &Path, options: &CsvOptions, rows: usize) -> Result<StreamedData>;

    /// The features of `path` without labels (prediction on new data).
    fn features(&self, path: &Path, options: &CsvOptions) -> Result<Features>;
}

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
            Err(unsupported(
                path,
                "cannot tell the format from the name: use .mat, .csv, .tsv, an IDX file \
                 (…-idx3-ubyte[.gz]) or a directory of MNIST files, or pass --format",
            ))
        }
    }

    /// The reader of `format`, or of the format [`DataFormat::detect`] tells from `path`.
    pub(crate) fn reader_for(format: Option<Self>, path: &Path) -> Result<&'static dyn Format> {
        let format = match format {
            Some(f) => f,
            None => Self::detect(path)?,
        };
        Ok(match format {
            DataFormat::Mat => &mat::Mat,
            DataFormat::Idx => &idx::Idx,
            DataFormat::Csv => &csv::Delimited(DataFormat::Csv),
            DataFormat::Tsv => &csv::Delimited(DataFormat::Tsv),
        })
    }
}

/// The error of a format that cannot do what was asked of it.
fn unsupported(path: &Path, reason: &str) -> NgmnnError {
    NgmnnError::UnsupportedFormat {
        path: path.to_owned(),
        reason: reason.into(),
    }
}
