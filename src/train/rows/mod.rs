//! Where the training rows live during a fit, and the passes over them.
//!
//! * [`Rows::Resident`]: the rows on one or more devices, one contiguous shard per device. The
//!   shards of a pass run on their own threads (one per shard) and their partial results are
//!   merged in row order, so several devices, or several shards on one CPU device, work at
//!   once. The decision layer's input `H_{L-1}` is kept from the last forward pass, so its
//!   rounds cost no forward pass.
//! * [`Rows::Streamed`]: the rows are re-read from a [`BatchSource`] in every pass, one batch
//!   at a time (the next batch is read on a second thread while the current one is computed),
//!   regrouped into the resident fit's chunks ([`super::rechunk`]); nothing `n x d`-sized is
//!   kept.
//!
//! Kernels see a [`BatchView`] (the batch's global row offset, features, one-hot labels, class
//! indices) and return a partial result; the trainer merges them (sums of moments, counts,
//! concatenated per-sample vectors).

mod projection;
mod resident;
mod streamed;
mod watchdog;

pub(crate) use projection::Shortcut;
pub(crate) use resident::Shard;
use resident::{Chunk, per_chunk};
use streamed::Streamed;

use burn::tensor::{DType, Device, Int, Tensor};

use super::profile::StepCounters;
use crate::data::BatchSource;
use crate::error::{NgmnnError, Result};
use crate::model::{
    Activation, Activations, LayerParams, forward_from, forward_layers, row_normalize,
};

/// A batch as the kernels see it.
pub(crate) struct BatchView<'a> {
    /// Global index of the batch's first row.
    pub offset: usize,
    /// Features `[b, d]` in the fit's dtype.
    pub x: &'a Tensor<2>,
    /// One-hot labels `[b, c]` in the fit's dtype.
    pub y: &'a Tensor<2>,
    /// Class indices `[b]`.
    pub labels: &'a Tensor<1, Int>,
}

/// The rows of a fit (see the module docs).
#[derive(Debug)]
pub(crate) enum Rows {
    Resident { shards: Vec<Shard>, cache_top: bool },
    Streamed(Box<Streamed>),
}

/// `params` on `device` (a no-op when they are there already).
fn on_device(params: &[LayerParams], device: &Device) -> Vec<LayerParams> {
    params.iter().map(|p| p.on_device(device)).collect()
}

/// The decision layer's input: `x` through the hidden layers.
fn forward_hidden(x: Tensor<2>, hidden: &[LayerParams], activation: Activation) -> Tensor<2> {
    hidden.iter().fold(x, |h, layer| {
        row_normalize(activation.forward(layer.affine(h)))
    })
}

/// How a pass combines the kernels' results: an order-preserving, associative merge
/// (partial results are merged as they arrive, so a pass holds one accumulator per shard, not
/// one result per chunk).
pub(crate) type Merge<'a, R> = &'a (dyn Fn(R, R) -> R + Sync);

/// Fold `next` into `acc` with `merge`.
pub(super) fn fold_into<R>(acc: &mut Option<R>, next: R, merge: Merge<'_, R>) {
    *acc = Some(match acc.take() {
        Some(a) => merge(a, next),
        None => next,
    });
}

impl Rows {
    /// A source read in passes on `device`, computing in `dtype`, its batches cut into chunks
    /// of at most `chunk_rows` rows.
    /// `classes` is the model's number of classes (the source may hold fewer).
    pub fn streamed(
        source: Box<dyn BatchSource>,
        classes: usize,
        device: Device,
        dtype: DType,
        chunk_rows: usize,
    ) -> Self {
        Rows::Streamed(Box::new(Streamed {
            source,
            device,
            dtype,
            chunk_rows,
            classes,
            counts: None,
            checksum: None,
        }))
    }

    /// The rows of a stream as its source announces them (see [`BatchSource::rows_hint`]);
    /// resident rows: their count.
    pub fn rows_hint(&self) -> Option<usize> {
        match self {
            Rows::Streamed(s) => s.source.rows_hint(),
            Rows::Resident { shards, .. } => Some(
                shards
                    .iter()
                    .flat_map(|s| &s.chunks)
                    .map(|c| c.labels.dims()[0])
                    .sum(),
            ),
        }
    }

    /// Replace every resident shard held by the worker `lost` with the shards `replace`
    /// makes of its rows, in place (row order is kept); returns the rows moved.
    pub fn replace_worker(
        &mut self,
        lost: &str,
        replace: &dyn Fn(std::ops::Range<usize>) -> Vec<Shard>,
    ) -> Vec<std::ops::Range<usize>> {
        let Rows::Resident { shards, .. } = self else {
            return Vec::new();
        };
        let mut moved = Vec::new();
        for shard in std::mem::take(shards) {
            if shard.worker() == Some(lost) {
                moved.push(shard.rows());
                shards.extend(replace(shard.rows()));
            } else {
                shards.push(shard);
            }
        }
        moved
    }

    /// Per-class counts (streamed: of the last complete pass).
    pub fn counts(&self, classes: usize) -> Result<Vec<usize>> {
        match self {
            Rows::Streamed(s) => Ok(s.counts.clone().unwrap_or_else(|| vec![0; classes])),
            Rows::Resident { shards, .. } => {
                let mut counts = vec![0usize; classes];
                for chunk in shards.iter().flat_map(|s| &s.chunks) {
                    let labels = chunk
                        .labels
                        .clone()
                        .into_data()
                        .convert::<i64>()
                        .try_into_vec::<i64>()
                        .map_err(|e| NgmnnError::data(None, format!("labels: {e:?}")))?;
                    for l in labels {
                        counts[l as usize] += 1;
                    }
                }
                Ok(counts)
            }
        }
    }

    /// A forward pass with `params`: `kernel(batch, activations)` per batch, in row order.
    /// Resident rows with `cache_top` keep the decision layer's input for [`Rows::top_pass`];
    /// with a `shortcut`, resident rows go through the lowest learned layer by its projection
    /// (the activations below it are then not computed: empty tensors).
    pub fn forward_pass<R: Send>(
        &mut self,
        params: &[LayerParams],
        activation: Activation,
        shortcut: Option<&Shortcut>,
        steps: &StepCounters,
        kernel: &(dyn Fn(&BatchView<'_>, &Activations) -> Result<R> + Sync),
        merge: Merge<'_, R>,
    ) -> Result<Option<R>> {
        match self {
            Rows::Resident { shards, cache_top } => {
                let cache = *cache_top;
                // The parameters go to each shard's device once per pass (not once per chunk:
                // on a remote worker every copy is network traffic); through a shortcut, only
                // the layers above its base, and those below while a chunk has no projection.
                let locals: Vec<(Vec<LayerParams>, Option<Shortcut>)> = shards
                    .iter()
                    .map(|s| {
                        let device = s.device();
                        match shortcut {
                            None => (on_device(params, &device), None),
                            Some(cut) => {
                                let below = s.chunks.iter().any(|c| c.projected.is_none());
                                // The base layer itself is not used; the layers
                                // below only while a chunk has no projection.
                                let local = params
                                    .iter()
                                    .enumerate()
                                    .map(|(l, p)| {
                                        let used = l > cut.base || (l < cut.base && below);
                                        if used {
                                            p.on_device(&device)
                                        } else {
                                            p.clone()
                                        }
                                    })
                                    .collect();
                                (local, Some(cut.on_device(&device, below)))
                            }
                        }
                    })
                    .collect();
                per_chunk(
                    shards,
                    &|shard: usize, chunk: &mut Chunk| {
                        let (local, cut) = &locals[shard];
                        let start = std::time::Instant::now();
                        let rows = chunk.x.dims()[0] as f64;
                        let acts = match cut {
                            None => forward_layers(chunk.x.clone(), local, activation),
                            Some(cut) => {
                                let projected = match &chunk.projected {
                                    Some(a) => a.clone(),
                                    None => {
                                        let h = forward_hidden(
                                            chunk.x.clone(),
                                            &local[..cut.base],
                                            activation,
                                        );
                                        let a = h.matmul(cut.p.clone())
                                            + cut.a.clone().unsqueeze::<2>();
                                        chunk.projected = Some(a.clone());
                                        a
                                    }
                                };
                                let z = projected.matmul(cut.g.clone());
                                forward_from(z, cut.base, local, activation)
                            }
                        };
                        // Layer products: those from the projection (or the data) up.
                        let flops: f64 = local
                            .iter()
                            .enumerate()
                            .map(|(l, p)| {
                                let [d_in, d_out] = p.w.dims();
                                match cut {
                                    Some(c) if l < c.base => 0.0,
                                    Some(c) if l == c.base => (c.g.dims()[0] * d_out) as f64,
                                    _ => (d_in * d_out) as f64,
                                }
                            })
                            .sum::<f64>()
                            * 2.0
                            * rows;
                        steps.record_forward(start, flops);
                        let out = kernel(&chunk.view(), &acts)?;
                        chunk.top = cache.then(|| acts.inputs[local.len() - 1].clone());
                        Ok(out)
                    },
                    merge,
                )
            }
            Rows::Streamed(s) => {
                let local = on_device(params, &s.device);
                s.pass(
                    &|view| kernel(view, &forward_layers(view.x.clone(), &local, activation)),
                    merge,
                )
            }
        }
    }

    /// A pass over the decision layer's input `H_{L-1}` for the hidden layers `hidden` (those
    /// of the last forward pass): `kernel(batch, h)` per batch, in row order.
    pub fn top_pass<R: Send>(
        &mut self,
        hidden: &[LayerParams],
        activation: Activation,
        kernel: &(dyn Fn(&BatchView<'_>, &Tensor<2>) -> Result<R> + Sync),
        merge: Merge<'_, R>,
    ) -> Result<Option<R>> {
        match self {
            Rows::Resident { shards, .. } => {
                // Kept inputs need no hidden layers: copy them only where a chunk needs them.
                let locals: Vec<Vec<LayerParams>> = shards
                    .iter()
                    .map(|s| match s.chunks.iter().all(|c| c.top.is_some()) {
                        true => Vec::new(),
                        false => on_device(hidden, &s.device()),
                    })
                    .collect();
                per_chunk(
                    shards,
                    &|shard: usize, chunk: &mut Chunk| {
                        let top = match &chunk.top {
                            Some(top) => top.clone(),
                            None => forward_hidden(chunk.x.clone(), &locals[shard], activation),
                        };
                        kernel(&chunk.view(), &top)
                    },
                    merge,
                )
            }
            Rows::Streamed(s) => {
                let local = on_device(hidden, &s.device);
                s.pass(
                    &|view| kernel(view, &forward_hidden(view.x.clone(), &local, activation)),
                    merge,
                )
            }
        }
    }
}
