//! Saving and loading a trained model: a directory holding the Burn record (`model.bpk`) and
//! a JSON description (`model.json`: the [`NgmnnConfig`], the class names, the input
//! standardisation and the trainer config used). Both files are written atomically (a
//! temporary file unique to the writer, flushed to disk, renamed, the directory flushed), so an
//! interrupted save never leaves a half-written file; a run's output folder keeps each epoch's
//! files as one unit ([`super::outdir`]).

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::Device;
use burn::tensor::{Bytes, DType};
use serde::{Deserialize, Serialize};

use super::{Ngmnn, NgmnnConfig, outdir};
use crate::data::Standardizer;
use crate::error::{NgmnnError, Result};
use crate::train::ClosedFormConfig;

/// File name of the Burn record inside a model directory.
pub const RECORD_FILE: &str = "model.bpk";
/// File name of the JSON description inside a model directory.
pub const META_FILE: &str = "model.json";
/// Most bytes of `model.json` read: room for the class names and a standardiser of some
/// 800 000 features.
const META_MAX: u64 = 32 << 20;
/// Most bytes of a record beyond 8 per parameter (its tensor table; 864 bytes for a
/// three-layer model).
const RECORD_OVERHEAD_MAX: u64 = 1 << 20;

/// Everything besides the weights that is needed to use a model on new data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedModel {
    /// The architecture.
    pub config: NgmnnConfig,
    /// Class names; output `k` is `classes[k]`.
    pub classes: Vec<String>,
    /// The standardisation fitted on the training data, applied to any input first.
    pub standardizer: Option<Standardizer>,
    /// The trainer configuration that produced the weights (informational).
    pub trainer: Option<ClosedFormConfig>,
    /// The crate version that wrote the model.
    pub ngmnn_version: String,
}

impl SavedModel {
    /// Describe a model.
    pub fn new(config: NgmnnConfig, classes: Vec<String>) -> Self {
        Self {
            config,
            classes,
            standardizer: None,
            trainer: None,
            ngmnn_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    /// Write `model` and this description into `dir` (created if needed).
    ///
    /// # Errors
    /// [`NgmnnError::Io`] / [`NgmnnError::Record`] if writing fails;
    /// [`NgmnnError::ShapeMismatch`] if the description does not match the model.
    ///
    /// # Example
    /// ```
    /// use ngmnn::prelude::*;
    ///
    /// let device = BackendKind::Flex.device()?;
    /// let data = ngmnn::data::digits();
    /// let config = NgmnnConfig::new(data.d(), vec![32], data.n_classes());
    /// let model = config.init(&device)?;
    /// let dir = std::env::temp_dir().join(format!("ngmnn-doc-{}", std::process::id()));
    /// SavedModel::new(config, data.classes().to_vec()).save(&model, &dir)?;
    /// let (saved, loaded) = SavedModel::load(&dir, &device)?;
    /// assert_eq!(saved.classes.len(), 10);
    /// assert_eq!(loaded.predict_dataset(&data)?, model.predict_dataset(&data)?);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), NgmnnError>(())
    /// ```
    pub fn save(&self, model: &Ngmnn, dir: &Path) -> Result<()> {
        self.validate()?;
        if model.d_input() != self.config.d_input || model.n_classes() != self.config.n_classes {
            return Err(NgmnnError::ShapeMismatch(
                "the model does not match its config".into(),
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| NgmnnError::io(dir, e))?;
        let record_tmp = temp_name(&dir.join(RECORD_FILE));
        model
            .clone()
            .save_file(&record_tmp)
            .map_err(|e| NgmnnError::Record(e.to_string()))?;
        std::fs::File::open(&record_tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| NgmnnError::io(&record_tmp, e))?;
        rename(&record_tmp, &dir.join(RECORD_FILE))?;
        let json = serde_json::to_vec_pretty(self).map_err(|e| NgmnnError::Json {
            path: dir.join(META_FILE),
            source: e,
        })?;
        write_atomic(&dir.join(META_FILE), &json)
    }

    /// Load the description and the model from `dir` onto `device`.
    ///
    /// # Errors
    /// [`NgmnnError::Io`] if a file is missing, [`NgmnnError::InvalidData`] if a file is not a
    /// regular file of the folder or is too large (`model.json` over 32 MB; a record larger
    /// than 8 bytes per parameter and a 1 MB table), or the folder's manifest does not match
    /// ([`outdir::resolve`]), [`NgmnnError::Json`] if `model.json` is malformed,
    /// [`NgmnnError::ShapeMismatch`] / [`NgmnnError::Record`] if the record does not match
    /// the config.
    pub fn load(dir: &Path, device: &Device) -> Result<(SavedModel, Ngmnn)> {
        // A run's output folder: its current complete version, checked against its manifest.
        // Its files are untrusted: regular files of the folder, read with a bound.
        let dir = &outdir::resolve(dir)?;
        let meta_path = dir.join(META_FILE);
        let meta = outdir::read_file(dir, META_FILE, META_MAX)?;
        let (record_path, record_bytes) = outdir::regular_file(dir, RECORD_FILE)?;
        // The description is checked before the record is read: a model.json that does not
        // parse, or a record of a size its parameters cannot have, never costs the read.
        let saved = Self::parse(&meta, &meta_path)?;
        saved.check_record_size(record_bytes, &meta_path, &record_path)?;
        let record = outdir::read_file(dir, RECORD_FILE, record_bytes)?;
        let model = saved.load_record(record, &record_path, device)?;
        Ok((saved, model))
    }

    /// [`SavedModel::load`] from the two files' bytes (`dir` only names them in errors): the
    /// path the fuzzer drives.
    ///
    /// # Errors
    /// As [`SavedModel::load`].
    pub fn from_bytes(
        meta: &[u8],
        record: Vec<u8>,
        dir: &Path,
        device: &Device,
    ) -> Result<(SavedModel, Ngmnn)> {
        let (meta_path, record_path) = (dir.join(META_FILE), dir.join(RECORD_FILE));
        let saved = Self::parse(meta, &meta_path)?;
        saved.check_record_size(record.len() as u64, &meta_path, &record_path)?;
        let model = saved.load_record(record, &record_path, device)?;
        Ok((saved, model))
    }

    /// Parse and validate `model.json`.
    fn parse(meta: &[u8], meta_path: &Path) -> Result<SavedModel> {
        let saved: SavedModel = serde_json::from_slice(meta).map_err(|e| {
            // A message quoting a long value of the file (an unknown variant) is cut.
            let message = e.to_string();
            if message.len() <= 200 {
                NgmnnError::Json {
                    path: meta_path.to_owned(),
                    source: e,
                }
            } else {
                let short = outdir::read::short_message(&message);
                NgmnnError::data(Some(&meta_path.display().to_string()), short)
            }
        })?;
        saved.validate()?;
        Ok(saved)
    }

    /// model.json is untrusted: its widths must be what the record holds before anything of
    /// that size is allocated (a width edited to 2e9 would abort the process).
    fn check_record_size(&self, record_bytes: u64, meta: &Path, record: &Path) -> Result<()> {
        let widths = self.config.widths();
        let params = self.config.n_params();
        // 4 bytes per parameter (f32) at least; 8 (f64) and the tensor table at most.
        let fits = |p: u64| {
            p.saturating_mul(4) <= record_bytes
                && record_bytes <= p.saturating_mul(8).saturating_add(RECORD_OVERHEAD_MAX)
        };
        if params.is_none_or(|p| !fits(p)) {
            return Err(NgmnnError::ShapeMismatch(format!(
                "{} declares widths {widths:?} ({} parameters) but {} holds {record_bytes} bytes: \
                 model.json and the record do not belong together",
                meta.display(),
                params.map_or_else(|| "an overflowing number of".to_string(), |p| p.to_string()),
                record.display()
            )));
        }
        Ok(())
    }

    /// Build the network this description declares and load the record's weights into it.
    fn load_record(&self, record: Vec<u8>, record_path: &Path, device: &Device) -> Result<Ngmnn> {
        // Shared once, so the dtype check reads the same buffer (a view, not a copy).
        let record = Bytes::from_bytes_vec(record).shared();
        check_record_dtypes(record.clone(), record_path)?;
        let err = |e: burn::store::RecordError| {
            NgmnnError::Record(format!("{}: {e}", record_path.display()))
        };
        let record = ModuleRecord::from_bytes(record).map_err(err)?;
        self.config
            .init(device)?
            .try_load_record(record)
            .map_err(err)
    }

    /// Check the description is consistent (architecture rules, class count, a standardiser
    /// of the input width with finite means and finite positive standard deviations).
    ///
    /// # Errors
    /// [`NgmnnError::InvalidArchitecture`], [`NgmnnError::ShapeMismatch`] or
    /// [`NgmnnError::InvalidData`].
    pub fn validate(&self) -> Result<()> {
        self.config.check()?;
        if self.classes.len() != self.config.n_classes {
            return Err(NgmnnError::ShapeMismatch(format!(
                "{} class names for {} outputs",
                self.classes.len(),
                self.config.n_classes
            )));
        }
        match &self.standardizer {
            Some(s) => s.check(self.config.d_input),
            None => Ok(()),
        }
    }
}

/// Every tensor of a record must be f32 or f64: Burn 0.22.1 panics when it loads an integer
/// tensor into a float parameter (found by the `model_dir` fuzz target). The record's
/// tensor table is read with Burn's own format reader.
fn check_record_dtypes(record: Bytes, record_path: &Path) -> Result<()> {
    let err = |e: burn_pack::Error| NgmnnError::Record(format!("{}: {e}", record_path.display()));
    let tensors = burn_pack::Reader::from_bytes(record)
        .map_err(err)?
        .into_tensors()
        .map_err(err)?;
    match tensors
        .iter()
        .find(|t| !matches!(t.dtype, DType::F32 | DType::F64))
    {
        Some(t) => Err(NgmnnError::Record(format!(
            "{}: tensor `{}` holds {:?} values; a model's parameters are f32 or f64",
            record_path.display(),
            t.name,
            t.dtype
        ))),
        None => Ok(()),
    }
}

/// Write `bytes` to `path` through a temporary file in the same directory and a rename.
///
/// # Errors
/// [`NgmnnError::Io`] if writing or renaming fails.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_name(path);
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| {
            std::io::Write::write_all(&mut f, bytes)?;
            f.sync_all()
        })
        .map_err(|e| NgmnnError::io(&tmp, e));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    rename(&tmp, path)
}

/// A temporary name beside `path`, unique to this process and call: concurrent writers never
/// share one (`.NAME.PID.K.tmp`, the form `outdir`'s marker recognises as ngmnn's own).
pub(crate) fn temp_name(path: &Path) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let k = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}.{k}.tmp", std::process::id()))
}

/// Rename (the file was flushed before), then flush the directory so the rename survives a
/// power loss.
fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|e| NgmnnError::io(to, e))?;
    if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(|e| NgmnnError::io(parent, e))?;
    }
    Ok(())
}
