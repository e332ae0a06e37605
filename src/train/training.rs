//! What a fit trains on and where its rows live, as data: the one argument of
//! [`ClosedForm::fit`](super::ClosedForm::fit) / [`ClosedForm::start`](super::ClosedForm::start)
//! that used to be five entry points (one device, shards, workers, a stream, tensors).
//!
//! ```text
//! Training::from(&train)                         rows in memory, on the model's device
//! Training::sharded(&train, &devices)            one contiguous shard per device (threads)
//! Training::on_workers(&train, &workers)         shards on named, possibly remote, workers
//! Training::stream(source)                      re-read in every pass, never held
//! Training::Tensors { x, labels }                device tensors (the burn-train strategy)
//! ```
//! Every placement gives the same fit up to rounding: the solves read the rows only through
//! merged moments (spec §1-§3).

use burn::tensor::{Device, Int, Tensor};

use super::Workers;
use crate::data::{BatchSource, LabeledData};

/// The training rows of a fit and their placement.
#[allow(
    clippy::large_enum_variant,
    reason = "built once per fit and moved once: boxing the tensors would buy nothing"
)]
pub enum Training<'a> {
    /// Rows in memory, uploaded once per fit to the placement's devices.
    Rows {
        /// The labelled rows.
        data: &'a LabeledData,
        /// Where they live during the fit.
        placement: Placement<'a>,
    },
    /// A re-readable source of batches: every pass reads it again, one batch at a time. Memory
    /// beyond one batch is `O(n)` scalars (per-sample losses and weights) plus the moments.
    Stream(Box<dyn BatchSource>),
    /// Device tensors: features `x` `[n, d]` (any float dtype; cast to the fit's precision) and
    /// class indices `labels` `[n]` in `0..model.n_classes()`.
    Tensors {
        /// Features `[n, d]`.
        x: Tensor<2>,
        /// Class indices `[n]`.
        labels: Tensor<1, Int>,
    },
}

/// Where in-memory training rows live during a fit.
pub enum Placement<'a> {
    /// On the model's device.
    ModelDevice,
    /// One contiguous shard per device (repeat a device to split its rows over several
    /// threads); every pass runs on all shards at once and their moments are merged on the
    /// host. The model and the validation data stay on the model's device.
    Devices(&'a [Device]),
    /// One shard per active worker, typically remote devices on other machines
    /// (`remote::connect_workers`, feature `remote`), each holding its rows resident. A remote
    /// worker lost mid-fit does not end the fit: its rows move to the first spare or are split
    /// over the remaining workers and the interrupted epoch is redone (the epoch's
    /// [`EpochRecord::recoveries`](super::EpochRecord::recoveries) says so); for that the fit
    /// keeps a host copy of the rows while it runs.
    Workers(&'a Workers),
}

impl<'a> Training<'a> {
    /// `data` split into one contiguous shard per device in `devices`.
    pub fn sharded(data: &'a LabeledData, devices: &'a [Device]) -> Self {
        Self::Rows {
            data,
            placement: Placement::Devices(devices),
        }
    }

    /// `data` split over `workers`, one shard per active worker.
    pub fn on_workers(data: &'a LabeledData, workers: &'a Workers) -> Self {
        Self::Rows {
            data,
            placement: Placement::Workers(workers),
        }
    }
}

impl Training<'static> {
    /// A source re-read in every pass ([`Training::Stream`]).
    pub fn stream(source: impl BatchSource + 'static) -> Self {
        Self::Stream(Box::new(source))
    }
}

impl<'a> From<&'a LabeledData> for Training<'a> {
    fn from(data: &'a LabeledData) -> Self {
        Self::Rows {
            data,
            placement: Placement::ModelDevice,
        }
    }
}

impl From<Box<dyn BatchSource>> for Training<'_> {
    fn from(source: Box<dyn BatchSource>) -> Self {
        Self::Stream(source)
    }
}

/// The rows a fit measures after every epoch (the history's `valid_acc`, the best epoch that
/// [`ClosedFormConfig::patience`](super::ClosedFormConfig::patience) keeps). They stay on the
/// model's device, whatever the training rows' placement.
#[allow(
    clippy::large_enum_variant,
    reason = "built once per fit and moved once: boxing the tensors would buy nothing"
)]
pub enum Validation<'a> {
    /// No validation.
    None,
    /// Rows in memory.
    Rows(&'a LabeledData),
    /// A re-readable source, read once per epoch.
    Stream(Box<dyn BatchSource>),
    /// Device tensors, as [`Training::Tensors`].
    Tensors {
        /// Features `[n, d]`.
        x: Tensor<2>,
        /// Class indices `[n]`.
        labels: Tensor<1, Int>,
    },
}

impl Validation<'static> {
    /// A source read once per epoch ([`Validation::Stream`]).
    pub fn stream(source: impl BatchSource + 'static) -> Self {
        Self::Stream(Box::new(source))
    }
}

impl<'a> From<Option<&'a LabeledData>> for Validation<'a> {
    fn from(data: Option<&'a LabeledData>) -> Self {
        data.map_or(Self::None, Self::Rows)
    }
}

impl<'a> From<&'a LabeledData> for Validation<'a> {
    fn from(data: &'a LabeledData) -> Self {
        Self::Rows(data)
    }
}

impl From<Box<dyn BatchSource>> for Validation<'_> {
    fn from(source: Box<dyn BatchSource>) -> Self {
        Self::Stream(source)
    }
}

impl std::fmt::Debug for Training<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rows { data, placement } => f
                .debug_struct("Rows")
                .field("data", &data.name())
                .field("n", &data.n())
                .field("placement", placement)
                .finish(),
            Self::Stream(source) => f.debug_tuple("Stream").field(&source.name()).finish(),
            Self::Tensors { x, .. } => f.debug_struct("Tensors").field("x", &x.dims()).finish(),
        }
    }
}

impl std::fmt::Debug for Placement<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ModelDevice => f.write_str("ModelDevice"),
            Self::Devices(devices) => f.debug_tuple("Devices").field(&devices.len()).finish(),
            Self::Workers(workers) => f
                .debug_tuple("Workers")
                .field(&workers.active().len())
                .finish(),
        }
    }
}

impl std::fmt::Debug for Validation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Rows(data) => f.debug_tuple("Rows").field(&data.name()).finish(),
            Self::Stream(source) => f.debug_tuple("Stream").field(&source.name()).finish(),
            Self::Tensors { x, .. } => f.debug_struct("Tensors").field("x", &x.dims()).finish(),
        }
    }
}
