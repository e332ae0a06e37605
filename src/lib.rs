//! # ngmnn — Non-Gradient Manifold Neural Networks on Burn
//!
//! A fully connected classifier trained with closed-form solutions only (Zhang et al.,
//! arXiv 2106.07905): hidden layers by forward ridge regression onto targets pushed down from
//! the labels through the inverse activation, and a decision layer that is an adaptive SVM on
//! a flexible Stiefel manifold (`W^T S W = I`, solved by one SVD). The network is made of Burn
//! modules ([`burn::nn::Linear`]) and runs on any Burn device chosen at run time.
//!
//! The default trainer (`broad` preset) goes beyond the paper: a frozen first layer of random
//! units scaled to the data, the layers above learned in closed form (give it a wide first
//! layer and a learned one, e.g. `[1024, 64]`). `ClosedFormConfig::paper()` is the reference's
//! behaviour, quirks included.
//!
//! ```no_run
//! use ngmnn::{BackendKind, data, model::NgmnnConfig, train::ClosedFormConfig};
//!
//! let device = BackendKind::Flex.device()?;
//! let (train, test) = data::digits().stratified_split(0.3, 0)?;
//! let model = NgmnnConfig::new(train.d(), vec![1024, 64], train.n_classes()).init(&device)?;
//! let trainer = ClosedFormConfig::new().with_epochs(10).init()?;
//! let (model, history) = trainer.fit(model, &train, Some(&test))?;
//! println!("test accuracy {:?}", history.last().unwrap().valid_acc);
//! # let _ = model;
//! # Ok::<(), ngmnn::NgmnnError>(())
//! ```
//!
//! # Feature flags
//! - `flex` (default), `ndarray`, `wgpu`, `tch`, `cuda`: Burn backends.
//! - `train` (default): the burn-train strategy (`learner`), the SGD/Adam baseline and
//!   `compare`; `tui`: burn-train's terminal dashboard.
//! - `plot`: SVG plots (`plot`, `Comparison::plot`).
//! - `remote`: fits on workers over Burn's remote backend (`remote`).
//!
//! The `ngmnn` command-line tool is its own package (`ngmnn-cli`), so none of its dependencies
//! (clap, indicatif, ctrlc, anyhow) is in a library user's build.
//!
//! "spec §N" in the documentation refers to the specification shipped with the crate,
//! `docs/ngmnn-spec.md` (the method, its closed forms and the reference's quirks).
//!
//! Layout: [`model`] (the modules), [`solve`] (one file per closed-form sub-problem, spec
//! §1-§3), [`train`] (the training loop, spec §4), [`data`] (loaders, splits, the built-in
//! set), `learner` (burn-train, the gradient baseline), `compare`.
#![warn(missing_docs)]

pub mod backend;
pub mod choice;
#[cfg(feature = "train")]
pub mod compare;
pub mod data;
pub mod error;
#[cfg(feature = "train")]
pub mod learner;
/// Support: the device <-> host bridge and the small f64 factorisations (used by the solvers
/// and the tests; not a stable API).
#[doc(hidden)]
pub mod linalg;
/// Support: the memory estimates behind [`NgmnnError::OutOfMemory`] (not a stable API).
#[doc(hidden)]
pub mod memory;
pub mod metrics;
pub mod model;
#[cfg(feature = "plot")]
pub mod plot;
#[cfg(feature = "remote")]
pub mod remote;
/// Support: the command-line tool's report types (its JSON is the interface; not a stable
/// library API).
#[doc(hidden)]
pub mod report;
pub mod solve;
pub mod train;

pub use backend::{BackendKind, Precision};
/// The Burn version ngmnn is built on, so that users need not pin it themselves.
pub use burn;
pub use error::{NgmnnError, Result};

/// The README's Rust snippets, compiled (and the first one run) as doctests.
#[cfg(all(doctest, feature = "train"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The names most programs need: `use ngmnn::prelude::*;`.
pub mod prelude {
    pub use crate::backend::{BackendKind, Precision};
    pub use crate::data::LabeledData;
    pub use crate::error::{NgmnnError, Result};
    #[cfg(feature = "train")]
    pub use crate::learner::{ClosedFormStrategy, accuracy_checkpointing};
    pub use crate::model::{Activation, Ngmnn, NgmnnConfig, SavedModel};
    pub use crate::train::{ClosedForm, ClosedFormConfig, History, Preset, Training, Validation};
}
