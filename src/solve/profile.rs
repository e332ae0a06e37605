//! Process-wide time (and flops) of an epoch's steps besides the moments
//! ([`super::MomentsProfile`]): the forward passes' layer products and activations, and the
//! host solves (decision layer step C, backward targets, the hidden layers' ridge). With the
//! moments they make the per-step account of `cargo bench --bench closed_form`. Times are
//! summed over threads (shards run concurrently); on an asynchronous backend (a GPU) they
//! measure the dispatch, not the computation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

static FORWARD_NANOS: AtomicU64 = AtomicU64::new(0);
static FORWARD_FLOPS: AtomicU64 = AtomicU64::new(0);
static HOST_NANOS: AtomicU64 = AtomicU64::new(0);

/// Totals of the forward passes and host solves so far (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepProfile {
    /// Seconds in forward passes (layer products, activations, row normalisation).
    pub forward_seconds: f64,
    /// Flops of the forward passes' layer products.
    pub forward_flops: f64,
    /// Seconds in host solves.
    pub host_seconds: f64,
}

impl StepProfile {
    /// The totals so far.
    pub fn now() -> Self {
        Self {
            forward_seconds: FORWARD_NANOS.load(Ordering::Relaxed) as f64 * 1e-9,
            forward_flops: FORWARD_FLOPS.load(Ordering::Relaxed) as f64,
            host_seconds: HOST_NANOS.load(Ordering::Relaxed) as f64 * 1e-9,
        }
    }

    /// What happened between `earlier` and `self`.
    pub fn since(self, earlier: Self) -> Self {
        Self {
            forward_seconds: self.forward_seconds - earlier.forward_seconds,
            forward_flops: self.forward_flops - earlier.forward_flops,
            host_seconds: self.host_seconds - earlier.host_seconds,
        }
    }
}

/// Count a forward computation that started at `start` and did `flops` of layer products.
pub(crate) fn record_forward(start: Instant, flops: f64) {
    FORWARD_NANOS.fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
    FORWARD_FLOPS.fetch_add(flops as u64, Ordering::Relaxed);
}

/// Count a host solve that started at `start`.
pub(crate) fn record_host(start: Instant) {
    HOST_NANOS.fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
}
