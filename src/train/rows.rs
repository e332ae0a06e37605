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

use std::sync::mpsc::{RecvTimeoutError, channel, sync_channel};
use std::time::{Duration, Instant};

use burn::tensor::{DType, Device, Int, Tensor, TensorData};

use super::rechunk::Rechunker;
use crate::data::{Batch, BatchSource};
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

/// A chunk of resident rows: the unit a kernel sees.
#[derive(Debug)]
struct Chunk {
    offset: usize,
    x: Tensor<2>,
    y: Tensor<2>,
    labels: Tensor<1, Int>,
    /// The decision layer's input from the last forward pass.
    top: Option<Tensor<2>>,
    /// The lowest learned layer's input projected onto the class directions,
    /// `H_base P + 1 a^T` ([`Shortcut`]): fixed for a fit, computed at its first use.
    projected: Option<Tensor<2>>,
}

impl Chunk {
    fn view(&self) -> BatchView<'_> {
        BatchView {
            offset: self.offset,
            x: &self.x,
            y: &self.y,
            labels: &self.labels,
        }
    }
}

/// Rows resident on one device, cut into chunks of at most `chunk_rows` rows.
#[derive(Debug)]
pub(crate) struct Shard {
    chunks: Vec<Chunk>,
    /// The worker whose device holds the rows, if it is one that can be lost (a remote
    /// device): a failure there is [`NgmnnError::Worker`], which the fit can survive.
    worker: Option<String>,
    /// How long the worker may take for its part of a pass before it is cut off.
    timeout: Duration,
}

/// Row ranges of at most `chunk` rows covering `0..n`.
fn chunk_ranges(n: usize, chunk: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let chunk = chunk.max(1);
    (0..n.div_ceil(chunk)).map(move |i| i * chunk..((i + 1) * chunk).min(n))
}

impl Shard {
    /// Rows `offset..offset + n` given as `x` `[n, d]`, one-hot `y` `[n, c]` and `labels`.
    pub fn new(
        offset: usize,
        x: Tensor<2>,
        y: Tensor<2>,
        labels: Tensor<1, Int>,
        chunk_rows: usize,
    ) -> Self {
        let [n, d] = x.dims();
        let c = y.dims()[1];
        let chunks = if n <= chunk_rows {
            vec![Chunk {
                offset,
                x,
                y,
                labels,
                top: None,
                projected: None,
            }]
        } else {
            chunk_ranges(n, chunk_rows)
                .map(|r| Chunk {
                    offset: offset + r.start,
                    x: x.clone().slice([r.clone(), 0..d]),
                    y: y.clone().slice([r.clone(), 0..c]),
                    labels: labels.clone().slice(r),
                    top: None,
                    projected: None,
                })
                .collect()
        };
        Self {
            chunks,
            worker: None,
            timeout: Duration::MAX,
        }
    }

    /// The shard held by the worker `name` (a remote one: `None` for a local device), which
    /// may take `timeout` for its part of a pass.
    pub fn on_worker(mut self, name: Option<String>, timeout: Duration) -> Self {
        self.worker = name;
        self.timeout = timeout;
        self
    }

    /// The worker holding the shard, if it can be lost.
    pub fn worker(&self) -> Option<&str> {
        self.worker.as_deref()
    }

    /// The device holding the shard.
    pub fn device(&self) -> Device {
        self.chunks[0].x.device()
    }

    /// The global rows of the shard.
    pub fn rows(&self) -> std::ops::Range<usize> {
        let start = self.chunks.first().map_or(0, |c| c.offset);
        let n: usize = self.chunks.iter().map(|c| c.labels.dims()[0]).sum();
        start..start + n
    }
}

/// The text of a panic's payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// FNV-1a (64 bit) of the label sequence: cheap, order-sensitive.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// A source re-read in every pass.
pub(crate) struct Streamed {
    source: Box<dyn BatchSource>,
    device: Device,
    dtype: DType,
    chunk_rows: usize,
    /// The model's classes: the width of the one-hot labels (a source may hold fewer).
    classes: usize,
    /// Per-class counts of the last complete pass.
    counts: Option<Vec<usize>>,
    /// A checksum of the labels in row order of the last complete pass: a source must yield
    /// the same rows in the same order every pass.
    checksum: Option<u64>,
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

/// The lowest learned layer `base` through its fixed projection
/// ([`crate::solve::ClassRidge::projection`]): its pre-activation is `(H_base P + 1 a^T) G` for
/// the epoch's class targets `G`, so a forward pass computes `A = H_base P + 1 a^T` (`n x c`)
/// once per fit and then only `A G`; the layers below `base` (the data, a frozen random layer)
/// are not run again.
#[derive(Debug, Clone)]
pub(crate) struct Shortcut {
    pub base: usize,
    /// `P`, `[d_base, c]`.
    pub p: Tensor<2>,
    /// `a`, `[c]`.
    pub a: Tensor<1>,
    /// `G`, `[c, d_{base+1}]`.
    pub g: Tensor<2>,
}

impl Shortcut {
    /// On `device`; `P` and `a` only if a chunk there still needs its projection (on a
    /// remote worker every copy is traffic).
    fn on_device(&self, device: &Device, project: bool) -> Self {
        let (p, a) = match project {
            true => (
                self.p.clone().to_device(device),
                self.a.clone().to_device(device),
            ),
            false => (self.p.clone(), self.a.clone()),
        };
        Self {
            base: self.base,
            p,
            a,
            g: self.g.clone().to_device(device),
        }
    }
}

/// How a pass combines the kernels' results: an order-preserving, associative merge
/// (partial results are merged as they arrive, so a pass holds one accumulator per shard, not
/// one result per chunk).
pub(crate) type Merge<'a, R> = &'a (dyn Fn(R, R) -> R + Sync);

/// Fold `next` into `acc` with `merge`.
fn fold_into<R>(acc: &mut Option<R>, next: R, merge: Merge<'_, R>) {
    *acc = Some(match acc.take() {
        Some(a) => merge(a, next),
        None => next,
    });
}

/// Run `f` on every chunk, the shards on one thread each when there are several, merging the
/// results in row order; `None` without rows.
fn per_chunk<R: Send>(
    shards: &mut [Shard],
    f: &(dyn Fn(usize, &mut Chunk) -> Result<R> + Sync),
    merge: Merge<'_, R>,
) -> Result<Option<R>> {
    // A shard's computation is isolated: a panic there (a remote device whose worker died, a
    // backend bug) is an error naming the shard's worker, not a crash of the fit.
    let run = |index: usize, shard: &mut Shard| -> Result<Option<R>> {
        let (worker, timeout) = (shard.worker.clone(), shard.timeout);
        let chunks = &mut shard.chunks;
        let mut pass = move || {
            let mut acc = None;
            for chunk in chunks.iter_mut() {
                fold_into(&mut acc, f(index, chunk)?, merge);
            }
            Ok(acc)
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match worker {
            Some(_) => super::workers::on_worker(pass),
            None => pass(),
        }));
        outcome.unwrap_or_else(|payload| {
            let reason = panic_message(payload.as_ref());
            Err(match worker {
                Some(worker) => NgmnnError::Worker {
                    reason: super::workers::lost_reason(&worker, &reason, timeout),
                    worker,
                },
                None => NgmnnError::Numerical {
                    context: "a pass over the training rows",
                    reason: format!("the computation panicked: {reason}"),
                },
            })
        })
    };
    let watched = shards.iter().any(|s| s.worker.is_some());
    if let [one] = shards
        && !watched
    {
        return run(0, one);
    }
    // Each shard on its own thread; with remote workers this thread watches the deadlines.
    let deadlines: Vec<(Option<String>, Duration)> = shards
        .iter()
        .map(|s| (s.worker.clone(), s.timeout))
        .collect();
    let parts: Vec<Result<Option<R>>> = std::thread::scope(|scope| {
        let (done, finished) = channel::<usize>();
        let handles: Vec<_> = shards
            .iter_mut()
            .enumerate()
            .map(|(i, s)| {
                let done = done.clone();
                scope.spawn(move || {
                    let out = run(i, s);
                    let _ = done.send(i);
                    out
                })
            })
            .collect();
        drop(done);
        if watched {
            watch(&deadlines, &finished);
        }
        handles
            .into_iter()
            .map(|h| h.join().expect("a shard's panics are caught in `run`"))
            .collect()
    });
    let mut acc = None;
    for part in parts {
        if let Some(r) = part? {
            fold_into(&mut acc, r, merge);
        }
    }
    Ok(acc)
}

/// Wait for the shards' threads to report (`finished` gets each one's index); a remote
/// worker still busy past its deadline is cut off ([`crate::train::Workers::with_timeout`]),
/// which makes its thread fail with [`NgmnnError::Worker`].
fn watch(deadlines: &[(Option<String>, Duration)], finished: &std::sync::mpsc::Receiver<usize>) {
    let start = Instant::now();
    let mut busy: Vec<bool> = vec![true; deadlines.len()];
    let mut cut: Vec<&str> = Vec::new();
    while busy.iter().any(|&b| b) {
        // The next deadline among the busy remote workers not cut off yet.
        let next = deadlines
            .iter()
            .zip(&busy)
            .filter_map(|((worker, t), &b)| match worker {
                Some(w) if b && !cut.contains(&w.as_str()) => Some(*t),
                _ => None,
            })
            .min();
        let wait = next.map(|t| t.saturating_sub(start.elapsed()));
        let received = match wait {
            Some(wait) => finished.recv_timeout(wait),
            None => finished.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(i) => busy[i] = false,
            Err(RecvTimeoutError::Timeout) => {
                for ((worker, t), &b) in deadlines.iter().zip(&busy) {
                    if let Some(w) = worker
                        && b
                        && start.elapsed() >= *t
                        && !cut.contains(&w.as_str())
                    {
                        cut.push(w);
                        super::workers::disconnect(w);
                    }
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
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
                        crate::solve::profile::record_forward(start, flops);
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

impl Streamed {
    /// One pass: batches are read (and checked) on a second thread, one batch ahead.
    fn pass<R: Send>(
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
