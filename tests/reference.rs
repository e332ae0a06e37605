//! Reference accuracies on the real datasets (spec §6), `paper` preset, reference hidden
//! widths, seeded stratified 70/30 splits, 3 seeds (split and initialisation), data as given
//! (no scaling: umist stays raw 0-255 pixels). The reference figures are best-epoch test
//! accuracies in float64; the thresholds are the ones the core issue sets.

mod common;

use common::*;
use ngmnn::data::load_mat;
use ngmnn::model::NgmnnConfig;
use ngmnn::train::ClosedFormConfig;

const SEEDS: [u64; 3] = [0, 1, 2];
const EPOCHS: usize = 20;

/// Mean over the seeds of the best-epoch test accuracy, and the per-seed figures.
fn mean_best_accuracy(file: &str, hidden: &[usize]) -> (f64, Vec<f64>) {
    let device = device();
    let data = load_mat(&shared_data(file)).unwrap();
    let per_seed: Vec<f64> = SEEDS
        .iter()
        .map(|&seed| {
            let (train, test) = data.stratified_split(0.3, seed).unwrap();
            let model = NgmnnConfig::new(data.d(), hidden.to_vec(), data.n_classes())
                .with_seed(seed)
                .init(&device)
                .unwrap();
            let trainer = ClosedFormConfig::new().with_epochs(EPOCHS).init().unwrap();
            let (_, history) = trainer.fit(model, &train, Some(&test)).unwrap();
            history.best_valid().unwrap().valid_acc.unwrap()
        })
        .collect();
    (
        per_seed.iter().sum::<f64>() / per_seed.len() as f64,
        per_seed,
    )
}

#[test]
fn reference_att40() {
    let (mean, per_seed) = mean_best_accuracy("att40.mat", &[64]);
    println!("att40 [64]: mean best-epoch test acc {mean:.4} {per_seed:?}");
    assert!(mean >= 0.92, "att40: {mean} {per_seed:?}");
}

#[test]
fn reference_umist_raw_pixels() {
    let (mean, per_seed) = mean_best_accuracy("umist.mat", &[64, 32]);
    println!("umist [64, 32]: mean best-epoch test acc {mean:.4} {per_seed:?}");
    assert!(mean >= 0.94, "umist: {mean} {per_seed:?}");
}

#[test]
fn reference_waveform() {
    let (mean, per_seed) = mean_best_accuracy("waveform.mat", &[10, 4]);
    println!("waveform [10, 4]: mean best-epoch test acc {mean:.4} {per_seed:?}");
    assert!(mean >= 0.84, "waveform: {mean} {per_seed:?}");
}

#[test]
fn reference_files_load_with_the_documented_shapes() {
    for (file, n, d, c) in [
        ("att40.mat", 400, 1024, 40),
        ("umist.mat", 575, 1024, 20),
        ("waveform.mat", 2746, 21, 3),
    ] {
        let ds = load_mat(&shared_data(file)).unwrap();
        assert_eq!((ds.n(), ds.d(), ds.n_classes()), (n, d, c), "{file}");
    }
    let umist = load_mat(&shared_data("umist.mat")).unwrap();
    assert!(
        umist.features().iter().any(|&v| v > 1.0),
        "umist stays raw 0-255"
    );
}
