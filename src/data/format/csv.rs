//! CSV and TSV: one row per line, the label in a column (`CsvOptions::label`), a header row
//! detected or forced; without labels every column is a feature.

use std::path::Path;

use super::{DataFormat, Format};
use crate::data::features::{CsvFeatureStream, collect_features};
use crate::data::{CsvOptions, CsvStream, Features, LoadedData, StreamedData, load_csv};
use crate::error::Result;

/// Delimited text: [`DataFormat::Csv`] or [`DataFormat::Tsv`] (the delimiter).
pub(super) struct Delimited(pub(super) DataFormat);

impl Format for Delimited {
    fn load(&self, path: &Path, options: &CsvOptions) -> Result<LoadedData> {
        Ok(LoadedData {
            data: load_csv(path, &options.for_format(self.0))?,
            test: None,
        })
    }

    fn stream(&self, path: &Path, options: &CsvOptions, rows: usize) -> Result<StreamedData> {
        let stream = CsvStream::open(path, &options.for_format(self.0), rows)?;
        Ok(StreamedData {
            classes: stream.classes().to_vec(),
            data: Box::new(stream),
            test: None,
        })
    }

    fn features(&self, path: &Path, options: &CsvOptions) -> Result<Features> {
        collect_features(CsvFeatureStream::open(path, &options.for_format(self.0))?)
    }
}
