//! The same closed-form fit on every backend compiled in: time per epoch, test accuracy, and
//! the largest difference in the model's outputs (and the share of differing predictions)
//! against the first backend.
//!
//! ```text
//! cargo run --release --example backend_comparison
//! ```

use burn::tensor::DType;
use ngmnn::model::NgmnnConfig;
use ngmnn::train::ClosedFormConfig;
use ngmnn::{BackendKind, data};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (train, test) = data::digits().stratified_split(0.3, 0)?;
    let config = NgmnnConfig::new(train.d(), vec![64], train.n_classes());
    let trainer = ClosedFormConfig::paper().with_epochs(10).init()?;
    let mut reference: Option<(String, Vec<f64>, Vec<usize>)> = None;
    println!(
        "| backend | s/epoch | setup s | test acc | max output diff | predictions differing |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for kind in BackendKind::compiled() {
        let device = kind.device()?;
        let (model, history) = trainer.fit(config.init(&device)?, &train, Some(&test))?;
        let x = test.features_tensor(&device, DType::F32);
        let scores: Vec<f64> = model
            .forward(x)
            .into_data()
            .try_into_vec_as::<f64>()
            .map_err(|e| format!("{e:?}"))?;
        let pred = model.predict_dataset(&test)?;
        let per_epoch = history.epochs.iter().map(|r| r.seconds).sum::<f64>() / 10.0;
        let acc = history.last().and_then(|r| r.valid_acc).unwrap_or(f64::NAN);
        let (diff, differing) = match &reference {
            None => ("-".to_string(), "-".to_string()),
            Some((name, s, p)) => {
                let d = s
                    .iter()
                    .zip(&scores)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max);
                let n = p.iter().zip(&pred).filter(|(a, b)| a != b).count();
                (
                    format!("{d:.2e} (vs {name})"),
                    format!("{n} / {}", pred.len()),
                )
            }
        };
        println!(
            "| {} | {per_epoch:.4} | {:.4} | {acc:.4} | {diff} | {differing} |",
            kind.name(),
            history.setup_seconds
        );
        if reference.is_none() {
            reference = Some((kind.name().to_string(), scores, pred));
        }
    }
    Ok(())
}
