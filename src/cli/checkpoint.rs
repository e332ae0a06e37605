//! `checkpoint.json`: what `ngmnn train --out DIR` needs to `--resume DIR` (the run's options,
//! the epoch target and the history so far). Written atomically after every epoch, after the
//! model files of that epoch.

use std::path::Path;

use anyhow::Context;
use ngmnn::report::write_json;
use ngmnn::train::History;
use serde::{Deserialize, Serialize};

use super::train::RunArgs;

/// File name inside the model directory.
pub const CHECKPOINT_FILE: &str = "checkpoint.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The run's data and model options.
    pub run: RunArgs,
    /// The number of epochs the run was asked for.
    pub epochs: usize,
    /// The completed epochs.
    pub history: History,
}

impl Checkpoint {
    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        Ok(write_json(self, &dir.join(CHECKPOINT_FILE))?)
    }

    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        // The run folder's current version (checked against its manifest).
        let dir = &ngmnn::model::outdir::resolve(dir)?;
        let path = dir.join(CHECKPOINT_FILE);
        let bytes = std::fs::read(&path).with_context(|| {
            format!(
                "reading {} (is this a `train --out` directory?)",
                path.display()
            )
        })?;
        let ckpt: Checkpoint = serde_json::from_slice(&bytes)
            .with_context(|| format!("parsing {}", path.display()))?;
        if ckpt.history.epochs.is_empty() {
            anyhow::bail!("{} holds no completed epoch", path.display());
        }
        Ok(ckpt)
    }
}
