//! Rows re-read from a [`BatchSource`] in every pass, regrouped into the resident fit's
//! chunks; the labels' counts and checksum checked pass after pass.

use std::sync::mpsc::sync_channel;

use burn::tensor::{DType, Device, Tensor, TensorData};

use super::{BatchView, Merge, fold_into};
use crate::data::{Batch, BatchSource};
use crate::error::{NgmnnError, Result};
use crate::train::rechunk::Rechunker;

/// FNV-1a (64 bit) of the label sequence: cheap, order-sensitive.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// A source re-read in every pass.
pub(crate) struct Streamed {
    pub(super) source: Box<dyn BatchSource>,
    pub(super) device: Device,
    pub(super) dtype: DType,
    pub(super) chunk_rows: usize,
    /// The model's classes: the width of the one-hot labels (a source may hold fewer).
    pub(super) classes: usize,
    /// Per-class counts of the last complete pass.
    pub(super) counts: Option<Vec<usize>>,
    /// A checksum of the labels in row order of the last complete pass: a source must yield
    /// the same rows in the same order every pass.
    pub(super) checksum: Option<u64>,
}

impl std::fmt::Debug for Streamed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streamed")
            .field("source", &self.source.name())
            .field("device", &self.device)
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

impl Streamed {
    /// One pass: batches are read (and checked) on a second thread, one batch ahead.
    pub(super) fn pass<R: Send>(
        &mut self,
        kernel: &(dyn Fn(&BatchView<'_>) -> Result<R> + Sync),
        merge: Merge<'_, R>,
    ) -> Result<Option<R>> {
        let (d, source_classes, name) = (
            self.source.n_features(),
            self.source.n_classes(),
            self.source.name(),
        );
        let classes = self.classes.max(source_classes);
        let (device, dtype, chunk_rows) = (self.device.clone(), self.dtype, self.chunk_rows);
        let source = &mut self.source;
        let mut counts = vec![0usize; classes];
        let mut checksum = FNV_OFFSET;
        let mut results: Option<R> = None;
        let mut offset = 0usize;
        std::thread::scope(|scope| -> Result<()> {
            let (tx, rx) = sync_channel::<Result<Batch>>(1);
            scope.spawn(move || {
                let mut row = 0usize;
                if let Err(e) = source.reset() {
                    let _ = tx.send(Err(e));
                    return;
                }
                loop {
                    let next = source.next_batch().and_then(|b| match b {
                        Some(b) => b.check(d, source_classes, row, &name).map(|()| Some(b)),
                        None => Ok(None),
                    });
                    match next {
                        Ok(Some(b)) => {
                            row += b.rows();
                            if tx.send(Ok(b)).is_err() {
                                return;
                            }
                        }
                        Ok(None) => return,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                }
            });
            // Every chunk computed is one of `chunk_rows` rows, whatever the batches' sizes.
            let mut rechunker = Rechunker::new(d, chunk_rows);
            let mut emit = |features: &[f32], batch_labels: &[usize]| -> Result<()> {
                let rows = batch_labels.len();
                let mut one_hot = vec![0.0f32; rows * classes];
                for (i, &l) in batch_labels.iter().enumerate() {
                    one_hot[i * classes + l] = 1.0;
                    counts[l] += 1;
                    checksum = (checksum ^ l as u64).wrapping_mul(FNV_PRIME);
                }
                let labels: Vec<i64> = batch_labels.iter().map(|&l| l as i64).collect();
                let x = Tensor::from_data(
                    TensorData::new(features.to_vec(), [rows, d]),
                    (&device, dtype),
                );
                let y =
                    Tensor::from_data(TensorData::new(one_hot, [rows, classes]), (&device, dtype));
                let labels = Tensor::from_data(TensorData::new(labels, [rows]), &device);
                let part = kernel(&BatchView {
                    offset,
                    x: &x,
                    y: &y,
                    labels: &labels,
                })?;
                fold_into(&mut results, part, merge);
                offset += rows;
                Ok(())
            };
            for batch in rx {
                rechunker.feed(&batch?, &mut emit)?;
            }
            rechunker.flush(&mut emit)?;
            Ok(())
        })?;
        if let Some(previous) = &self.counts
            && previous.iter().sum::<usize>() != offset
        {
            return Err(NgmnnError::data(
                Some(&self.source.name()),
                format!(
                    "the source yielded {offset} rows in this pass and {} in the previous one: \
                     a streamed source must be re-readable",
                    previous.iter().sum::<usize>()
                ),
            ));
        }
        if self.checksum.is_some_and(|previous| previous != checksum) {
            return Err(NgmnnError::data(
                Some(&self.source.name()),
                "the source yielded its rows in another order (or other labels) than in the \
                 previous pass: a streamed source must yield the same rows in the same order \
                 every pass",
            ));
        }
        self.counts = Some(counts);
        self.checksum = Some(checksum);
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Rows;
    use super::*;
    use crate::data::{DatasetBatches, digits};

    /// A source read 5 rows at a time costs one kernel call per chunk of `chunk_rows` rows, not
    /// one per batch: the streamed set-up's work follows the rows (the digits' 1797 rows in
    /// chunks of 512: 4 calls, where there are 360 batches), and the chunks are the resident
    /// fit's (offsets 0, 512, 1024, 1536).
    #[test]
    fn streamed_pass_computes_one_chunk_per_chunk_rows_whatever_the_batches() {
        let device = Device::default();
        let data = digits();
        let n = data.n();
        let source = Box::new(DatasetBatches::new(data, 5));
        let mut rows = Rows::streamed(source, 10, device, DType::F32, 512);
        let kernel = |view: &BatchView<'_>| -> Result<Vec<(usize, usize)>> {
            Ok(vec![(view.offset, view.x.dims()[0])])
        };
        let merge = |mut a: Vec<(usize, usize)>, b: Vec<(usize, usize)>| {
            a.extend(b);
            a
        };
        let Rows::Streamed(streamed) = &mut rows else {
            unreachable!()
        };
        let calls = streamed.pass(&kernel, &merge).unwrap().unwrap();
        assert_eq!(calls, [(0, 512), (512, 512), (1024, 512), (1536, n - 1536)]);
    }
}
