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
            let trainer = ClosedFormConfig::paper()
                .with_epochs(EPOCHS)
                .init()
                .unwrap();
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
    // The authors' code in float64 (its own 70/30 split, torch seeds 0-2, 20 epochs) measured
    // 0.813 / 0.858 / 0.816 best-epoch (mean 0.829) beside this suite; ngmnn's mean is 0.824.
    // (0.84 held only while the softmax targets were clamped at 1e-4, unlike the reference.)
    assert!(mean >= 0.80, "waveform: {mean} {per_seed:?}");
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

/// The paper preset at large n (spec §2's figures): the first 15000 MNIST training images
/// scaled to [0, 1], widths [784, 64, 32, 10], f32, 3 epochs, tested on t10k. The authors'
/// code reaches 0.756 / 0.408 / 0.807 there; before the fix of the softmax targets' repair
/// (values below the clip were clamped) ngmnn stayed at chance (0.103 / 0.098 / 0.089).
#[test]
fn reference_mnist_15000_paper_preset_learns() {
    use ngmnn::Precision;
    use ngmnn::data::{Dataset, load_idx_dir};
    let device = device();
    let (all, test) = load_idx_dir(&shared_data("mnist")).unwrap();
    let scaled = |d: &Dataset, n: usize| {
        let x = d.features()[..n * d.d()]
            .iter()
            .map(|v| v / 255.0)
            .collect();
        Dataset::new(
            "mnist",
            x,
            d.labels()[..n].to_vec(),
            d.d(),
            d.classes().to_vec(),
        )
        .unwrap()
    };
    let train = scaled(&all, 15000);
    let test = test.unwrap();
    let test = scaled(&test, test.n());
    let model = NgmnnConfig::new(784, vec![64, 32], 10)
        .init(&device)
        .unwrap();
    let trainer = ClosedFormConfig::paper()
        .with_epochs(3)
        .with_precision(Precision::F32)
        .init()
        .unwrap();
    let (_, history) = trainer.fit(model, &train, Some(&test)).unwrap();
    let accs: Vec<f64> = history
        .epochs
        .iter()
        .map(|e| e.valid_acc.unwrap())
        .collect();
    println!("mnist 15000 [64, 32] paper f32: test acc per epoch {accs:?}");
    let best = accs.iter().cloned().fold(0.0, f64::max);
    assert!(
        best >= 0.70,
        "chance is 0.1; the reference's best is 0.807: {accs:?}"
    );
}
