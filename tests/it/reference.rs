//! Reference accuracies on the real datasets (spec §6), `paper` preset, reference hidden
//! widths, seeded stratified 70/30 splits, 3 seeds (split and initialisation), data as given
//! (no scaling: umist stays raw 0-255 pixels). The reference figures are best-epoch test
//! accuracies in float64; the thresholds are the ones the core issue sets.

use crate::common;

use common::*;
use ngmnn::data::load_mat;
use ngmnn::model::NgmnnConfig;
use ngmnn::train::ClosedFormConfig;

const SEEDS: [u64; 3] = [0, 1, 2];
const EPOCHS: usize = 20;

/// Mean over the seeds of the best-epoch test accuracy, and the per-seed figures.
fn mean_best_accuracy(file: &str, hidden: &[usize]) -> (f64, Vec<f64>) {
    let device = device();
    let data = load_mat(&crate_data(file)).unwrap();
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
        let ds = load_mat(&crate_data(file)).unwrap();
        assert_eq!((ds.n(), ds.d(), ds.n_classes()), (n, d, c), "{file}");
    }
    let umist = load_mat(&crate_data("umist.mat")).unwrap();
    assert!(
        umist.features().iter().any(|&v| v > 1.0),
        "umist stays raw 0-255"
    );
}

/// The paper preset at large n (spec §2's figures): the first 12000 MNIST training images
/// scaled to [0, 1] (the slice shipped in `data/`), widths [784, 64, 32, 10], f32, 3 epochs,
/// tested on the first 2000 t10k images. At n = 15000 the authors' code reaches 0.756 / 0.408 /
/// 0.807; before the fix of the softmax targets' repair (values below 1e-4 were clamped, and
/// with n > 10^4 nearly all are) ngmnn stayed at chance there and here.
#[test]
fn reference_mnist_12000_paper_preset_learns() {
    use ngmnn::Precision;
    use ngmnn::data::{LabeledData, load_idx_dir};
    let device = device();
    let (all, test) = load_idx_dir(&crate_data("mnist-slice")).unwrap();
    let scaled = |d: &LabeledData, n: usize| {
        let x = d.features()[..n * d.d()]
            .iter()
            .map(|v| v / 255.0)
            .collect();
        LabeledData::new(
            "mnist",
            x,
            d.labels()[..n].to_vec(),
            d.d(),
            d.classes().to_vec(),
        )
        .unwrap()
    };
    let train = scaled(&all, 12000);
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
    println!("mnist 12000 [64, 32] paper f32: test acc per epoch {accs:?}");
    // Like the reference (0.78-0.81 after epoch 3 at n = 15000, torch seeds 0-2) the third
    // epoch is the good one: 0.74 here (seeds 1-3: 0.72, 0.74, 0.69). With the clamp: 0.30.
    assert!(
        accs[2] >= 0.6,
        "the reference reaches ~0.8 after epoch 3: {accs:?}"
    );
    // The cause: with a clamp most hidden targets sat at the clip; the repair replaces none.
    let saturated = &history.epochs[2].saturated_targets;
    assert!(saturated.iter().all(|&s| s < 0.01), "{saturated:?}");
}
