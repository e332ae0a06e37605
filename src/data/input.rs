//! Opening a data file within the input budget.
//!
//! A file is decoded as a stream (gzip: every member, as `cat a.gz b.gz` and bgzip write
//! them), never inflated whole first. [`Progress`] counts the bytes read on disk and decoded so
//! that a loader can stop, naming the size, before it holds more than the budget
//! ([`crate::memory::input_budget`]: `--memory-limit`, else the machine's available memory),
//! and it bounds one CSV record's length (the `csv` reader buffers a record whole).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::bufread::MultiGzDecoder;

use crate::error::{NgmnnError, Result};

/// What to do when the input budget is too small.
pub(crate) const REMEDY: &str = "raise --memory-limit, or read a CSV/IDX file in passes \
                                 (`train --stream-rows N`)";

/// Bytes of text one CSV record may take per byte of budget: reading a record holds its
/// text and 8 bytes per field, both in growing buffers, so up to ~20 bytes per byte of text.
const RECORD_SHARE: u64 = 32;

/// The shortest record bound, whatever the budget (the `csv` reader reads ahead 8 KiB).
const MIN_RECORD: u64 = 1 << 20;

/// The longest record, whatever the budget: 16 MiB of text is two million 8-character
/// fields, far beyond any feature row (40000 features take ~400 KB), while reading it peaks
/// near 20 bytes per byte of text (a 160 MB line cost 1.16 GB before this bound).
const MAX_RECORD: u64 = 16 << 20;

/// A byte count shared between a reader and the loader above it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counter(Arc<AtomicU64>);

impl Counter {
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    pub(crate) fn set(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed);
    }

    fn add(&self, n: usize) {
        self.0.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// How far the reading of one file has got, and its budget.
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    /// Bytes of the file on disk (compressed when gzipped; 0 when unknown).
    file_len: u64,
    /// Bytes read from disk.
    raw: Counter,
    /// Bytes decoded.
    text: Counter,
    /// Where (in decoded bytes) the CSV record being read started.
    pub(crate) record_start: Counter,
    /// The longest CSV record allowed, in bytes of text (unbounded until
    /// [`Progress::bound_records`]).
    max_record: Counter,
    /// The budget, in bytes.
    pub(crate) limit: u64,
    /// Whether the file is gzipped.
    pub(crate) gz: bool,
}

/// The error a reader returns when a record outgrows its bound ([`Progress::bound_records`]).
#[derive(Debug)]
pub(crate) struct RecordTooLong(pub u64);

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a record longer than {} bytes", self.0)
    }
}

impl std::error::Error for RecordTooLong {}

impl Progress {
    /// `held` bytes (held after reading part of the file) extrapolated to the whole file by
    /// the share of the file read on disk.
    pub(crate) fn estimate(&self, held: u64) -> u64 {
        let raw = self.raw.get();
        if raw == 0 || raw >= self.file_len {
            return held;
        }
        (u128::from(held) * u128::from(self.file_len) / u128::from(raw)).min(u64::MAX as u128)
            as u64
    }

    /// The file's length when it is not compressed (the decoded length), else `None`.
    pub(crate) fn plain_len(&self) -> Option<u64> {
        (!self.gz && self.file_len > 0).then_some(self.file_len)
    }

    /// Stop when `held` bytes pass the budget ([`NgmnnError::OutOfMemory`] naming `what` and
    /// the whole file's estimated need).
    pub(crate) fn check_held(&self, held: u64, what: impl FnOnce() -> String) -> Result<()> {
        if held <= self.limit {
            return Ok(());
        }
        Err(over_budget(what(), self.estimate(held), self.limit))
    }

    /// Stop when `peak` bytes (buffers while one grows) pass the budget, naming the whole
    /// file's estimated need from the `data` bytes read so far.
    pub(crate) fn check_peak(
        &self,
        peak: u64,
        data: u64,
        what: impl FnOnce() -> String,
    ) -> Result<()> {
        if peak <= self.limit {
            return Ok(());
        }
        let needed = self.estimate(data).max(self.limit + 1);
        Err(over_budget(what(), needed, self.limit))
    }

    /// Bound every record from now on to the longest the budget allows; the reader above
    /// then moves [`Progress::record_start`] to each record's start.
    pub(crate) fn bound_records(&self) {
        self.max_record
            .set((self.limit / RECORD_SHARE).clamp(MIN_RECORD, MAX_RECORD));
    }

    /// Map a read error: a record over the bound is [`NgmnnError::InvalidData`], a gzip
    /// stream that does not decode is [`NgmnnError::Parse`] as gzip, others
    /// [`NgmnnError::Io`].
    pub(crate) fn read_error(&self, e: &std::io::Error, path: &Path) -> NgmnnError {
        if let Some(RecordTooLong(max)) =
            e.get_ref().and_then(|r| r.downcast_ref::<RecordTooLong>())
        {
            return NgmnnError::data(
                Some(&path.display().to_string()),
                format!(
                    "a record longer than {} MB, the longest read (at most 16 MB, and 1/32 of \
                     the memory budget of {} MB)",
                    max >> 20,
                    self.limit >> 20
                ),
            );
        }
        if self.gz {
            return NgmnnError::Parse {
                path: path.to_owned(),
                format: "gzip",
                reason: e.to_string(),
            };
        }
        NgmnnError::io(path, std::io::Error::new(e.kind(), e.to_string()))
    }
}

/// [`NgmnnError::OutOfMemory`] for input: `what` would need `needed` bytes of `limit`.
pub(crate) fn over_budget(what: String, needed: u64, limit: u64) -> NgmnnError {
    NgmnnError::OutOfMemory {
        what,
        needed_mb: needed.div_ceil(1 << 20),
        available_mb: limit >> 20,
        remedy: REMEDY.into(),
    }
}

/// A reader counting its bytes into a [`Counter`].
struct Counting<R> {
    inner: R,
    count: Counter,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.add(n);
        Ok(n)
    }
}

/// The decoded bytes, counted, and stopped when a record outgrows its bound.
struct Guard<R> {
    inner: R,
    progress: Progress,
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let p = &self.progress;
        let max = p.max_record.get();
        if p.text.get().saturating_sub(p.record_start.get()) > max {
            return Err(std::io::Error::other(RecordTooLong(max)));
        }
        let n = self.inner.read(buf)?;
        p.text.add(n);
        Ok(n)
    }
}

/// An opened data file: its decoded bytes and how far the reading has got.
pub(crate) struct Input<'a> {
    /// The decoded bytes.
    pub(crate) reader: Box<dyn Read + Send + 'a>,
    /// Counters and budget.
    pub(crate) progress: Progress,
}

impl<'a> Input<'a> {
    /// Decode `raw` (`file_len` bytes, 0 when unknown) within a budget of `limit` bytes. (An
    /// error peeking at the gzip magic comes back from the first read.)
    pub(crate) fn new(raw: impl Read + Send + 'a, file_len: u64, limit: u64) -> Self {
        let count = Counter::default();
        let mut buffered = BufReader::new(Counting {
            inner: raw,
            count: count.clone(),
        });
        let gz = buffered
            .fill_buf()
            .is_ok_and(|b| b.starts_with(&[0x1f, 0x8b]));
        let decoded: Box<dyn Read + Send + 'a> = if gz {
            Box::new(MultiGzDecoder::new(buffered))
        } else {
            Box::new(buffered)
        };
        let max_record = Counter::default();
        max_record.set(u64::MAX);
        let progress = Progress {
            file_len,
            raw: count,
            text: Counter::default(),
            record_start: Counter::default(),
            max_record,
            limit,
            gz,
        };
        Self {
            reader: Box::new(Guard {
                inner: decoded,
                progress: progress.clone(),
            }),
            progress,
        }
    }

    /// Bytes in memory.
    pub(crate) fn from_bytes(bytes: &'a [u8], limit: u64) -> Self {
        Self::new(bytes, bytes.len() as u64, limit)
    }
}

impl Input<'static> {
    /// Open `path` within a budget of `limit` bytes.
    ///
    /// # Errors
    /// [`NgmnnError::Io`] if it cannot be opened or read.
    pub(crate) fn open(path: &Path, limit: u64) -> Result<Self> {
        let file = File::open(path).map_err(|e| NgmnnError::io(path, e))?;
        let len = file.metadata().map_or(0, |m| m.len());
        Ok(Self::new(file, len, limit))
    }
}

/// Read (and decode) the whole of `path`, stopping before it takes more than `limit` bytes.
///
/// # Errors
/// [`NgmnnError::OutOfMemory`] naming the size; as [`Progress::read_error`].
pub(crate) fn read_all(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let Input {
        reader,
        progress: p,
    } = Input::open(path, limit)?;
    let mut out = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| p.read_error(&e, path))?;
    let what = || {
        format!(
            "reading {}{}",
            path.display(),
            if p.gz { " (decompressed)" } else { "" }
        )
    };
    p.check_held(out.len() as u64, what)?;
    Ok(out)
}

/// Read until `buf` is full or the reader ends; the number of bytes read.
pub(crate) fn read_up_to<R: Read + ?Sized>(
    reader: &mut R,
    buf: &mut [u8],
) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..])? {
            0 => break,
            k => got += k,
        }
    }
    Ok(got)
}
