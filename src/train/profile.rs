//! A fit's account of its epochs' steps besides the moments (whose cost the
//! [`crate::solve::moments::Moments`] carry, [`crate::solve::moments::MomentsProfile`]): the forward passes' layer
//! products and activations, and the host solves (decision layer step C, backward targets, the
//! hidden layers' ridge). Owned by the fit and reported in each [`super::EpochRecord`] (no
//! process-wide counters: concurrent fits keep their own). Times are summed over threads
//! (shards run concurrently); on an asynchronous backend (a GPU) they measure the dispatch, not
//! the computation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// Seconds and flops of an epoch's forward passes and host solves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StepProfile {
    /// Seconds in forward passes (layer products, activations, row normalisation).
    pub forward_seconds: f64,
    /// Flops of the forward passes' layer products.
    pub forward_flops: f64,
    /// Seconds in host solves.
    pub host_seconds: f64,
}

/// The counters behind a [`StepProfile`], shared by a pass's shard threads.
#[derive(Debug, Default)]
pub(crate) struct StepCounters {
    forward_nanos: AtomicU64,
    forward_flops: AtomicU64,
    host_nanos: AtomicU64,
}

impl StepCounters {
    /// Count a forward computation that started at `start` and did `flops` of layer products.
    pub fn record_forward(&self, start: Instant, flops: f64) {
        self.forward_nanos
            .fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.forward_flops
            .fetch_add(flops as u64, Ordering::Relaxed);
    }

    /// Count a host solve that started at `start`.
    pub fn record_host(&self, start: Instant) {
        self.host_nanos
            .fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }

    /// Count `seconds` of host solves timed elsewhere (the decision layer's, which reports
    /// them in its outcome).
    pub fn add_host_seconds(&self, seconds: f64) {
        self.host_nanos
            .fetch_add((seconds * 1e9) as u64, Ordering::Relaxed);
    }

    /// What was counted since the last call (the counters start again from zero).
    pub fn take(&self) -> StepProfile {
        StepProfile {
            forward_seconds: self.forward_nanos.swap(0, Ordering::Relaxed) as f64 * 1e-9,
            forward_flops: self.forward_flops.swap(0, Ordering::Relaxed) as f64,
            host_seconds: self.host_nanos.swap(0, Ordering::Relaxed) as f64 * 1e-9,
        }
    }
}
