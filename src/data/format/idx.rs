//! MNIST-style IDX: an images file and its labels file (`labels_path_for`), or a directory of
//! the four MNIST files (its t10k pair is the source's test part). Without labels: an images
//! file alone.

use std::path::Path;

use super::{Format, unsupported};
use crate::data::idx::{load_idx_dir_within, load_idx_within, mnist_paths, read_idx};
use crate::data::input::Input;
use crate::data::stream::BatchSource;
use crate::data::{CsvOptions, Features, IdxStream, LoadedData, StreamedData};
use crate::error::Result;

/// The IDX format.
pub(super) struct Idx;

impl Format for Idx {
    fn load(&self, path: &Path, options: &CsvOptions) -> Result<LoadedData> {
        let limit = options.budget();
        if path.is_dir() {
            let (data, test) = load_idx_dir_within(path, limit)?;
            return Ok(LoadedData { data, test });
        }
        Ok(LoadedData {
            data: load_idx_within(path, limit)?,
            test: None,
        })
    }

    fn stream(&self, path: &Path, options: &CsvOptions, rows: usize) -> Result<StreamedData> {
        let open = |images: &Path| -> Result<Box<dyn BatchSource>> {
            Ok(Box::new(IdxStream::open_within(
                images,
                rows,
                options.budget(),
            )?))
        };
        let (train, test) = if path.is_dir() {
            mnist_paths(path)?
        } else {
            (path.to_owned(), None)
        };
        let data = open(&train)?;
        let test = test.as_deref().map(open).transpose()?;
        Ok(StreamedData {
            classes: (0..data.n_classes()).map(|k| k.to_string()).collect(),
            data,
            test,
        })
    }

    fn features(&self, path: &Path, options: &CsvOptions) -> Result<Features> {
        if !path.is_file() {
            return Err(unsupported(
                path,
                "unlabeled data must be a CSV/TSV file or an IDX images file",
            ));
        }
        let name = path
            .file_name()
            .map_or_else(|| "data".into(), |s| s.to_string_lossy().into_owned());
        let images = read_idx(Input::open(path, options.budget())?, path)?;
        let d: usize = images.dims[1..].iter().product();
        Features::new(name, images.data, d.max(1))
    }
}
