//! The backend suite: on the backend under test (`cargo test-<backend>`, or
//! `NGMNN_TEST_BACKEND`), the solvers and a whole fit agree with the f64 CPU reference, and a
//! model saved on one backend predicts the same when loaded on another.
//!
//! Tolerances: CPU backends compute in f64 like the reference (agreement to ~1e-9); GPU
//! backends and libtorch are compared in f32, where solutions agree to ~1e-3 relative.

use crate::common;

use burn::tensor::DType;
use common::*;
use ngmnn::BackendKind;
use ngmnn::data::digits;
use ngmnn::model::{LayerParams, NgmnnConfig, SavedModel};
use ngmnn::solve::{decision_layer::decision_layer, ridge::ridge};
use ngmnn::train::ClosedFormConfig;

/// Precision the backend under test is checked in, and the tolerance that goes with it.
fn precision() -> (DType, f64) {
    match backend() {
        BackendKind::Flex | BackendKind::Ndarray => (DType::F64, 1e-9),
        _ => (DType::F32, 2e-3),
    }
}

fn fit_precision() -> ngmnn::Precision {
    if precision().0 == DType::F64 {
        ngmnn::Precision::F64
    } else {
        ngmnn::Precision::F32
    }
}

fn relative(a: &faer::Mat<f64>, b: &faer::Mat<f64>) -> f64 {
    max_diff(a, b) / b.norm_max().max(1e-12)
}

#[test]
fn ridge_matches_the_cpu_reference() {
    let (dtype, tol) = precision();
    let (dev, cpu) = (device(), reference_device());
    let h = row_normalized(&random_mat(300, 40, 1));
    let t = random_mat(300, 12, 2);
    let on = |d, dt| {
        host(
            ridge(&tensor(&h, d, dt), tensor(&t, d, dt), 0.3)
                .unwrap()
                .params
                .w,
        )
    };
    let err = relative(&on(&dev, dtype), &on(&cpu, DType::F64));
    assert!(
        err < tol,
        "{}: ridge W differs by {err:e} (tolerance {tol:e})",
        backend()
    );
}

#[test]
fn decision_layer_matches_the_cpu_reference() {
    let (dtype, tol) = precision();
    let (dev, cpu) = (device(), reference_device());
    let h = row_normalized(&random_mat(400, 24, 3));
    let (y, _) = one_hot(400, 6, 4);
    let w0 = random_mat(24, 6, 5);
    let solve = |d, dt| {
        let init = LayerParams {
            w: tensor(&w0, d, dt),
            b: tensor_vec(&[0.0; 6], d, dt),
        };
        let opts = ClosedFormConfig::paper().decision_options();
        decision_layer(&tensor(&h, d, dt), &tensor(&y, d, dt), &init, &opts)
            .unwrap()
            .w
    };
    let err = relative(&solve(&dev, dtype), &solve(&cpu, DType::F64));
    assert!(
        err < tol * 10.0,
        "{}: decision W differs by {err:e}",
        backend()
    );
}

#[test]
fn a_whole_fit_matches_the_cpu_reference() {
    let (dtype, _) = precision();
    let (train, test) = digits().stratified_split(0.3, 0).unwrap();
    let config = NgmnnConfig::new(train.d(), vec![32], train.n_classes()).with_seed(1);
    let trainer = ClosedFormConfig::paper()
        .with_epochs(3)
        .with_precision(fit_precision())
        .init()
        .unwrap();
    let fit = |d| {
        let (model, history) = trainer
            .fit(config.init(d).unwrap(), &train, Some(&test))
            .unwrap();
        (model.predict_dataset(&test).unwrap(), history)
    };
    let (dev, cpu) = (device(), reference_device());
    let (pred, history) = fit(&dev);
    let (reference, ref_history) = fit(&cpu);
    let differing = pred.iter().zip(&reference).filter(|(a, b)| a != b).count();
    let allowed = if dtype == DType::F64 {
        0
    } else {
        test.n() / 50
    };
    assert!(
        differing <= allowed,
        "{}: {differing} of {} test predictions differ from the CPU reference",
        backend(),
        test.n()
    );
    let (acc, ref_acc) = (
        history.last().unwrap().valid_acc.unwrap(),
        ref_history.last().unwrap().valid_acc.unwrap(),
    );
    assert!(
        (acc - ref_acc).abs() <= 0.02,
        "{}: accuracy {acc} vs {ref_acc}",
        backend()
    );
}

#[test]
fn saved_on_one_backend_loads_on_another() {
    let (train, test) = digits().stratified_split(0.3, 0).unwrap();
    let config = NgmnnConfig::new(train.d(), vec![32], train.n_classes()).with_seed(2);
    let trainer = ClosedFormConfig::paper()
        .with_epochs(2)
        .with_precision(fit_precision())
        .init()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (dev, cpu) = (device(), reference_device());
    for (from, to, name) in [(&dev, &cpu, "to-cpu"), (&cpu, &dev, "from-cpu")] {
        let (model, _) = trainer
            .fit(config.init(from).unwrap(), &train, None)
            .unwrap();
        let path = dir.path().join(name);
        SavedModel::new(config.clone(), train.classes().to_vec())
            .save(&model, &path)
            .unwrap();
        let (_, loaded) = SavedModel::load(&path, to).unwrap();
        let (a, b) = (
            model.predict_dataset(&test).unwrap(),
            loaded.predict_dataset(&test).unwrap(),
        );
        let differing = a.iter().zip(&b).filter(|(x, y)| x != y).count();
        // The saved f32 weights are the same bits; only the arithmetic differs.
        assert!(
            differing <= test.n() / 100,
            "{name}: {differing} predictions differ"
        );
    }
}
