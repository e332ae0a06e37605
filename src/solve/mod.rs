//! The method's closed-form sub-problems, one file each (spec §1-§3).
//!
//! * [`ridge`](mod@ridge): forward ridge regression of a hidden layer onto its targets (§1);
//!   [`class_ridge`](mod@class_ridge): the same onto class targets, once for every target
//!   matrix, in primal (`p x p`) or dual (`n x n`) form, with its ridge parameter fixed or
//!   chosen by generalised cross-validation ([`gamma_search`](mod@gamma_search));
//! * [`backward_targets`](mod@backward_targets): the low-rank backward approximation that produces those targets (§2);
//! * the decision layer (§3), an adaptive SVM on the flexible Stiefel manifold, by block
//!   coordinate descent over [`slack`](mod@slack) (A), [`adaptive_weights`](mod@adaptive_weights) (B) and [`stiefel`] (C),
//!   driven by [`decision_layer`](mod@decision_layer).
//!
//! Every solve reads the data only through sums over samples ([`moments`]), so the same code
//! serves in-memory, streamed and sharded fits.
//!
//! Big products run as Burn tensor ops on the inputs' device and dtype; the small `d x d`
//! factorisations run on the host in f64 ([`crate::linalg`]).

pub mod adaptive_weights;
pub mod backward_targets;
pub mod class_ridge;
pub mod decision_layer;
pub mod gamma_search;
pub mod moments;
pub mod random_features;
pub mod ridge;
pub mod slack;
pub mod stiefel;
