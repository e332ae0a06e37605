//! The method's closed-form sub-problems, one file each (spec §1-§3).
//!
//! * [`ridge`]: forward ridge regression of a hidden layer onto its targets (§1);
//! * [`backward_targets`]: the low-rank backward approximation that produces those targets (§2);
//! * the decision layer (§3), an adaptive SVM on the flexible Stiefel manifold, by block
//!   coordinate descent over [`slack`] (A), [`adaptive_weights`] (B) and [`stiefel`] (C),
//!   driven by [`decision_layer`].
//!
//! Big products run as Burn tensor ops on the inputs' device and dtype; the small `d x d`
//! factorisations run on the host in f64 ([`crate::linalg`]).

pub mod adaptive_weights;
pub mod backward_targets;
pub mod decision_layer;
pub mod ridge;
pub mod slack;
pub mod stiefel;

pub use adaptive_weights::{AdaptiveWeights, AlphaIndex, adaptive_weights, simplex_weights};
pub use backward_targets::{TargetMap, backward_step, backward_step_counted, backward_targets};
pub use decision_layer::{DecisionOptions, DecisionOutcome, decision_layer, decision_objective};
pub use ridge::{RidgeSolution, RidgeSystem, ridge};
pub use slack::{slack, slack_targets};
pub use stiefel::stiefel_update;
