//! The fit's inputs checked against the model (shapes, classes, label ranges, finiteness)
//! and the validation rows put in place on the model's device.

use burn::tensor::{DType, Device, Int, Tensor};

use super::setup::chunking;
use crate::data::{BatchSource, LabeledData};
use crate::error::{NgmnnError, Result};
use crate::linalg::scalar;
use crate::model::Ngmnn;
use crate::solve::adaptive_weights::MIN_SAMPLES;
use crate::train::ClosedFormConfig;
use crate::train::rows::{Rows, Shard};
use crate::train::training::Validation;

/// `valid` checked against the model and resident (or streamed) on the model's device.
pub(super) fn validation_rows(
    config: &ClosedFormConfig,
    model: &Ngmnn,
    valid: Validation<'_>,
) -> Result<Option<Rows>> {
    let (device, dtype) = (model.decision.weight.device(), config.precision.dtype());
    let chunk = chunking(config, model).0;
    Ok(match valid {
        Validation::None => None,
        Validation::Rows(data) => {
            check_data(model, data, "validation")?;
            Some(resident(data, &device, dtype, chunk))
        }
        Validation::Stream(source) => Some(stream_rows(config, model, source)?),
        Validation::Tensors { x, labels } => Some(Rows::Resident {
            shards: vec![tensor_shard(config, model, x, labels, "validation")?.0],
            cache_top: false,
        }),
    })
}

/// Device tensors checked against the model ([`check_tensors`]) as one shard in the fit's
/// precision, with their per-class counts.
pub(super) fn tensor_shard(
    config: &ClosedFormConfig,
    model: &Ngmnn,
    x: Tensor<2>,
    labels: Tensor<1, Int>,
    what: &str,
) -> Result<(Shard, Vec<usize>)> {
    let counts = check_tensors(model, &x, &labels, what)?;
    let dtype = config.precision.dtype();
    let y = labels
        .clone()
        .one_hot::<2>(model.n_classes())
        .float()
        .cast(dtype);
    let shard = Shard::new(0, x.cast(dtype), y, labels, chunking(config, model).0);
    Ok((shard, counts))
}

/// A source checked against the model ([`check_source`]), read in passes on the model's device.
pub(super) fn stream_rows(
    config: &ClosedFormConfig,
    model: &Ngmnn,
    source: Box<dyn BatchSource>,
) -> Result<Rows> {
    check_source(model, source.as_ref())?;
    let (device, dtype) = (model.decision.weight.device(), config.precision.dtype());
    let chunk = chunking(config, model).0;
    Ok(Rows::streamed(
        source,
        model.n_classes(),
        device,
        dtype,
        chunk,
    ))
}

/// A source's features and classes fit the model.
fn check_source(model: &Ngmnn, source: &dyn BatchSource) -> Result<()> {
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
    Ok(())
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
pub(super) fn check_classes(counts: &[usize], n: usize, name: Option<&str>) -> Result<()> {
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
