//! The devices of a sharded fit: named workers, spares, and which of them can be lost.
//!
//! A sharded fit keeps one contiguous shard of the training rows resident on each active
//! worker. A worker on a remote device (module `remote`, feature `remote`) can be lost mid-fit (its process
//! dies, its machine or the network goes away): the fit then moves that worker's rows to the
//! first spare, or splits them over the remaining workers, and redoes the interrupted epoch
//! from the last completed epoch's weights (a closed-form epoch depends only on them and the
//! rows), so the result is the uninterrupted fit's up to rounding. A worker is lost when its
//! connection ends (its process died: noticed at once; its machine or network went away:
//! Burn's keep-alive notices within about 30 s) or when its part of a pass takes longer than
//! the workers' timeout (a frozen process: the fit then cuts the connection itself, see
//! `remote/sockets.rs`). Local devices are not expected to vanish: a failure there ends the
//! fit with an error.

use std::cell::Cell;
use std::sync::Mutex;
use std::time::Duration;

use burn::tensor::Device;

/// A device that holds a shard of the training rows, with the name used in logs, reports and
/// errors (a remote worker's URL).
#[derive(Debug, Clone)]
pub struct Worker {
    /// The worker's name.
    pub name: String,
    /// Its device.
    pub device: Device,
}

impl Worker {
    /// The worker `name` computing on `device`.
    pub fn new(name: impl Into<String>, device: Device) -> Self {
        Self {
            name: name.into(),
            device,
        }
    }

    /// Whether the device is remote (Burn's remote backend): one that can be lost mid-fit.
    pub fn is_remote(&self) -> bool {
        // Burn 0.22.1 exposes a device's backend only through its dispatch type, which is not
        // re-exported; its `Debug` form names the variant: `Device<Remote(RemoteDevice {..})>`.
        format!("{:?}", self.device).starts_with("Device<Remote(")
    }
}

/// Bytes this process exchanged with workers over TCP (payload, as the kernel counts it:
/// WebSocket framing included, TCP/IP headers not).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Traffic {
    /// Bytes sent to the workers (acknowledged by them).
    pub sent: u64,
    /// Bytes received from the workers.
    pub received: u64,
}

impl Traffic {
    /// What was exchanged between `earlier` and `self` (0 where a connection closed since).
    pub fn since(self, earlier: Self) -> Self {
        Self {
            sent: self.sent.saturating_sub(earlier.sent),
            received: self.received.saturating_sub(earlier.received),
        }
    }
}

impl std::ops::Add for Traffic {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        Self {
            sent: self.sent + other.sent,
            received: self.received + other.received,
        }
    }
}

/// How long a pass may wait for a remote worker by default before the worker is taken for
/// lost ([`Workers::with_timeout`]).
pub const DEFAULT_WORKER_TIMEOUT: Duration = Duration::from_secs(120);

/// The workers of a sharded fit, in row order, and the spares that take over a lost one.
#[derive(Debug, Clone)]
pub struct Workers {
    pub(crate) active: Vec<Worker>,
    pub(crate) spares: Vec<Worker>,
    pub(crate) timeout: Duration,
}

impl Workers {
    /// The workers `active`, one shard each, in row order.
    pub fn new(active: impl IntoIterator<Item = Worker>) -> Self {
        Self {
            active: active.into_iter().collect(),
            spares: Vec::new(),
            timeout: DEFAULT_WORKER_TIMEOUT,
        }
    }

    /// Local devices, one shard each (a device may repeat: several threads on it), named by
    /// their position.
    pub fn local(devices: &[Device]) -> Self {
        Self::new(
            devices
                .iter()
                .enumerate()
                .map(|(i, d)| Worker::new(format!("device {i} ({d:?})"), d.clone())),
        )
    }

    /// Spares: devices that hold nothing until a worker is lost, then take over its rows, in
    /// this order.
    pub fn with_spares(mut self, spares: impl IntoIterator<Item = Worker>) -> Self {
        self.spares = spares.into_iter().collect();
        self
    }

    /// A remote worker that has not finished its part of a pass after `timeout` is taken for
    /// lost (a frozen process keeps its connection open, so only a deadline notices it): the
    /// fit cuts its connection and moves its rows (default [`DEFAULT_WORKER_TIMEOUT`]). Set it
    /// well above the longest pass a worker needs.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The deadline of a worker's part of a pass.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The active workers, in row order.
    pub fn active(&self) -> &[Worker] {
        &self.active
    }

    /// The spares not used yet.
    pub fn spares(&self) -> &[Worker] {
        &self.spares
    }

    /// Bytes exchanged so far with each remote worker, on its open connections (feature
    /// `remote`, Linux; empty otherwise). A lost worker's connection is gone, and with it its
    /// count.
    pub fn traffic(&self) -> Vec<(String, Traffic)> {
        self.active
            .iter()
            .chain(&self.spares)
            .filter(|w| w.is_remote())
            .filter_map(|w| Some((w.name.clone(), worker_traffic(&w.name)?)))
            .collect()
    }

    /// Whether a worker can be lost (some active worker or spare is remote).
    pub(crate) fn any_remote(&self) -> bool {
        self.active
            .iter()
            .chain(&self.spares)
            .any(Worker::is_remote)
    }

    /// Remove the lost worker `name` and return the workers that take over its rows: the
    /// first spare (now active), else every remaining active worker; empty when none is left.
    pub(crate) fn lose(&mut self, name: &str) -> Vec<Worker> {
        self.active.retain(|w| w.name != name);
        self.spares.retain(|w| w.name != name);
        if self.spares.is_empty() {
            return self.active.clone();
        }
        let spare = self.spares.remove(0);
        self.active.push(spare.clone());
        vec![spare]
    }
}

/// The bytes exchanged so far with the remote worker `name` (see [`Workers::traffic`]).
fn worker_traffic(name: &str) -> Option<Traffic> {
    #[cfg(all(feature = "remote", target_os = "linux"))]
    {
        Some(crate::remote::traffic(name))
    }
    #[cfg(not(all(feature = "remote", target_os = "linux")))]
    {
        let _ = name;
        None
    }
}

/// The bytes of `after` not in `before`, summed over the workers in both.
pub(crate) fn traffic_since(after: &[(String, Traffic)], before: &[(String, Traffic)]) -> Traffic {
    after
        .iter()
        .map(|(name, t)| {
            let earlier = before
                .iter()
                .find(|(n, _)| n == name)
                .map_or(Traffic::default(), |(_, e)| *e);
            t.since(earlier)
        })
        .fold(Traffic::default(), |a, b| a + b)
}

/// Workers whose connection the watchdog cut (their failure is then explained by it).
static CUT: Mutex<Vec<String>> = Mutex::new(Vec::new());

thread_local! {
    /// Whether this thread is computing a remote worker's shard (its panics are recovered).
    static ON_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// Run `f` marked as a remote worker's computation (see [`quiet_worker_panics`]).
pub(crate) fn on_worker<T>(f: impl FnOnce() -> T) -> T {
    /// Clears the mark when `f` returns or unwinds (the hook runs before the unwinding).
    struct Unmark;
    impl Drop for Unmark {
        fn drop(&mut self) {
            ON_WORKER.with(|w| w.set(false));
        }
    }
    ON_WORKER.with(|w| w.set(true));
    let _unmark = Unmark;
    f()
}

/// Make the panic hook silent for the panics of remote workers' computations, which a fit
/// catches and survives (Burn reports a lost connection by panicking on the read): the fit
/// reports the lost worker itself, in one line. Other panics reach the previous hook as
/// before. For programs (the `ngmnn` tool installs it); a library leaves the hook alone.
pub fn quiet_worker_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !ON_WORKER.with(Cell::get) {
            previous(info);
        }
    }));
}

/// Why the remote worker `name` failed, from the panic `message` of its computation.
pub(crate) fn lost_reason(name: &str, message: &str, timeout: Duration) -> String {
    // Taken out: a later fit in this process may use a worker of the same address.
    let cut = CUT.lock().is_ok_and(|mut c| {
        let before = c.len();
        c.retain(|w| w != name);
        c.len() < before
    });
    if cut {
        return format!(
            "it did not finish its part of a pass within {} s: its connection was cut",
            timeout.as_secs_f64()
        );
    }
    let last = message
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(message);
    format!("its connection ended: {}", last.trim())
}

/// Cut this process's connection to the remote worker `name` (see `remote/sockets.rs`);
/// whether one was found. Without the `remote` feature, or off Linux, nothing can be cut.
pub(crate) fn disconnect(name: &str) -> bool {
    if let Ok(mut cut) = CUT.lock() {
        cut.push(name.to_owned());
    }
    #[cfg(all(feature = "remote", target_os = "linux"))]
    {
        crate::remote::disconnect(name)
    }
    #[cfg(not(all(feature = "remote", target_os = "linux")))]
    {
        let _ = name;
        false
    }
}
