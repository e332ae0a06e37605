//! The shortest complete use: a classifier trained in closed form (no gradients) and applied
//! to new rows. `cargo run --release --example quickstart`
use ngmnn::metrics::{accuracy, macro_f1};
use ngmnn::prelude::*;

fn main() -> Result<()> {
    let device = BackendKind::Flex.device()?;
    // The built-in 8x8 digits (1797 images, 10 classes), a seeded stratified 70/30 split.
    let (train, test) = ngmnn::data::digits().stratified_split(0.3, 0)?;
    // `broad`: a frozen random layer of 2048 units, a learned layer of 64, the decision layer.
    let model = NgmnnConfig::new(train.d(), vec![2048, 64], train.n_classes()).init(&device)?;
    // Images: every random unit sees a random rectangle of the pixels (as `ngmnn train` does).
    let config = ClosedFormConfig::new()
        .with_epochs(20)
        .with_image_shape(train.image_shape());
    let (model, history) = config.init()?.fit(model, &train, Some(&test))?;
    let seconds = history.total_seconds();
    println!("{} epochs in {seconds:.2} s", history.epochs.len());
    let predicted = model.predict_dataset(&test)?;
    let acc = accuracy(&predicted, test.labels());
    let f1 = macro_f1(&predicted, test.labels(), test.n_classes());
    println!("test accuracy {acc:.4}, macro-F1 {f1:.4}");
    Ok(())
}
