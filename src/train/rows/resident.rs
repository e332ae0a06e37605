//! Rows resident on devices: shards of chunks, and a pass over them (one thread per shard,
//! results merged in row order; a panic on a shard is an error naming its worker).

use std::sync::mpsc::channel;
use std::time::Duration;

use burn::tensor::{Device, Int, Tensor};

use super::watchdog::watch;
use super::{BatchView, Merge, fold_into};
use crate::error::{NgmnnError, Result};

/// A chunk of resident rows: the unit a kernel sees.
#[derive(Debug)]
pub(super) struct Chunk {
    pub(super) offset: usize,
    pub(super) x: Tensor<2>,
    pub(super) y: Tensor<2>,
    pub(super) labels: Tensor<1, Int>,
    /// The decision layer's input from the last forward pass.
    pub(super) top: Option<Tensor<2>>,
    /// The lowest learned layer's input projected onto the class directions,
    /// `H_base P + 1 a^T` ([`Shortcut`]): fixed for a fit, computed at its first use.
    pub(super) projected: Option<Tensor<2>>,
}

impl Chunk {
    pub(super) fn view(&self) -> BatchView<'_> {
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
    pub(super) chunks: Vec<Chunk>,
    /// The worker whose device holds the rows, if it is one that can be lost (a remote
    /// device): a failure there is [`NgmnnError::Worker`], which the fit can survive.
    pub(super) worker: Option<String>,
    /// How long the worker may take for its part of a pass before it is cut off.
    pub(super) timeout: Duration,
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

/// Run `f` on every chunk, the shards on one thread each when there are several, merging the
/// results in row order; `None` without rows.
pub(super) fn per_chunk<R: Send>(
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
            Some(_) => crate::train::workers::on_worker(pass),
            None => pass(),
        }));
        outcome.unwrap_or_else(|payload| {
            let reason = panic_message(payload.as_ref());
            Err(match worker {
                Some(worker) => NgmnnError::Worker {
                    reason: crate::train::workers::lost_reason(&worker, &reason, timeout),
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
