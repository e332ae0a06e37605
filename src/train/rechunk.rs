//! Cutting a stream of batches of any size into the chunks a pass computes on.
//!
//! A streamed source yields batches of whatever size it reads (a CSV reader's `--stream-rows`, a
//! user's [`BatchSource`](crate::data::BatchSource)); every chunk a pass computes costs a fixed
//! amount besides its rows (the moments of a 2048-wide layer are a `2058 x 2058` product read
//! back to the host and merged, whatever the rows). So the rows are regrouped into chunks of
//! exactly `chunk` rows (the last one shorter), the same cut as a resident fit's
//! ([`super::rows`]): the work of a pass is proportional to its rows, not to its batches, and a
//! streamed fit computes the very chunks of the in-memory fit.

use crate::data::Batch;
use crate::error::Result;

/// Rows waiting for the next chunk: at most `chunk - 1` of them between calls.
#[derive(Debug)]
pub(crate) struct Rechunker {
    d: usize,
    chunk: usize,
    features: Vec<f32>,
    labels: Vec<usize>,
}

impl Rechunker {
    /// Chunks of `chunk` rows (at least 1) of `d` features each.
    pub fn new(d: usize, chunk: usize) -> Self {
        Self {
            d,
            chunk: chunk.max(1),
            features: Vec::new(),
            labels: Vec::new(),
        }
    }

    /// Take `batch`'s rows in order; `emit(features, labels)` every complete chunk (row-major
    /// features, `rows x d`). A batch of many chunks is cut without copying its rows.
    ///
    /// # Errors
    /// The first error of `emit`.
    pub fn feed(
        &mut self,
        batch: &Batch,
        emit: &mut impl FnMut(&[f32], &[usize]) -> Result<()>,
    ) -> Result<()> {
        let (d, chunk, n) = (self.d, self.chunk, batch.rows());
        let mut start = 0;
        if !self.labels.is_empty() {
            let take = (chunk - self.labels.len()).min(n);
            self.features.extend_from_slice(&batch.features[..take * d]);
            self.labels.extend_from_slice(&batch.labels[..take]);
            start = take;
            if self.labels.len() == chunk {
                self.flush(emit)?;
            }
        }
        while n - start >= chunk {
            let rows = start..start + chunk;
            emit(
                &batch.features[rows.start * d..rows.end * d],
                &batch.labels[rows],
            )?;
            start += chunk;
        }
        self.features
            .extend_from_slice(&batch.features[start * d..]);
        self.labels.extend_from_slice(&batch.labels[start..]);
        Ok(())
    }

    /// `emit` the rows still waiting (the last, shorter chunk), if any.
    ///
    /// # Errors
    /// The error of `emit`.
    pub fn flush(&mut self, emit: &mut impl FnMut(&[f32], &[usize]) -> Result<()>) -> Result<()> {
        if !self.labels.is_empty() {
            emit(&self.features, &self.labels)?;
            self.features.clear();
            self.labels.clear();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(rows: std::ops::Range<usize>) -> Batch {
        Batch {
            features: rows.clone().flat_map(|r| [r as f32, -(r as f32)]).collect(),
            labels: rows.collect(),
        }
    }

    /// Batches of 1, 5, 7, 30 and 2 rows become chunks of 8 rows in order (one per 8 rows,
    /// not one per batch), the rows and features unchanged.
    #[test]
    fn rechunker_cuts_any_batches_into_fixed_chunks() {
        let mut chunks: Vec<(Vec<f32>, Vec<usize>)> = Vec::new();
        let mut emit = |x: &[f32], l: &[usize]| {
            chunks.push((x.to_vec(), l.to_vec()));
            Ok(())
        };
        let mut re = Rechunker::new(2, 8);
        let mut start = 0;
        for size in [1, 5, 7, 30, 2] {
            re.feed(&batch(start..start + size), &mut emit).unwrap();
            start += size;
        }
        re.flush(&mut emit).unwrap();
        let sizes: Vec<usize> = chunks.iter().map(|c| c.1.len()).collect();
        assert_eq!(sizes, [8, 8, 8, 8, 8, 5]);
        let labels: Vec<usize> = chunks.iter().flat_map(|c| c.1.clone()).collect();
        assert_eq!(labels, (0..45).collect::<Vec<_>>());
        let features: Vec<f32> = chunks.iter().flat_map(|c| c.0.clone()).collect();
        assert_eq!(features, batch(0..45).features);
    }
}
