//! Starting a fit: the rows on their devices (resident, sharded, streamed or from tensors),
//! the checks of the data, the frozen random layer scaled to it, the lowest learned layer's
//! system and the first forward pass.

use std::borrow::Cow;

use burn::tensor::{DType, Device, Int, Tensor};
use faer::Mat;

use super::ClosedFormFit;
use super::recovery::{self, Recovery};
use crate::data::{BatchSource, LabeledData};
use crate::error::{NgmnnError, Result};
use crate::linalg::{from_host, from_host_vec, scalar, to_host, to_host_vec};
use crate::model::{LayerParams, Ngmnn};
use crate::solve::adaptive_weights::MIN_SAMPLES;
use crate::solve::moments::epsilon;
use crate::solve::{ClassRidge, RidgeForm};
use crate::train::rows::{Rows, Shard};
use crate::train::{ClosedFormConfig, Worker, Workers};

impl ClosedFormFit {
    /// Upload the data, factor layer 1's system and run the initial forward pass.
    ///
    /// # Errors
    /// As [`ClosedForm::fit`](super::ClosedForm::fit).
    pub fn new(
        config: ClosedFormConfig,
        model: &Ngmnn,
        train: &LabeledData,
        valid: Option<&LabeledData>,
    ) -> Result<Self> {
        Self::new_sharded(
            config,
            model,
            train,
            valid,
            &[model.decision.weight.device()],
        )
    }

    /// As [`ClosedFormFit::new`] with the training rows split over `devices` (see
    /// [`ClosedForm::fit_sharded`](super::ClosedForm::fit_sharded)).
    ///
    /// # Errors
    /// As [`ClosedForm::fit_sharded`](super::ClosedForm::fit_sharded).
    pub fn new_sharded(
        config: ClosedFormConfig,
        model: &Ngmnn,
        train: &LabeledData,
        valid: Option<&LabeledData>,
        devices: &[Device],
    ) -> Result<Self> {
        Self::on_workers(config, model, train, valid, &Workers::local(devices))
    }

    /// As [`ClosedFormFit::new`] with the training rows split over `workers` (see
    /// [`ClosedForm::fit_on_workers`](super::ClosedForm::fit_on_workers)). A remote worker
    /// lost during the setup is dropped and the setup starts again on the others.
    ///
    /// # Errors
    /// As [`ClosedForm::fit_on_workers`](super::ClosedForm::fit_on_workers).
    pub fn on_workers(
        config: ClosedFormConfig,
        model: &Ngmnn,
        train: &LabeledData,
        valid: Option<&LabeledData>,
        workers: &Workers,
    ) -> Result<Self> {
        let mut workers = workers.clone();
        let mut events = Vec::new();
        loop {
            match Self::sharded_once(config.clone(), model, train, valid, &workers) {
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

    /// [`ClosedFormFit::on_workers`]'s setup on `workers`, without recovery.
    fn sharded_once(
        config: ClosedFormConfig,
        model: &Ngmnn,
        train: &LabeledData,
        valid: Option<&LabeledData>,
        workers: &Workers,
    ) -> Result<Self> {
        let (timeout, workers) = (workers.timeout(), workers.active());
        config.check()?;
        check_data(model, train, "training")?;
        if let Some(v) = valid {
            check_data(model, v, "validation")?;
        }
        check_classes(&train.class_counts(), train.n(), Some(train.name()))?;
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
        let valid = valid.map(|v| resident(v, &model.decision.weight.device(), dtype, chunks.0));
        let rows = Rows::Resident {
            shards,
            cache_top: true,
        };
        Self::from_rows(config, model, rows, valid, train.class_counts())
    }

    /// As [`ClosedFormFit::new`] from device tensors: features `x` `[n, d]` (any float dtype;
    /// cast to the fit's precision) and class indices `labels` `[n]` in `0..model.n_classes()`.
    /// Used by the burn-train strategy, whose data arrives as batches of tensors.
    ///
    /// # Errors
    /// [`NgmnnError::ShapeMismatch`] if the shapes do not fit the model,
    /// [`NgmnnError::InvalidData`] for labels out of range, fewer than two classes or too few
    /// samples, [`NgmnnError::NonFinite`] for NaN or infinite features, and the solvers' errors.
    pub fn from_tensors(
        config: ClosedFormConfig,
        model: &Ngmnn,
        x: Tensor<2>,
        labels: Tensor<1, Int>,
        valid: Option<(Tensor<2>, Tensor<1, Int>)>,
    ) -> Result<Self> {
        config.check()?;
        let c = model.n_classes();
        let counts = check_tensors(model, &x, &labels, "training")?;
        if let Some((vx, vl)) = &valid {
            check_tensors(model, vx, vl, "validation")?;
        }
        check_classes(&counts, x.dims()[0], None)?;
        let dtype: DType = config.precision.dtype();
        let chunk = config.chunk_rows.unwrap_or_else(|| chunk_rows(model));
        let shard = |x: Tensor<2>, labels: Tensor<1, Int>| {
            let y = labels.clone().one_hot::<2>(c).float().cast(dtype);
            Shard::new(0, x.cast(dtype), y, labels, chunk)
        };
        let rows = Rows::Resident {
            shards: vec![shard(x, labels)],
            cache_top: true,
        };
        let valid = valid.map(|(vx, vl)| Rows::Resident {
            shards: vec![shard(vx, vl)],
            cache_top: false,
        });
        Self::from_rows(config, model, rows, valid, counts)
    }

    /// A fit that reads `train` (and `valid`) in passes (see [`ClosedForm::fit_stream`](super::ClosedForm::fit_stream)).
    ///
    /// # Errors
    /// As [`ClosedForm::fit_stream`](super::ClosedForm::fit_stream).
    pub fn streamed(
        config: ClosedFormConfig,
        model: &Ngmnn,
        train: Box<dyn BatchSource>,
        valid: Option<Box<dyn BatchSource>>,
    ) -> Result<Self> {
        config.check()?;
        for source in std::iter::once(&train).chain(valid.as_ref()) {
            if source.n_features() != model.d_input() || source.n_classes() > model.n_classes() {
                return Err(NgmnnError::ShapeMismatch(format!(
                    "source {}: {} features and {} classes for a model with {} inputs and {} classes",
                    source.name(),
                    source.n_features(),
                    source.n_classes(),
                    model.d_input(),
                    model.n_classes()
                )));
            }
        }
        let device = model.decision.weight.device();
        let dtype: DType = config.precision.dtype();
        let chunk = config.chunk_rows.unwrap_or_else(|| chunk_rows(model));
        let c = model.n_classes();
        let rows = Rows::streamed(train, c, device.clone(), dtype, chunk);
        let valid = valid.map(|v| Rows::streamed(v, c, device, dtype, chunk));
        Self::from_rows(config, model, rows, valid, Vec::new())
    }

    fn from_rows(
        config: ClosedFormConfig,
        model: &Ngmnn,
        rows: Rows,
        valid: Option<Rows>,
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
            valid,
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

/// A dataset resident on one device (validation data).
fn resident(data: &LabeledData, device: &Device, dtype: DType, chunk: usize) -> Rows {
    Rows::Resident {
        shards: vec![Shard::new(
            0,
            data.features_tensor(device, dtype),
            data.one_hot_tensor(device, dtype),
            data.labels_tensor(device),
            chunk,
        )],
        cache_top: false,
    }
}

/// At least two classes present and enough samples for the decision layer.
fn check_classes(counts: &[usize], n: usize, name: Option<&str>) -> Result<()> {
    let present = counts.iter().filter(|&&c| c > 0).count();
    if present < 2 {
        return Err(NgmnnError::data(
            name,
            format!("the training data holds {present} class(es): need at least 2"),
        ));
    }
    if n < MIN_SAMPLES {
        return Err(NgmnnError::data(
            name,
            format!("{n} training samples: the decision layer needs at least {MIN_SAMPLES}"),
        ));
    }
    Ok(())
}

/// Shapes, finiteness and label range of tensor data; returns the per-class counts.
fn check_tensors(
    model: &Ngmnn,
    x: &Tensor<2>,
    labels: &Tensor<1, Int>,
    what: &str,
) -> Result<Vec<usize>> {
    let [n, d] = x.dims();
    if d != model.d_input() || labels.dims()[0] != n {
        return Err(NgmnnError::ShapeMismatch(format!(
            "{what} data: features [{n}, {d}] and {} labels for a model with {} inputs",
            labels.dims()[0],
            model.d_input()
        )));
    }
    scalar(
        x.clone().cast(DType::F64).sum(),
        &format!("{what} features"),
    )?;
    let c = model.n_classes();
    let host = labels
        .clone()
        .into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .map_err(|e| NgmnnError::data(None, format!("{what} labels: {e:?}")))?;
    let mut counts = vec![0usize; c];
    for (i, &l) in host.iter().enumerate() {
        let k = usize::try_from(l).ok().filter(|&k| k < c).ok_or_else(|| {
            NgmnnError::data(
                None,
                format!("{what} label {l} at row {i} is outside 0..{c} (the model's classes)"),
            )
        })?;
        counts[k] += 1;
    }
    Ok(counts)
}

pub(crate) fn check_data(model: &Ngmnn, data: &LabeledData, what: &str) -> Result<()> {
    if data.d() != model.d_input() {
        return Err(NgmnnError::ShapeMismatch(format!(
            "{what} data has {} features, the model expects {}",
            data.d(),
            model.d_input()
        )));
    }
    if data.n_classes() != model.n_classes() {
        return Err(NgmnnError::ShapeMismatch(format!(
            "{what} data has {} classes, the model has {} outputs",
            data.n_classes(),
            model.n_classes()
        )));
    }
    Ok(())
}
