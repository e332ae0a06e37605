//! The watchdog of a pass over shards on remote workers: a worker busy past its deadline is
//! cut off.

use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

/// Wait for the shards' threads to report (`finished` gets each one's index); a remote
/// worker still busy past its deadline is cut off ([`crate::train::Workers::with_timeout`]),
/// which makes its thread fail with [`NgmnnError::Worker`].
pub(super) fn watch(
    deadlines: &[(Option<String>, Duration)],
    finished: &std::sync::mpsc::Receiver<usize>,
) {
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
                        crate::train::workers::disconnect(w);
                    }
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
