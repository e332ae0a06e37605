//! Training: the closed-form NGMNN trainer (spec §4), its configuration and its history.

mod closed_form;
mod config;
mod history;
mod rows;

#[cfg(feature = "train")]
pub(crate) use closed_form::accuracy;
pub use closed_form::{ClosedForm, ClosedFormFit};
pub use config::{ClosedFormConfig, Preset};
pub use history::{EpochRecord, History};
