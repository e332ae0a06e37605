//! A CSV file streamed from disk on every pass (checked whole when opened).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::{Batch, BatchSource};
use crate::data::csv::{CsvOptions, Layout, line_of};
use crate::data::dataset::{class_index, sorted_classes};
use crate::data::input::Input;
use crate::data::records::Records;
use crate::error::{NgmnnError, Result};

/// A CSV file (same options and checks as [`crate::data::load_csv`]) read from disk on every pass.
///
/// Opening it reads it once: the layout, the number of rows and the class names (sorted as
/// [`crate::data::LabeledData::from_labels`] sorts them), and every row is checked, so a malformed file fails at
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
    /// [`NgmnnError::Io`] if unreadable; [`NgmnnError::InvalidData`] as [`crate::data::parse_csv`].
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
        let index = class_index(&classes)
            .into_iter()
            .map(|(c, i)| (c.to_owned(), i))
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
