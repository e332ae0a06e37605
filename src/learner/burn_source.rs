//! Burn datasets on both sides: ngmnn's [`LabeledData`] is a Burn
//! [`burn::data::dataset::Dataset`] of [`Sample`]s (so Burn's loaders, samplers and
//! transforms take it without a copy into samples), and any Burn dataset of [`Sample`]s
//! (`InMemDataset`, SQLite- or HuggingFace-backed, a user's own) reaches the core trainer as a
//! re-readable [`BatchSource`] ([`BurnDatasetSource`], for [`crate::train::Training::Stream`]).

use burn::data::dataset::{Dataset as BurnDataset, DatasetError};

use super::Sample;
use crate::data::{Batch, BatchSource, LabeledData};
use crate::error::{NgmnnError, Result};

impl BurnDataset<Sample> for LabeledData {
    fn get(&self, index: usize) -> std::result::Result<Sample, DatasetError> {
        let d = self.d();
        let label = *self.labels().get(index).ok_or_else(|| {
            DatasetError::new(NgmnnError::data(
                Some(self.name()),
                format!("row {index} of {}", self.n()),
            ))
        })?;
        Ok(Sample {
            features: self.features()[index * d..(index + 1) * d].to_vec(),
            label,
        })
    }

    fn len(&self) -> usize {
        self.n()
    }
}

/// A Burn dataset of [`Sample`]s read in batches of `rows` items, in index order, every pass:
/// Burn datasets are random-access, so every pass yields the same rows.
#[derive(Debug)]
pub struct BurnDatasetSource<D> {
    dataset: D,
    name: String,
    d: usize,
    classes: usize,
    rows: usize,
    next: usize,
}

impl<D: BurnDataset<Sample>> BurnDatasetSource<D> {
    /// Serve `dataset` (labels in `0..classes`) in batches of `rows` items; the feature count
    /// is the first item's.
    ///
    /// # Errors
    /// [`NgmnnError::InvalidData`] for an empty dataset or a first item without features;
    /// [`NgmnnError::InvalidConfig`] for `rows` 0 or fewer than two classes.
    pub fn new(dataset: D, name: &str, classes: usize, rows: usize) -> Result<Self> {
        if rows == 0 {
            return Err(NgmnnError::config("rows", 0, "must be at least 1"));
        }
        if classes < 2 {
            return Err(NgmnnError::config("classes", classes, "must be at least 2"));
        }
        if dataset.is_empty() {
            return Err(NgmnnError::data(Some(name), "the dataset is empty"));
        }
        let first = dataset
            .get(0)
            .map_err(|e| NgmnnError::data(Some(name), format!("item 0: {e}")))?;
        if first.features.is_empty() {
            return Err(NgmnnError::data(
                Some(name),
                "the first item has no features",
            ));
        }
        Ok(Self {
            d: first.features.len(),
            dataset,
            name: name.to_owned(),
            classes,
            rows,
            next: 0,
        })
    }
}

impl<D: BurnDataset<Sample>> BatchSource for BurnDatasetSource<D> {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn n_features(&self) -> usize {
        self.d
    }

    fn n_classes(&self) -> usize {
        self.classes
    }

    fn rows_hint(&self) -> Option<usize> {
        Some(self.dataset.len())
    }

    fn reset(&mut self) -> Result<()> {
        self.next = 0;
        Ok(())
    }

    fn next_batch(&mut self) -> Result<Option<Batch>> {
        let end = (self.next + self.rows).min(self.dataset.len());
        if self.next >= end {
            return Ok(None);
        }
        let mut batch = Batch {
            features: Vec::with_capacity((end - self.next) * self.d),
            labels: Vec::with_capacity(end - self.next),
        };
        for i in self.next..end {
            let item = self
                .dataset
                .get(i)
                .map_err(|e| NgmnnError::data(Some(&self.name), format!("item {i}: {e}")))?;
            // Widths and labels are checked by the trainer (`Batch::check`).
            batch.features.extend_from_slice(&item.features);
            batch.labels.push(item.label);
        }
        self.next = end;
        Ok(Some(batch))
    }
}
