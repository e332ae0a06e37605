//! Surviving a lost worker (spec §4's loop, made restartable).
//!
//! A closed-form epoch is a function of the parameters at its start and the rows: the
//! decision layer's first losses, the hidden layers' moments and the kept `H_{L-1}` all come
//! from the forward pass at those parameters. So when a pass fails because a remote worker is
//! gone ([`NgmnnError::Worker`] from a shard's computation), the fit
//! 1. restores the parameters of the last completed epoch (kept at the epoch's start),
//! 2. uploads the lost worker's rows from its host copy of the training set to the first spare,
//!    or splits them over the remaining workers (same row order, so the merges keep their
//!    order),
//! 3. runs the forward pass at the restored parameters on the new shards (the statistics the
//!    epoch starts from), and
//! 4. runs the epoch again,
//!
//! and records what it did in the epoch's [`EpochRecord::recoveries`]. The result is the
//! uninterrupted fit's up to the rounding of merging moments over other row splits.

use std::ops::Range;

use super::ClosedFormFit;
use super::setup::upload_shard;
use crate::data::LabeledData;
use crate::error::{NgmnnError, Result};
use crate::train::{EpochRecord, Worker, Workers};

/// What a fit on workers that can be lost keeps to move a lost worker's rows.
#[derive(Debug)]
pub(super) struct Recovery {
    /// The training rows, on the host.
    train: LabeledData,
    workers: Workers,
    /// Rows per chunk, local and remote ([`super::setup::chunking`]).
    chunks: (usize, usize),
    /// Events not yet reported in an epoch's record (a worker lost during the setup).
    pending: Vec<String>,
}

impl Recovery {
    pub(super) fn new(
        train: LabeledData,
        workers: Workers,
        chunks: (usize, usize),
        pending: Vec<String>,
    ) -> Self {
        Self {
            train,
            workers,
            chunks,
            pending,
        }
    }
}

/// The first line of `text`, at most 200 characters (a panic message can be long).
pub(super) fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_owned(),
    }
}

/// The workers' names, comma-separated.
pub(super) fn names(workers: &[Worker]) -> String {
    workers
        .iter()
        .map(|w| w.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `rows` cut into `parts` contiguous ranges (none empty).
fn split(rows: &Range<usize>, parts: usize) -> Vec<Range<usize>> {
    let (n, parts) = (rows.len(), parts.max(1));
    (0..parts)
        .map(|i| rows.start + i * n / parts..rows.start + (i + 1) * n / parts)
        .filter(|r| !r.is_empty())
        .collect()
}

impl ClosedFormFit {
    /// Run one epoch and return its record. On workers that can be lost
    /// ([`Training::on_workers`](crate::train::Training::on_workers)), a worker lost during the epoch is survived as the
    /// module docs say.
    ///
    /// # Errors
    /// The solvers' errors (numerical failure, non-finite values); a streamed source's errors;
    /// [`NgmnnError::Worker`] when a worker is lost and none is left to take over its rows.
    pub fn epoch(&mut self) -> Result<EpochRecord> {
        let (params, host) = (self.params.clone(), self.host.clone());
        let base_targets = self.base_targets.clone();
        let mut notes = self
            .recovery
            .as_mut()
            .map(|r| std::mem::take(&mut r.pending))
            .unwrap_or_default();
        let before = self.traffic();
        let mut moved = false;
        loop {
            let attempt = if moved {
                self.refresh().and_then(|()| self.run_epoch())
            } else {
                self.run_epoch()
            };
            match attempt {
                Ok(mut record) => {
                    record.recoveries = notes;
                    let after = self.traffic();
                    record.traffic = (!after.is_empty())
                        .then(|| crate::train::workers::traffic_since(&after, &before));
                    return Ok(record);
                }
                Err(NgmnnError::Worker { worker, reason }) if self.recovery.is_some() => {
                    self.params.clone_from(&params);
                    self.host.clone_from(&host);
                    self.base_targets.clone_from(&base_targets);
                    notes.push(self.move_rows(&worker, &reason)?);
                    moved = true;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Bytes exchanged so far with each remote worker of the fit (see
    /// [`Workers::traffic`]; empty without remote workers).
    pub fn traffic(&self) -> Vec<(String, crate::train::Traffic)> {
        self.recovery
            .as_ref()
            .map(|r| r.workers.traffic())
            .unwrap_or_default()
    }

    /// [`ClosedFormFit::traffic`] summed over the workers (`None` without remote workers):
    /// right after the setup, what the setup exchanged.
    pub fn setup_traffic(&self) -> Option<crate::train::Traffic> {
        let traffic = self.traffic();
        (!traffic.is_empty()).then(|| crate::train::workers::traffic_since(&traffic, &[]))
    }

    /// The forward pass at the current parameters: what an epoch starts from.
    pub(super) fn refresh(&mut self) -> Result<()> {
        let forwarded = self.forward_pass(false)?;
        self.hidden_moments = forwarded.moments;
        self.next_losses = Some(forwarded.losses);
        Ok(())
    }

    /// Move the rows of the lost worker `lost` to the workers that take over; a line saying
    /// what was done.
    fn move_rows(&mut self, lost: &str, reason: &str) -> Result<String> {
        let Self {
            recovery,
            rows,
            dtype,
            epoch,
            ..
        } = self;
        let recovery = recovery.as_mut().expect("checked by the caller");
        let takers = recovery.workers.lose(lost);
        let reason = first_line(reason);
        if takers.is_empty() {
            return Err(NgmnnError::Worker {
                worker: lost.to_owned(),
                reason: format!("{reason}; no worker is left to take over its rows"),
            });
        }
        let (train, chunks, dtype) = (&recovery.train, recovery.chunks, *dtype);
        let timeout = recovery.workers.timeout();
        let moved = rows.replace_worker(lost, &|range| {
            split(&range, takers.len())
                .into_iter()
                .zip(&takers)
                .map(|(part, taker)| upload_shard(train, part, taker, timeout, dtype, chunks))
                .collect()
        });
        let count: usize = moved.iter().map(Range::len).sum();
        let from = match *epoch {
            0 => "the initial weights".to_owned(),
            e => format!("epoch {e}'s weights"),
        };
        Ok(format!(
            "worker {lost} lost in epoch {} ({reason}): its {count} rows moved to {}; the epoch \
             is redone from {from}",
            *epoch + 1,
            names(&takers)
        ))
    }
}
