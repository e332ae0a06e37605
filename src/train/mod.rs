//! Training: the closed-form NGMNN trainer (spec §4), its configuration and its history.

mod closed_form;
mod config;
mod history;
mod rows;

pub use closed_form::{ClosedForm, ClosedFormFit};
#[cfg(feature = "train")]
pub(crate) use closed_form::{accuracy, check_data};
pub use config::{ClosedFormConfig, Preset};
pub use history::{EpochRecord, History};
