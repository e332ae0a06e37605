//! Re-readable sources of training batches, for fits on data that does not fit in memory
//! ([`crate::train::ClosedForm::fit_stream`]).
//!
//! A [`BatchSource`] yields the same rows in the same order on every pass; the trainer
//! holds one batch at a time plus `O(n)` scalars (per-sample losses and weights). Sources here:
//! [`DatasetBatches`] (an in-memory [`LabeledData`] cut into batches: tests, and the reference for
//! streamed results), [`SyntheticSource`] (a seeded generator of any size), [`IdxStream`]
//! (MNIST-style IDX images) and [`CsvStream`] (CSV), both read from disk, optionally gzipped,
//! on every pass.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::LabeledData;
use super::csv::{CsvOptions, Layout, line_of};
use super::dataset::sorted_classes;
use super::idx::{
    decode_idx, element_width, labels_file, parse_idx_header, read_labels, show_dims,
};
use super::input::{Input, read_up_to};
use super::records::Records;
use crate::error::{NgmnnError, Result};

/// A batch of rows: `labels.len()` samples of `features.len() / labels.len()` features
/// (row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Features, row-major, `rows x d`.
    pub features: Vec<f32>,
    /// Class index of each row.
    pub labels: Vec<usize>,
}

impl Batch {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.labels.len()
    }

    /// Check the batch against the source's shape: `d` features per row, finite values,
    /// labels below `classes`. `first_row` numbers the rows in errors.
    ///
    /// # Errors
    /// [`NgmnnError::InvalidData`] naming the first offending row.
    pub fn check(&self, d: usize, classes: usize, first_row: usize, name: &str) -> Result<()> {
        let err = |reason: String| Err(NgmnnError::data(Some(name), reason));
        if self.features.len() != self.rows() * d {
            return err(format!(
                "batch at row {first_row}: {} feature values for {} rows of {d} features",
                self.features.len(),
                self.rows()
            ));
        }
        if let Some(pos) = self.features.iter().position(|v| !v.is_finite()) {
            return err(format!(
                "non-finite feature {} at sample {}, feature {}",
                self.features[pos],
                first_row + pos / d,
                pos % d
            ));
        }
        if let Some(i) = self.labels.iter().position(|&l| l >= classes) {
            return err(format!(
                "label index {} of sample {} is out of range for {classes} classes",
                self.labels[i],
                first_row + i
            ));
        }
        Ok(())
    }
}

/// A re-readable source of training batches.
///
/// Every pass (after [`BatchSource::reset`]) must yield the same rows in the same order; the
/// trainer checks the row count of every pass against the first.
pub trait BatchSource: Send {
    /// A name for messages (file name, `synthetic`, ...).
    fn name(&self) -> String;
    /// Features per row.
    fn n_features(&self) -> usize;
    /// Number of classes (labels lie in `0..n_classes`).
    fn n_classes(&self) -> usize;
    /// The number of rows a pass yields, where the source knows it without a pass (a file
    /// header, an in-memory set); `None` otherwise. Only a hint for planning (the trainer
    /// counts the rows of every pass and never trusts it for correctness).
    fn rows_hint(&self) -> Option<usize> {
        None
    }
    /// Start a new pass at the first row.
    ///
    /// # Errors
    /// I/O or parse errors re-opening the data.
    fn reset(&mut self) -> Result<()>;
    /// The next batch of the pass, `None` at its end.
    ///
    /// # Errors
    /// I/O or parse errors (a truncated file, a malformed record).
    fn next_batch(&mut self) -> Result<Option<Batch>>;
}

/// An in-memory [`LabeledData`] served in batches of `rows` rows.
#[derive(Debug, Clone)]
pub struct DatasetBatches {
    data: LabeledData,
    rows: usize,
    next: usize,
}

impl DatasetBatches {
    /// Serve `data` in batches of `rows` rows (the last may be shorter; `rows` >= 1).
    pub fn new(data: LabeledData, rows: usize) -> Self {
        Self {
            data,
            rows: rows.max(1),
            next: 0,
        }
    }
}

impl BatchSource for DatasetBatches {
    fn name(&self) -> String {
        self.data.name().to_owned()
    }

    fn n_features(&self) -> usize {
        self.data.d()
    }

    fn n_classes(&self) -> usize {
        self.data.n_classes()
    }

    fn rows_hint(&self) -> Option<usize> {
        Some(self.data.n())
    }

    fn reset(&mut self) -> Result<()> {
        self.next = 0;
        Ok(())
    }

    fn next_batch(&mut self) -> Result<Option<Batch>> {
        let (n, d) = (self.data.n(), self.data.d());
        if self.next >= n {
            return Ok(None);
        }
        let end = (self.next + self.rows).min(n);
        let batch = Batch {
            features: self.data.features()[self.next * d..end * d].to_vec(),
            labels: self.data.labels()[self.next..end].to_vec(),
        };
        self.next = end;
        Ok(Some(batch))
    }
}

/// A seeded synthetic classification problem of any size, generated batch by batch: class
/// means uniform in `[-1, 1]^d`, isotropic Gaussian-like noise of standard deviation `noise`,
/// labels uniform. Batch `i` is drawn from its own seeded generator, so every pass yields the
/// same rows without storing them.
#[derive(Debug, Clone)]
pub struct SyntheticSource {
    n: usize,
    d: usize,
    classes: usize,
    rows: usize,
    noise: f32,
    /// Seeds the batches (the class means come from the constructor's seed).
    stream: u64,
    means: Vec<f32>,
    next: usize,
}

impl SyntheticSource {
    /// `n` samples of `d` features in `classes` classes, served `rows` at a time.
    ///
    /// # Errors
    /// [`NgmnnError::InvalidConfig`] for zero sizes or fewer than two classes.
    pub fn new(n: usize, d: usize, classes: usize, rows: usize, seed: u64) -> Result<Self> {
        for (field, value, min, rule) in [
            ("n", n, 1, "must be at least 1"),
            ("d", d, 1, "must be at least 1"),
            ("classes", classes, 2, "must be at least 2"),
            ("rows", rows, 1, "must be at least 1"),
        ] {
            if value < min {
                return Err(NgmnnError::config(field, value, rule));
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let means = (0..classes * d)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        Ok(Self {
            n,
            d,
            classes,
            rows,
            noise: 1.0,
            stream: seed,
            means,
            next: 0,
        })
    }

    /// Noise standard deviation (default 1).
    pub fn with_noise(mut self, noise: f32) -> Self {
        self.noise = noise;
        self
    }

    /// Another `n` samples of the same problem (same class means, fresh noise and labels):
    /// validation or test data.
    pub fn held_out(&self, n: usize) -> Self {
        Self {
            n: n.max(1),
            stream: self.stream.wrapping_add(0x5851_F42D_4C95_7F2D),
            next: 0,
            ..self.clone()
        }
    }

    /// Materialise rows `0..n` as a [`LabeledData`] (for small cases: the in-memory reference).
    ///
    /// # Errors
    /// As [`LabeledData::new`].
    pub fn to_dataset(&self) -> Result<LabeledData> {
        let mut copy = self.clone();
        copy.next = 0;
        let (mut x, mut y) = (Vec::new(), Vec::new());
        while let Some(b) = copy.next_batch()? {
            x.extend(b.features);
            y.extend(b.labels);
        }
        let classes = (0..self.classes).map(|k| k.to_string()).collect();
        LabeledData::new("synthetic", x, y, self.d, classes)
    }
}

impl BatchSource for SyntheticSource {
    fn name(&self) -> String {
        "synthetic".into()
    }

    fn n_features(&self) -> usize {
        self.d
    }

    fn n_classes(&self) -> usize {
        self.classes
    }

    fn rows_hint(&self) -> Option<usize> {
        Some(self.n)
    }

    fn reset(&mut self) -> Result<()> {
        self.next = 0;
        Ok(())
    }

    fn next_batch(&mut self) -> Result<Option<Batch>> {
        if self.next >= self.n {
            return Ok(None);
        }
        let rows = self.rows.min(self.n - self.next);
        let index = (self.next / self.rows) as u64;
        let mut rng = ChaCha8Rng::seed_from_u64(
            self.stream ^ (index + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let mut features = Vec::with_capacity(rows * self.d);
        let mut labels = Vec::with_capacity(rows);
        for _ in 0..rows {
            let label = rng.random_range(0..self.classes);
            labels.push(label);
            let mean = &self.means[label * self.d..(label + 1) * self.d];
            // Sum of 3 uniforms: zero mean, variance 1/4 (scaled to `noise`), cheap and bounded.
            features.extend(mean.iter().map(|&m| {
                let u: f32 = rng.random::<f32>() + rng.random::<f32>() + rng.random::<f32>() - 1.5;
                m + 2.0 * self.noise * u
            }));
        }
        self.next += rows;
        Ok(Some(Batch { features, labels }))
    }
}

/// MNIST-style IDX images (`[n, rows, cols]` or `[n, d]`, any IDX element type, optionally
/// gzipped) streamed from disk on every pass; the labels file (`n` bytes) is read once.
pub struct IdxStream {
    images: PathBuf,
    labels: Vec<usize>,
    classes: usize,
    d: usize,
    ty: u8,
    header: usize,
    rows: usize,
    /// The input budget the file is opened with.
    limit: u64,
    next: usize,
    reader: Option<Box<dyn Read + Send>>,
}

impl std::fmt::Debug for IdxStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdxStream")
            .field("images", &self.images)
            .field("n", &self.labels.len())
            .field("d", &self.d)
            .field("classes", &self.classes)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl IdxStream {
    /// Open `images` (its labels file found by the standard naming, see
    /// [`super::load_idx`]), served `rows` rows at a time. Labels are the stored integers,
    /// which must lie in `0..=max label`; the classes are `0..=max label`.
    ///
    /// # Errors
    /// [`NgmnnError::UnsupportedFormat`] without a labels file, [`NgmnnError::Parse`] for a bad
    /// header, [`NgmnnError::InvalidData`] for negative labels or mismatched counts.
    pub fn open(images: &Path, rows: usize) -> Result<Self> {
        Self::open_within(images, rows, crate::memory::input_budget(None))
    }

    /// [`IdxStream::open`] with the labels read within `limit` bytes.
    pub(crate) fn open_within(images: &Path, rows: usize, limit: u64) -> Result<Self> {
        let labels_path = labels_file(images)?;
        let (lab_dims, lab) = read_labels(&labels_path, limit)?;
        let mut head = [0u8; 4 + 4 * 4];
        let mut input = Input::open(images, limit)?;
        let got = read_up_to(&mut input.reader, &mut head)
            .map_err(|e| input.progress.read_error(&e, images))?;
        let (ty, dims, header) = parse_idx_header(&head[..got], images)?;
        let n = dims[0];
        let name = images.display().to_string();
        if lab_dims.len() != 1 || lab_dims[0] != n {
            return Err(NgmnnError::data(
                Some(&name),
                format!(
                    "{n} images but labels file has dimensions {}",
                    show_dims(&lab_dims)
                ),
            ));
        }
        let mut labels = Vec::with_capacity(n);
        for (i, &v) in lab.iter().enumerate() {
            let class = usize::try_from(v).map_err(|_| {
                NgmnnError::data(
                    Some(&name),
                    format!("label {v} of sample {i} is not a class index"),
                )
            })?;
            labels.push(class);
        }
        Ok(Self {
            images: images.to_owned(),
            classes: labels.iter().max().map_or(0, |&m| m + 1),
            labels,
            d: dims[1..].iter().product::<usize>().max(1),
            ty,
            header,
            rows: rows.max(1),
            limit,
            next: 0,
            reader: None,
        })
    }

    /// Samples in the file.
    pub fn n(&self) -> usize {
        self.labels.len()
    }
}

impl BatchSource for IdxStream {
    fn name(&self) -> String {
        self.images
            .file_name()
            .map_or_else(|| "idx".into(), |s| s.to_string_lossy().into_owned())
    }

    fn n_features(&self) -> usize {
        self.d
    }

    fn n_classes(&self) -> usize {
        self.classes
    }

    fn rows_hint(&self) -> Option<usize> {
        Some(self.n())
    }

    fn reset(&mut self) -> Result<()> {
        let Input {
            mut reader,
            progress,
        } = Input::open(&self.images, self.limit)?;
        let mut skip = vec![0u8; self.header];
        read_up_to(&mut reader, &mut skip).map_err(|e| progress.read_error(&e, &self.images))?;
        self.reader = Some(reader);
        self.next = 0;
        Ok(())
    }

    fn next_batch(&mut self) -> Result<Option<Batch>> {
        if self.next >= self.n() {
            return Ok(None);
        }
        if self.reader.is_none() {
            self.reset()?;
        }
        let rows = self.rows.min(self.n() - self.next);
        let width = element_width(self.ty);
        let mut bytes = vec![0u8; rows * self.d * width];
        let reader = self.reader.as_mut().expect("opened above");
        let got = read_up_to(reader, &mut bytes).map_err(|e| NgmnnError::Parse {
            path: self.images.clone(),
            format: "IDX",
            reason: e.to_string(),
        })?;
        if got != bytes.len() {
            return Err(NgmnnError::Parse {
                path: self.images.clone(),
                format: "IDX",
                reason: format!(
                    "truncated: the header promises {} samples, the data ends in sample {}",
                    self.n(),
                    self.next + got / (self.d * width)
                ),
            });
        }
        let features = decode_idx(self.ty, &bytes);
        let labels = self.labels[self.next..self.next + rows].to_vec();
        self.next += rows;
        Ok(Some(Batch { features, labels }))
    }
}

/// A CSV file (same options and checks as [`super::load_csv`]) read from disk on every pass.
///
/// Opening it reads it once: the layout, the number of rows and the class names (sorted as
/// [`LabeledData::from_labels`] sorts them), and every row is checked, so a malformed file fails at
/// [`CsvStream::open`] with the line named, not in the middle of a fit.
pub struct CsvStream {
    path: PathBuf,
    name: String,
    options: CsvOptions,
    layout: Layout,
    classes: Vec<String>,
    index: HashMap<String, usize>,
    n: usize,
    rows: usize,
    reader: Option<Records<'static>>,
    /// The header row of this pass is still ahead.
    header_ahead: bool,
}

impl std::fmt::Debug for CsvStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvStream")
            .field("path", &self.path)
            .field("n", &self.n)
            .field("d", &(self.layout.width - 1))
            .field("classes", &self.classes.len())
            .finish_non_exhaustive()
    }
}

impl CsvStream {
    /// Open and check `path`, to be served `rows` rows at a time.
    ///
    /// # Errors
    /// [`NgmnnError::Io`] if unreadable; [`NgmnnError::InvalidData`] as [`super::parse_csv`].
    pub fn open(path: &Path, options: &CsvOptions, rows: usize) -> Result<Self> {
        let name = path
            .file_name()
            .map_or_else(|| "csv".into(), |s| s.to_string_lossy().into_owned());
        let err = |reason: String| NgmnnError::data(Some(&name), reason);
        let mut records = Records::new(Input::open(path, options.budget())?, options, &name);
        let mut layout: Option<Layout> = None;
        let (mut n, mut names, mut scratch) = (0usize, BTreeSet::new(), Vec::new());
        let (mut rec, mut names_bytes) = (csv::StringRecord::new(), 0u64);
        while records.next(&mut rec)? {
            let l = match layout {
                Some(l) => l,
                None => {
                    let l = Layout::detect(&rec, options, &name)?;
                    layout = Some(l);
                    if l.header {
                        continue;
                    }
                    l
                }
            };
            scratch.clear();
            let label = l.parse_row(&rec, line_of(&rec), &name, &mut scratch)?;
            let len = label.len() as u64;
            if names.insert(label) {
                // The name, its copy among the classes and in the index, and the nodes.
                names_bytes += 3 * len + 96;
                records
                    .progress()
                    .check_held(names_bytes, || format!("the class names of {name}"))?;
            }
            n += 1;
        }
        let layout = layout.ok_or_else(|| err("empty file".into()))?;
        if n == 0 {
            return Err(err("a header row but no data rows".into()));
        }
        let classes = sorted_classes(names.iter().map(String::as_str));
        let index = classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), i))
            .collect();
        Ok(Self {
            path: path.to_owned(),
            name,
            options: options.clone(),
            layout,
            classes,
            index,
            n,
            rows: rows.max(1),
            reader: None,
            header_ahead: false,
        })
    }

    /// Data rows in the file.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The class names, in class-index order.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }
}

impl BatchSource for CsvStream {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn n_features(&self) -> usize {
        self.layout.width - 1
    }

    fn n_classes(&self) -> usize {
        self.classes.len()
    }

    fn reset(&mut self) -> Result<()> {
        let input = Input::open(&self.path, self.options.budget())?;
        self.reader = Some(Records::new(input, &self.options, &self.name));
        self.header_ahead = self.layout.header;
        Ok(())
    }

    fn next_batch(&mut self) -> Result<Option<Batch>> {
        if self.reader.is_none() {
            self.reset()?;
        }
        let reader = self.reader.as_mut().expect("opened above");
        let mut features = Vec::with_capacity(self.rows * (self.layout.width - 1));
        let mut labels = Vec::with_capacity(self.rows);
        let mut record = csv::StringRecord::new();
        while labels.len() < self.rows {
            if !reader.next(&mut record)? {
                break;
            }
            if self.header_ahead {
                self.header_ahead = false;
                continue;
            }
            let line = line_of(&record);
            let label = self
                .layout
                .parse_row(&record, line, &self.name, &mut features)?;
            let class = self.index.get(&label).copied().ok_or_else(|| {
                NgmnnError::data(
                    Some(&self.name),
                    format!("line {line}: label {label:?} was not in the file when it was opened"),
                )
            })?;
            labels.push(class);
        }
        Ok((!labels.is_empty()).then_some(Batch { features, labels }))
    }
}
