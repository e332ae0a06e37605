//! Swap gradient descent for the closed form in a burn-train set-up: one builder line.
//!
//! The same `SupervisedTraining` (data loaders, accuracy and loss metrics, checkpoints,
//! renderer) trains the same `Ngmnn` twice on the built-in digits: first with Adam through
//! Burn autodiff, then with the closed-form strategy. Only `.with_training_strategy(..)`
//! differs.
//!
//! ```text
//! cargo run --release --example swap_optimizer
//! ```

use burn::optim::AdamConfig;
use burn::train::metric::{AccuracyMetric, LossMetric};
use burn::train::{Learner, SupervisedTraining};
use ngmnn::learner::{ClosedFormStrategy, accuracy_checkpointing, data_loader};
use ngmnn::metrics::accuracy;
use ngmnn::model::{Ngmnn, NgmnnConfig};
use ngmnn::train::ClosedFormConfig;
use ngmnn::{BackendKind, data};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // burn-train's stock Learner needs an autodiff device for gradient training.
    let device = BackendKind::default_compiled()
        .ok_or("no backend compiled in")?
        .device()?
        .autodiff();
    let (train, test) = data::digits().stratified_split(0.3, 0)?;
    let config = NgmnnConfig::new(train.d(), vec![64], train.n_classes()).with_seed(0);
    let dir = std::env::temp_dir().join("ngmnn-swap-optimizer");

    let setup = |name: &str| {
        SupervisedTraining::<Ngmnn>::new(
            dir.join(name),
            data_loader(&train, 64, Some(0), &device),
            data_loader(&test, 256, None, &device),
        )
        .metrics((AccuracyMetric::new(), LossMetric::new()))
        .with_default_checkpointers()
        .num_epochs(10)
        .summary()
    };
    let learner = || -> Result<_, ngmnn::NgmnnError> {
        Ok(Learner::new(
            config.init(&device)?,
            AdamConfig::new().init(),
            1e-2,
        ))
    };

    // Gradient descent (Adam), burn-train's default strategy. Taking the model out drops the
    // renderer, which leaves the terminal UI and prints the run's summary.
    let adam = setup("adam").launch(learner()?).model;

    // The closed form: the same set-up plus one line. (Its checkpoints keep the most accurate
    // epoch: the closed form does not minimise the Loss metric, burn-train's default criterion.)
    let strategy = ClosedFormStrategy::new(ClosedFormConfig::paper());
    let handle = strategy.handle();
    let closed = setup("closed-form")
        .with_checkpointing_strategy(accuracy_checkpointing())
        .with_training_strategy(strategy.into())
        .launch(learner()?)
        .model;
    if let Some(error) = handle.take_error() {
        return Err(error.into());
    }

    for (name, model) in [("adam", &adam), ("closed form", &closed)] {
        let pred = model.predict_dataset(&test)?;
        println!(
            "{name:>12}: test accuracy {:.4}",
            accuracy(&pred, test.labels())
        );
    }
    println!("metric logs and checkpoints: {}", dir.display());
    Ok(())
}
