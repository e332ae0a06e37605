//! IDX images streamed from disk on every pass (the labels read once).

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{Batch, BatchSource};
use crate::data::idx::{
    decode_idx, element_width, labels_file, parse_idx_header, read_labels, show_dims,
};
use crate::data::input::{Input, read_up_to};
use crate::error::{NgmnnError, Result};

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
    /// [`crate::data::load_idx`]), served `rows` rows at a time. Labels are the stored integers,
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
