//! Gradient descent against the closed form on the same model: accuracy and time side by side.
//!
//! Trains one `Ngmnn` architecture from the same initial weights with the closed-form trainer,
//! SGD (momentum 0.9) and Adam on the built-in digits, and prints the comparison table: best
//! and final test accuracy, macro-F1, wall-clock seconds and the time each needs to reach the
//! closed-form trainer's final accuracy. `ngmnn compare` is the same on any data set.
//!
//! ```text
//! cargo run --release --example gradient_vs_closed_form
//! ```

use ngmnn::compare::{CompareConfig, compare};
use ngmnn::learner::{GradientConfig, OptimizerKind};
use ngmnn::model::NgmnnConfig;
use ngmnn::train::ClosedFormConfig;
use ngmnn::{BackendKind, data};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let backend = BackendKind::default_compiled().ok_or("no backend compiled in")?;
    let device = backend.device()?;
    let (train, test) = data::digits().stratified_split(0.3, 0)?;
    let model = NgmnnConfig::new(train.d(), vec![64], train.n_classes());
    let config = CompareConfig {
        ridge_readout: None,
        closed_form: Some(ClosedFormConfig::paper().with_epochs(20)),
        gradient: vec![
            GradientConfig::new().with_optimizer(OptimizerKind::Sgd),
            GradientConfig::new().with_optimizer(OptimizerKind::Adam),
        ],
        // Adam on a plain ReLU network of the same widths, beside the same-architecture runs.
        mlp: vec![GradientConfig::new().with_optimizer(OptimizerKind::Adam)],
        refine: Vec::new(),
        target: None,
    };
    let comparison = compare(
        &model,
        &train,
        &test,
        &device,
        backend.name(),
        &config,
        |run| eprintln!("{} done in {:.2} s", run.trainer, run.seconds),
    )?;
    print!("{}", comparison.markdown());
    Ok(())
}
