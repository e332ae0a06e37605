//! Starting a fit: the rows on their devices (resident, sharded, streamed or from tensors),
//! the checks of the data, the frozen random layer scaled to it, the lowest learned layer's
//! system and the first forward pass.

use std::borrow::Cow;

use burn::tensor::DType;
use faer::Mat;

use super::ClosedFormFit;
use super::inputs::{check_classes, check_data, stream_rows, tensor_shard, validation_rows};
use super::recovery::{self, Recovery};
use crate::data::LabeledData;
use crate::error::{NgmnnError, Result};
use crate::linalg::{from_host, from_host_vec, to_host, to_host_vec};
use crate::model::{LayerParams, Ngmnn};
use crate::solve::class_ridge::{ClassRidge, RidgeForm};
use crate::solve::moments::epsilon;
use crate::train::rows::{Rows, Shard};
use crate::train::training::{Placement, Training, Validation};
use crate::train::{ClosedFormConfig, Worker, Workers};

impl ClosedFormFit {
    /// Check `train` and `valid` against the model, put the rows in place, scale the random
    /// layer (broad), set up the lowest learned layer's system and run the first forward pass.
    /// `config` is a checked one ([`ClosedForm::start`](super::ClosedForm::start)).
    ///
    /// # Errors
    /// As [`ClosedForm::fit`](super::ClosedForm::fit).
    pub(super) fn start(
        config: ClosedFormConfig,
        model: &Ngmnn,
        train: Training<'_>,
        valid: Validation<'_>,
    ) -> Result<Self> {
        let valid = validation_rows(&config, model, valid)?;
        let mut fit = match train {
            Training::Rows { data, placement } => {
                check_data(model, data, "training")?;
                check_classes(&data.class_counts(), data.n(), Some(data.name()))?;
                let workers = match placement {
                    Placement::ModelDevice => Workers::local(&[model.decision.weight.device()]),
                    Placement::Devices(devices) => Workers::local(devices),
                    Placement::Workers(workers) => workers.clone(),
                };
                Self::on_workers(config, model, data, workers)?
            }
            Training::Stream(source) => {
                let rows = stream_rows(&config, model, source)?;
                Self::from_rows(config, model, rows, Vec::new())?
            }
            Training::Tensors { x, labels } => {
                let n = x.dims()[0];
                let (shard, counts) = tensor_shard(&config, model, x, labels, "training")?;
                check_classes(&counts, n, None)?;
                let rows = Rows::Resident {
                    shards: vec![shard],
                    cache_top: true,
                };
                Self::from_rows(config, model, rows, counts)?
            }
        };
        fit.valid = valid;
        Ok(fit)
    }

    /// The setup with the training rows split over `workers`. A remote worker lost during the
    /// setup is dropped and the setup starts again on the others.
    fn on_workers(
        config: ClosedFormConfig,
        model: &Ngmnn,
        train: &LabeledData,
        mut workers: Workers,
    ) -> Result<Self> {
        let mut events = Vec::new();
        loop {
            match Self::sharded_once(config.clone(), model, train, &workers) {
                Err(NgmnnError::Worker { worker, reason }) if workers.any_remote() => {
                    if workers.lose(&worker).is_empty() {
                        return Err(NgmnnError::Worker {
                            worker,
                            reason: format!("{reason}; no worker is left to hold the rows"),
                        });
                    }
                    events.push(format!(
                        "worker {worker} lost during the setup ({}): the rows are sharded over {}",
                        recovery::first_line(&reason),
                        recovery::names(workers.active())
                    ));
                }
                Ok(mut fit) => {
                    if workers.any_remote() {
                        let chunks = chunking(&fit.config, model);
                        fit.recovery = Some(Recovery::new(train.clone(), workers, chunks, events));
                    }
                    return Ok(fit);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `on_workers`'s setup on `workers`, without recovery.
    fn sharded_once(
        config: ClosedFormConfig,
        model: &Ngmnn,
        train: &LabeledData,
        workers: &Workers,
    ) -> Result<Self> {
        let (timeout, workers) = (workers.timeout(), workers.active());
        if workers.is_empty() || workers.len() > train.n() {
            return Err(NgmnnError::config(
                "devices",
                workers.len(),
                "need at least 1 device and no more devices than training samples",
            ));
        }
        let dtype: DType = config.precision.dtype();
        let chunks = chunking(&config, model);
        let (n, parts) = (train.n(), workers.len());
        let shards = workers
            .iter()
            .enumerate()
            .map(|(i, worker)| {
                let rows = i * n / parts..(i + 1) * n / parts;
                upload_shard(train, rows, worker, timeout, dtype, chunks)
            })
            .collect();
        let rows = Rows::Resident {
            shards,
            cache_top: true,
        };
        Self::from_rows(config, model, rows, train.class_counts())
    }

    fn from_rows(
        config: ClosedFormConfig,
        model: &Ngmnn,
        rows: Rows,
        counts: Vec<usize>,
    ) -> Result<Self> {
        model.check()?;
        let dtype: DType = config.precision.dtype();
        let model_device = model.decision.weight.device();
        if !model_device.supports_dtype(dtype) {
            return Err(NgmnnError::config(
                "precision",
                config.precision,
                "the device has no such float type (Metal and many wgpu adapters have no f64): \
                 use precision f32",
            ));
        }
        let n_params = burn::module::Module::num_params(model) as u64;
        crate::memory::ensure_fits(
            crate::memory::fit_params_bytes(n_params, dtype.size()),
            config.memory_limit,
            &format!("the fit's {dtype:?} copy of the model's {n_params} parameters"),
            "narrow the hidden layers (--hidden), use precision f32, or raise --memory-limit",
        )?;
        let params: Vec<LayerParams> = model.layer_params().iter().map(|p| p.cast(dtype)).collect();
        let base = usize::from(config.random_first_layer());
        // Host copies of the learned layers (the backward steps read them); a frozen random
        // first layer has none (it is d x r: read only on the device).
        let host = params
            .iter()
            .enumerate()
            .map(|(l, p)| {
                if l < base {
                    return Ok((Mat::zeros(0, 0), Vec::new()));
                }
                Ok((
                    to_host(p.w.clone(), "initial weights")?,
                    to_host_vec(p.b.clone(), "initial bias")?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let device = model.decision.weight.device();
        if base == 1 && model.n_layers() < 3 {
            return Err(NgmnnError::config(
                "preset",
                config.preset,
                "broad needs at least two hidden layers: a wide random one and a learned one \
                 (e.g. hidden [1024, 64]); use preset paper for a single learned hidden layer",
            ));
        }
        let mut fit = Self {
            decision: config.decision_options(),
            config,
            activation: model.activation,
            device: device.clone(),
            dtype,
            rows,
            valid: None,
            counts,
            base,
            base_system: None,
            hidden_moments: Vec::new(),
            next_losses: None,
            params,
            host,
            best: None,
            recovery: None,
            projection: None,
            base_targets: None,
            passes: 0,
            steps: Default::default(),
            epoch: 0,
        };
        let form = fit.choose_base_form(model.n_classes())?;
        if base == 1 && !fit.config.keep_first_layer {
            fit.scale_random_layer()?;
        }
        // Pass 0: the lowest learned layer's moments (once per fit) and the first epoch's
        // statistics.
        let mut forwarded = fit.forward_pass(form == RidgeForm::Primal)?;
        if fit.counts.is_empty() {
            fit.counts = fit.rows.counts(model.n_classes())?;
            let n = fit.counts.iter().sum();
            check_classes(&fit.counts, n, None)?;
        }
        fit.base_system = Some(match form {
            RidgeForm::Primal => {
                let rule = fit.config.base_gamma_rule(epsilon(dtype));
                ClassRidge::from_moments_with(&forwarded.moments.remove(0), &rule)?
            }
            RidgeForm::Dual => fit.dual_system()?,
        });
        fit.hidden_moments = forwarded.moments;
        fit.next_losses = Some(forwarded.losses);
        if fit.config.proximal.is_none() && fit.config.projected_forward != Some(false) {
            let system = fit.base_system.as_ref().expect("set above");
            let (p, a) = system.projection();
            fit.projection = Some((
                from_host(p, &fit.device, dtype),
                from_host_vec(&a, &fit.device, dtype),
            ));
        }
        Ok(fit)
    }
}

/// Rows per chunk on a local device and on a remote worker: `config.chunk_rows` if set, else
/// [`chunk_rows`] locally and the whole shard on a worker (every chunk's moments are a read
/// over the network, so a worker computes its shard in one piece).
pub(crate) fn chunking(config: &ClosedFormConfig, model: &Ngmnn) -> (usize, usize) {
    (
        config.chunk_rows.unwrap_or_else(|| chunk_rows(model)),
        config.chunk_rows.unwrap_or(usize::MAX),
    )
}

/// The rows `range` of `train` resident on `worker`'s device in `dtype` (no host copy when
/// the range is the whole set), in chunks of `chunks.0` rows on a local device and
/// `chunks.1` on a remote worker, which names the shard.
pub(super) fn upload_shard(
    train: &LabeledData,
    range: std::ops::Range<usize>,
    worker: &Worker,
    timeout: std::time::Duration,
    dtype: DType,
    chunks: (usize, usize),
) -> Shard {
    let chunk = if worker.is_remote() {
        chunks.1
    } else {
        chunks.0
    };
    let part = if range == (0..train.n()) {
        Cow::Borrowed(train)
    } else {
        Cow::Owned(train.subset(&range.clone().collect::<Vec<_>>(), train.name()))
    };
    let device = &worker.device;
    Shard::new(
        range.start,
        part.features_tensor(device, dtype),
        part.one_hot_tensor(device, dtype),
        part.labels_tensor(device),
        chunk,
    )
    .on_worker(worker.is_remote().then(|| worker.name.clone()), timeout)
}

/// Elements per chunk of rows (see [`chunk_rows`]): 2^21, 8 MB in f32.
const CHUNK_ELEMENTS: usize = 1 << 21;

/// Rows per chunk for `model`: every pass works on chunks of at most this many rows, so that
/// its widest temporary (`[rows, widest layer + classes]`) holds about [`CHUNK_ELEMENTS`].
/// Measured on flex (2 cores): the element-wise work of a 100000 x 266 moment computation
/// took 0.43 s in one piece and 0.20-0.24 s in chunks of 2048-8192 rows, because large
/// temporaries are fresh memory (page faults) on every operation, small ones are reused.
fn chunk_rows(model: &Ngmnn) -> usize {
    let widest = model
        .layer_params()
        .iter()
        .map(|p| p.w.dims()[0])
        .max()
        .unwrap_or(1)
        + model.n_classes();
    // At least `widest` rows: a chunk's moments cost `2 rows widest^2` flops on the device and a
    // `widest^2` read and merge on the host, so fewer rows than that make the host work rival
    // the product (measured, MNIST, a random layer of 3072: setup 23.6 s with 680-row chunks).
    // At most 4096 rows: measured on flex (n = 10000, [H | Zt] 266 wide, f32), epochs took
    // 0.12-0.13 s in chunks of 7884 rows and 0.08-0.10 s in chunks of 2048-4096.
    (CHUNK_ELEMENTS / widest)
        .clamp(256, 4096)
        .max(widest.min(8192))
}
