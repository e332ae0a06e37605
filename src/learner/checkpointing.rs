//! A burn-train checkpointing policy for the closed form: keep the best validation accuracy.
//!
//! burn-train's default policy (`SupervisedTraining::new`) keeps the last two checkpoints and
//! the one with the lowest validation loss. The Loss metric of an [`crate::model::Ngmnn`] is
//! the cross-entropy of its scores, which the closed form does not minimise (its decision
//! layer is an SVM on the Stiefel manifold), so the lowest-loss epoch need not be the most
//! accurate one. [`accuracy_checkpointing`] keeps the last two and the most accurate.

use burn::train::checkpoint::{
    ComposedCheckpointingStrategy, KeepLastNCheckpoints, MetricCheckpointingStrategy,
};
use burn::train::metric::AccuracyMetric;
use burn::train::metric::store::{Aggregate, Direction, Split};

/// Keep the last two checkpoints and the one with the highest mean validation accuracy (needs
/// `AccuracyMetric` among the set-up's metrics). Install it with
/// `.with_checkpointing_strategy(accuracy_checkpointing())`.
pub fn accuracy_checkpointing() -> ComposedCheckpointingStrategy {
    ComposedCheckpointingStrategy::builder()
        .add(KeepLastNCheckpoints::new(2))
        .add(MetricCheckpointingStrategy::new(
            &AccuracyMetric::new(),
            Aggregate::Mean,
            Direction::Highest,
            Split::Valid,
        ))
        .build()
}
