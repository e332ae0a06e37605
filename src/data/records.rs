//! CSV records read from a decoded stream within the input budget: each record's length is
//! bounded before the `csv` reader buffers it whole, and a labeled file is parsed row by row
//! into its features and class indices (the text is never held whole, nor a record per row).

use std::collections::HashMap;
use std::path::Path;

use super::LabeledData;
use super::csv::{CsvOptions, Layout, is_blank, line_of, reader};
use super::dataset::{class_index, sorted_classes};
use super::input::{Input, Progress};
use crate::error::{NgmnnError, Result};

/// The non-blank records of a CSV stream, each bounded in length by the budget.
pub(crate) struct Records<'a> {
    /// Boxed: a `csv::Reader` is a few hundred bytes, kept in enums of the CLI.
    reader: Box<csv::Reader<Box<dyn std::io::Read + Send + 'a>>>,
    progress: Progress,
    name: String,
}

impl<'a> Records<'a> {
    /// Read `input` with `options`' delimiter; `name` names the file in errors.
    pub(crate) fn new(input: Input<'a>, options: &CsvOptions, name: &str) -> Self {
        input.progress.bound_records();
        Self {
            reader: Box::new(reader(input.reader, options)),
            progress: input.progress,
            name: name.to_owned(),
        }
    }

    /// The budget, in bytes.
    pub(crate) fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Read the next non-blank record into `rec`; `false` at the end.
    ///
    /// # Errors
    /// [`NgmnnError::InvalidData`] for a malformed record or one longer than the budget
    /// allows; [`NgmnnError::Parse`] for a gzip stream that does not decode.
    pub(crate) fn next(&mut self, rec: &mut csv::StringRecord) -> Result<bool> {
        loop {
            let more = self.reader.read_record(rec).map_err(|e| self.error(e))?;
            self.progress
                .record_start
                .set(self.reader.position().byte());
            if !more {
                return Ok(false);
            }
            if !is_blank(rec) {
                return Ok(true);
            }
        }
    }

    fn error(&self, e: csv::Error) -> NgmnnError {
        let line = self.reader.position().line();
        let csv::ErrorKind::Io(io) = e.kind() else {
            return NgmnnError::data(Some(&self.name), format!("malformed CSV: {e}"));
        };
        match self.progress.read_error(io, Path::new(&self.name)) {
            NgmnnError::InvalidData { reason, .. } => {
                NgmnnError::data(Some(&self.name), format!("line {line}: {reason}"))
            }
            other => other,
        }
    }
}

/// Grow `v` (of `size`-byte elements) to hold `extra` more, by half its length at least, if
/// the old and new buffers together (with `other` bytes held besides) fit the budget.
fn reserve<T>(
    v: &mut Vec<T>,
    extra: usize,
    other: u64,
    progress: &Progress,
    what: impl FnOnce() -> String,
) -> Result<()> {
    if v.len() + extra <= v.capacity() {
        return Ok(());
    }
    let size = std::mem::size_of::<T>() as u64;
    let target = v.len() + extra.max(v.len() / 2).max(1024);
    let peak = (v.capacity() as u64 + target as u64) * size + other;
    progress.check_peak(peak, v.len() as u64 * size + other, what)?;
    v.reserve_exact(target - v.len());
    Ok(())
}

/// Parse a labeled CSV stream into a dataset named `name` (see [`super::parse_csv`]).
///
/// # Errors
/// As [`super::parse_csv`]; [`NgmnnError::OutOfMemory`] when the parsed rows would pass the
/// budget, naming the whole file's estimated need.
pub(crate) fn read_labeled(
    input: Input<'_>,
    name: &str,
    options: &CsvOptions,
) -> Result<LabeledData> {
    let err = |reason: String| NgmnnError::data(Some(name), reason);
    let mut records = Records::new(input, options, name);
    let mut rec = csv::StringRecord::new();
    let mut layout: Option<Layout> = None;
    let (mut x, mut y) = (Vec::<f32>::new(), Vec::<usize>::new());
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut names_bytes = 0u64;
    while records.next(&mut rec)? {
        let l = match layout {
            Some(l) => l,
            None => {
                let l = Layout::detect(&rec, options, name)?;
                layout = Some(l);
                if l.header {
                    continue;
                }
                l
            }
        };
        let rows = y.len();
        let what = move || format!("reading {name} ({rows} rows so far)");
        let other = 8 * y.capacity() as u64 + names_bytes;
        reserve(&mut x, l.width - 1, other, records.progress(), what)?;
        let other = 4 * x.capacity() as u64 + names_bytes;
        reserve(&mut y, 1, other, records.progress(), what)?;
        let label = l.parse_row(&rec, line_of(&rec), name, &mut x)?;
        let next = index.len();
        let k = *index.entry(label).or_insert_with_key(|l| {
            // The name, its copy among the classes, and the map's entry.
            names_bytes += 2 * l.len() as u64 + 64;
            next
        });
        y.push(k);
        let held = 4 * x.capacity() as u64 + 8 * y.capacity() as u64 + names_bytes;
        let data = 4 * x.len() as u64 + 8 * y.len() as u64 + names_bytes;
        records.progress().check_peak(held, data, what)?;
    }
    let layout = layout.ok_or_else(|| err("empty file".into()))?;
    if y.is_empty() {
        return Err(err("a header row but no data rows".into()));
    }
    // Classes sorted as `LabeledData::from_labels` sorts them; first-seen indices remapped.
    let classes = sorted_classes(index.keys().map(String::as_str));
    let rank = class_index(&classes);
    let mut remap = vec![0; index.len()];
    for (label, &first) in &index {
        remap[first] = rank[label.as_str()];
    }
    y.iter_mut().for_each(|k| *k = remap[*k]);
    LabeledData::new(name, x, y, layout.width - 1, classes)
}
