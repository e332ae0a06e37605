//! `checkpoint.json`: what `ngmnn train --out DIR` needs to `--resume DIR` (the run's options,
//! the epoch target and the history so far). Written atomically after every epoch, after the
//! model files of that epoch.

use std::path::Path;

use anyhow::Context;
use ngmnn::model::outdir::{self, Access, DirLock};
use ngmnn::model::write_atomic;
use ngmnn::train::History;
use serde::{Deserialize, Serialize};

use super::train::{RunArgs, TrainArgs};

/// File name inside the model directory.
pub const CHECKPOINT_FILE: &str = "checkpoint.json";
/// Most bytes of a checkpoint read (its history grows by about a kilobyte per epoch).
const CHECKPOINT_MAX: u64 = 256 << 20;

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
        let path = dir.join(CHECKPOINT_FILE);
        let json = serde_json::to_vec_pretty(self)?;
        Ok(write_atomic(&path, &json)?)
    }

    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        // The run folder's current version (checked against its manifest), read as untrusted.
        let dir = &outdir::resolve(dir)?;
        let path = dir.join(CHECKPOINT_FILE);
        let bytes = outdir::read_file(dir, CHECKPOINT_FILE, CHECKPOINT_MAX).with_context(|| {
            format!(
                "reading {} (is this a `train --out` directory?)",
                path.display()
            )
        })?;
        let ckpt: Checkpoint = serde_json::from_slice(&bytes).map_err(|e| {
            let message = outdir::read::short_message(&e.to_string());
            anyhow::anyhow!("parsing {}: {message}", path.display())
        })?;
        if ckpt.history.epochs.is_empty() {
            anyhow::bail!("{} holds no completed epoch", path.display());
        }
        Ok(ckpt)
    }
}

/// The lock of the run's output folder (`--out` or `--resume`), taken before anything else is
/// done; the folder is checked first ([`outdir::lock`]).
pub(super) fn lock_out(args: &TrainArgs) -> anyhow::Result<Option<DirLock>> {
    let (dir, access) = match (&args.out, &args.resume) {
        (Some(dir), _) if args.out_force => (dir, Access::WriteForce),
        (Some(dir), _) => (dir, Access::Write),
        (None, Some(dir)) => (dir, Access::Resume),
        (None, None) => return Ok(None),
    };
    Ok(Some(outdir::lock(dir, access)?))
}
