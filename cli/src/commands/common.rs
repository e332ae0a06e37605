//! Arguments and helpers shared by the subcommands.

use std::path::Path;

use anyhow::Context;
use burn::tensor::Device;
use clap::Args;
use ngmnn::data::{CsvOptions, DataFormat, LabelColumn, LabeledData, LoadedData, load};
use ngmnn::model::{Ngmnn, SavedModel};
use ngmnn::{BackendKind, Precision};
use serde::{Deserialize, Serialize};

/// Where the data comes from.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct DataArgs {
    /// `builtin` (the embedded 8x8 digits set) or a path: .mat, .csv, .tsv, an IDX images
    /// file, or a directory with the four MNIST files.
    #[arg(long, default_value = "builtin")]
    pub data: String,
    /// Force the format instead of detecting it from the name: mat, idx, csv, tsv.
    #[arg(long)]
    pub format: Option<DataFormat>,
    /// CSV label column: `last` (default), `first`, a 0-based index or a header name.
    #[arg(long, default_value = "last")]
    pub label_col: LabelColumn,
    /// CSV: the first row is a header (default: detected).
    #[arg(long)]
    pub header: bool,
}

impl DataArgs {
    pub fn csv_options(&self) -> CsvOptions {
        CsvOptions {
            label: self.label_col.clone(),
            header: self.header.then_some(true),
            ..CsvOptions::default()
        }
    }

    pub fn load(&self) -> anyhow::Result<LoadedData> {
        self.load_within(None)
    }

    /// Load the data within an input budget of `memory_limit` MB (`--memory-limit`; `None`:
    /// the machine's available memory).
    pub fn load_within(&self, memory_limit: Option<u64>) -> anyhow::Result<LoadedData> {
        self.load_other_within(&self.data, memory_limit)
    }

    /// Load another source with the same format options, within `memory_limit` MB.
    pub fn load_other_within(
        &self,
        path: &str,
        memory_limit: Option<u64>,
    ) -> anyhow::Result<LoadedData> {
        let csv = self
            .csv_options()
            .with_memory_limit(memory_limit.map(|mb| mb.saturating_mul(1 << 20)));
        load(path, self.format, &csv).with_context(|| format!("loading {path}"))
    }
}

/// Which backend runs the computation.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct BackendArgs {
    /// Burn backend: flex, ndarray, wgpu, tch or cuda (those compiled in; `ngmnn backends`
    /// lists them).
    #[arg(long, default_value = "flex")]
    pub backend: BackendKind,
    /// Device index for backends with several devices (wgpu: discrete GPU; tch: CUDA GPU,
    /// none = CPU; cuda: GPU).
    #[arg(long)]
    #[serde(default)]
    pub device: Option<usize>,
}

impl BackendArgs {
    pub fn device(&self) -> anyhow::Result<Device> {
        Ok(self.backend.device_at(self.device)?)
    }

    /// The precision used when none is given: f64 on the CPU backends (flex, ndarray, tch
    /// without a GPU index), whose f64 runs at half the f32 rate; f32 on GPUs, where f64 is
    /// 32-64x slower on consumer cards or missing (Metal, many wgpu adapters).
    pub fn default_precision(&self) -> Precision {
        match (self.backend, self.device) {
            (BackendKind::Flex | BackendKind::Ndarray, _) | (BackendKind::Tch, None) => {
                Precision::F64
            }
            _ => Precision::F32,
        }
    }
}

/// Load a saved model and prepare `data` for it (standardise, map classes by name).
pub fn prepare_for_model(
    dir: &Path,
    device: &Device,
    loaded: LoadedData,
) -> anyhow::Result<(SavedModel, Ngmnn, LabeledData)> {
    let (saved, model) = SavedModel::load(dir, device)
        .with_context(|| format!("loading model {}", dir.display()))?;
    // A source with its own test part (MNIST directory) is evaluated on that part.
    let data = loaded.test.unwrap_or(loaded.data);
    if data.d() != saved.config.d_input {
        anyhow::bail!(
            "the data has {} features but the model expects {}",
            data.d(),
            saved.config.d_input
        );
    }
    let mut data = data.with_classes(&saved.classes)?;
    if let Some(s) = &saved.standardizer {
        s.apply(&mut data)?;
    }
    Ok((saved, model, data))
}

/// Predicted class index per sample.
pub fn predict(model: &Ngmnn, data: &LabeledData, _device: &Device) -> anyhow::Result<Vec<usize>> {
    Ok(model.predict_dataset(data)?)
}
