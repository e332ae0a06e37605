//! Re-readable sources of training batches, for fits on data that does not fit in memory
//! ([`crate::train::Training::Stream`]).
//!
//! A [`BatchSource`] yields the same rows in the same order on every pass; the trainer
//! holds one batch at a time plus `O(n)` scalars (per-sample losses and weights). Sources here:
//! [`DatasetBatches`] (an in-memory [`LabeledData`] cut into batches: tests, and the reference for
//! streamed results), [`SyntheticSource`] (a seeded generator of any size), [`IdxStream`]
//! (MNIST-style IDX images) and [`CsvStream`] (CSV), both read from disk, optionally gzipped,
//! on every pass.

use super::LabeledData;
use crate::error::{NgmnnError, Result};

mod csv;
mod idx;
mod synthetic;

pub use csv::CsvStream;
pub use idx::IdxStream;
pub use synthetic::SyntheticSource;
/// A batch of rows: `labels.len()` samples of `features.len() / labels.len()` features
/// (row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Features, row-major, `rows x d`.
    pub features: Vec<f32>,
    /// Class index of each row.
    pub labels: Vec<usize>,
}

impl Batch {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.labels.len()
    }

    /// Check the batch against the source's shape: `d` features per row, finite values,
    /// labels below `classes`. `first_row` numbers the rows in errors.
    ///
    /// # Errors
    /// [`NgmnnError::InvalidData`] naming the first offending row.
    pub fn check(&self, d: usize, classes: usize, first_row: usize, name: &str) -> Result<()> {
        let err = |reason: String| Err(NgmnnError::data(Some(name), reason));
        if self.features.len() != self.rows() * d {
            return err(format!(
                "batch at row {first_row}: {} feature values for {} rows of {d} features",
                self.features.len(),
                self.rows()
            ));
        }
        if let Some(pos) = self.features.iter().position(|v| !v.is_finite()) {
            return err(format!(
                "non-finite feature {} at sample {}, feature {}",
                self.features[pos],
                first_row + pos / d,
                pos % d
            ));
        }
        if let Some(i) = self.labels.iter().position(|&l| l >= classes) {
            return err(format!(
                "label index {} of sample {} is out of range for {classes} classes",
                self.labels[i],
                first_row + i
            ));
        }
        Ok(())
    }
}

/// A re-readable source of training batches.
///
/// Every pass (after [`BatchSource::reset`]) must yield the same rows in the same order; the
/// trainer checks the row count of every pass against the first.
pub trait BatchSource: Send {
    /// A name for messages (file name, `synthetic`, ...).
    fn name(&self) -> String;
    /// Features per row.
    fn n_features(&self) -> usize;
    /// Number of classes (labels lie in `0..n_classes`).
    fn n_classes(&self) -> usize;
    /// The number of rows a pass yields, where the source knows it without a pass (a file
    /// header, an in-memory set); `None` otherwise. Only a hint for planning (the trainer
    /// counts the rows of every pass and never trusts it for correctness).
    fn rows_hint(&self) -> Option<usize> {
        None
    }
    /// Start a new pass at the first row.
    ///
    /// # Errors
    /// I/O or parse errors re-opening the data.
    fn reset(&mut self) -> Result<()>;
    /// The next batch of the pass, `None` at its end.
    ///
    /// # Errors
    /// I/O or parse errors (a truncated file, a malformed record).
    fn next_batch(&mut self) -> Result<Option<Batch>>;
}

/// An in-memory [`LabeledData`] served in batches of `rows` rows.
#[derive(Debug, Clone)]
pub struct DatasetBatches {
    data: LabeledData,
    rows: usize,
    next: usize,
}

impl DatasetBatches {
    /// Serve `data` in batches of `rows` rows (the last may be shorter; `rows` >= 1).
    pub fn new(data: LabeledData, rows: usize) -> Self {
        Self {
            data,
            rows: rows.max(1),
            next: 0,
        }
    }
}

impl BatchSource for DatasetBatches {
    fn name(&self) -> String {
        self.data.name().to_owned()
    }

    fn n_features(&self) -> usize {
        self.data.d()
    }

    fn n_classes(&self) -> usize {
        self.data.n_classes()
    }

    fn rows_hint(&self) -> Option<usize> {
        Some(self.data.n())
    }

    fn reset(&mut self) -> Result<()> {
        self.next = 0;
        Ok(())
    }

    fn next_batch(&mut self) -> Result<Option<Batch>> {
        let (n, d) = (self.data.n(), self.data.d());
        if self.next >= n {
            return Ok(None);
        }
        let end = (self.next + self.rows).min(n);
        let batch = Batch {
            features: self.data.features()[self.next * d..end * d].to_vec(),
            labels: self.data.labels()[self.next..end].to_vec(),
        };
        self.next = end;
        Ok(Some(batch))
    }
}
