//! MATLAB v5 `.mat` with the matrices `X` (samples x features) and `Y` (labels): loaded whole
//! (each matrix is stored in one piece, so it cannot be streamed), always labelled.

use std::path::Path;

use super::{Format, unsupported};
use crate::data::mat::load_mat_within;
use crate::data::{CsvOptions, Features, LoadedData, StreamedData};
use crate::error::Result;

/// The `.mat` format.
pub(super) struct Mat;

impl Format for Mat {
    fn load(&self, path: &Path, options: &CsvOptions) -> Result<LoadedData> {
        Ok(LoadedData {
            data: load_mat_within(path, options.budget())?,
            test: None,
        })
    }

    fn stream(&self, path: &Path, _: &CsvOptions, _: usize) -> Result<StreamedData> {
        Err(unsupported(
            path,
            "a .mat file cannot be streamed (MATLAB v5 stores each matrix in one piece): load it \
             without streaming",
        ))
    }

    fn features(&self, path: &Path, _: &CsvOptions) -> Result<Features> {
        Err(unsupported(
            path,
            "unlabeled data must be a CSV/TSV file or an IDX images file (a .mat file carries \
             labels: evaluate it instead)",
        ))
    }
}
