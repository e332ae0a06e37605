//! Training: the closed-form NGMNN trainer (spec §4), its configuration and its history; the
//! ridge read-out baseline its learned layers are measured against.

mod closed_form;
mod config;
mod history;
mod preset;
mod profile;
mod rechunk;
mod ridge_readout;
mod rows;
mod training;
mod workers;

#[cfg(feature = "train")]
pub(crate) use closed_form::accuracy;
pub use closed_form::{ClosedForm, ClosedFormFit};
pub use config::{
    ClosedFormConfig, GAMMA_RANGE, GammaSelection, MAX_RANDOM_OFFSET, MAX_RANDOM_SCALE,
};
pub use history::{EpochRecord, History};
pub use preset::Preset;
pub use profile::StepProfile;
pub use ridge_readout::{RidgeReadout, RidgeReadoutConfig};
pub use training::{Placement, Training, Validation};
pub use workers::{DEFAULT_WORKER_TIMEOUT, Traffic, Worker, Workers, quiet_worker_panics};
