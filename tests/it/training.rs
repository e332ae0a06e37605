//! The closed-form trainer end to end on the built-in digits set.

use crate::common;

use common::*;
use ngmnn::NgmnnError;
use ngmnn::Precision;
use ngmnn::data::{LabeledData, digits};
use ngmnn::model::NgmnnConfig;
use ngmnn::train::{ClosedFormConfig, Preset};

fn split() -> (LabeledData, LabeledData) {
    digits().stratified_split(0.3, 0).unwrap()
}

#[test]
fn fit_learns_the_builtin_digits() {
    let device = device();
    let (train, test) = split();
    let model = NgmnnConfig::new(64, vec![64], 10).init(&device).unwrap();
    let trainer = ClosedFormConfig::paper().with_epochs(6).init().unwrap();
    let (model, history) = trainer.fit(model, &train, Some(&test)).unwrap();
    assert_eq!(history.epochs.len(), 6);
    let best = history.best_valid().unwrap();
    assert!(
        best.valid_acc.unwrap() > 0.9,
        "best test accuracy {:?}",
        best.valid_acc
    );
    for r in &history.epochs {
        assert!(r.decision_objectives.iter().all(|o| o.is_finite()));
        assert_eq!(r.ridge_objectives.len(), 1);
        assert!(r.ridge_objectives[0].is_finite() && r.ridge_objectives[0] > -1e-6);
        assert!(!r.decision_objectives.is_empty() && r.decision_objectives.len() <= 4);
    }
    // The returned module computes what the fit measured.
    let pred = model.predict(test.features_tensor(&device, burn::tensor::DType::F32));
    let pred: Vec<i64> = pred.into_data().try_into_vec_as::<i64>().unwrap();
    let pred: Vec<usize> = pred.into_iter().map(|p| p as usize).collect();
    let acc = ngmnn::metrics::accuracy(&pred, test.labels());
    let last = history.last().unwrap().valid_acc.unwrap();
    assert!(
        (acc - last).abs() <= 2.0 / test.n() as f64,
        "module {acc} vs fit {last}"
    );
}

#[test]
fn fit_keeps_parameter_ids() {
    let device = device();
    let (train, _) = split();
    let model = NgmnnConfig::new(64, vec![16], 10).init(&device).unwrap();
    let id = model.decision.weight.id;
    let before = host(model.decision.weight.val());
    let trainer = ClosedFormConfig::paper().with_epochs(1).init().unwrap();
    let (fitted, _) = trainer.fit(model, &train, None).unwrap();
    assert_eq!(fitted.decision.weight.id, id);
    let after = host(fitted.decision.weight.val());
    assert!(
        max_diff(&after, &before) > 1e-3,
        "the fit changed the weights"
    );
}

#[test]
fn fit_is_deterministic_for_a_seed() {
    let device = device();
    let (train, _) = split();
    let run = || {
        let model = NgmnnConfig::new(64, vec![32], 10)
            .with_seed(5)
            .init(&device)
            .unwrap();
        let trainer = ClosedFormConfig::paper().with_epochs(2).init().unwrap();
        let (m, _) = trainer.fit(model, &train, None).unwrap();
        m.layer_params()
            .into_iter()
            .map(|p| host(p.w))
            .collect::<Vec<_>>()
    };
    let (a, b) = (run(), run());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(max_diff(x, y), 0.0);
    }
}

#[test]
fn fit_in_f32_and_f64_and_both_presets_learn() {
    let device = device();
    let (train, test) = split();
    for (precision, preset) in [
        (Precision::F32, Preset::Paper),
        (Precision::F64, Preset::Corrected),
    ] {
        let model = NgmnnConfig::new(64, vec![64], 10).init(&device).unwrap();
        let trainer = ClosedFormConfig::paper()
            .with_epochs(4)
            .with_precision(precision)
            .with_preset(preset)
            .init()
            .unwrap();
        let (_, history) = trainer.fit(model, &train, Some(&test)).unwrap();
        let best = history.best_valid().unwrap().valid_acc.unwrap();
        assert!(best > 0.85, "{precision} {preset}: {best}");
    }
}

#[test]
fn fit_rejects_data_that_does_not_fit_the_model() {
    let device = device();
    let (train, _) = split();
    let trainer = ClosedFormConfig::paper().with_epochs(1).init().unwrap();
    let wrong_d = NgmnnConfig::new(32, vec![16], 10).init(&device).unwrap();
    assert!(matches!(
        trainer.fit(wrong_d, &train, None),
        Err(NgmnnError::ShapeMismatch(_))
    ));
    let wrong_c = NgmnnConfig::new(64, vec![16], 12).init(&device).unwrap();
    assert!(matches!(
        trainer.fit(wrong_c, &train, None),
        Err(NgmnnError::ShapeMismatch(_))
    ));
    // One class only.
    let ones: Vec<usize> = (0..train.n()).filter(|&i| train.labels()[i] == 1).collect();
    let single = train.subset(&ones, "ones");
    let model = NgmnnConfig::new(64, vec![16], 10).init(&device).unwrap();
    assert!(matches!(
        trainer.fit(model, &single, None),
        Err(NgmnnError::InvalidData { .. })
    ));
}

#[test]
fn patience_stops_after_the_best_validation_epoch_and_returns_its_model() {
    let device = device();
    let (train, test) = split();
    let model = NgmnnConfig::new(64, vec![64], 10).init(&device).unwrap();
    let trainer = ClosedFormConfig::paper()
        .with_epochs(40)
        .with_patience(Some(2))
        .init()
        .unwrap();
    let (model, history) = trainer.fit(model, &train, Some(&test)).unwrap();
    let best = history.best_valid().unwrap();
    // Stopped two epochs after the best one (or at the epoch limit).
    assert_eq!(history.epochs.len(), (best.epoch + 2).min(40));
    assert!(
        history.epochs.len() < 40,
        "never stopped: {:?}",
        history.epochs.len()
    );
    // The returned module is the best epoch's.
    let pred = model.predict_dataset(&test).unwrap();
    let acc = ngmnn::metrics::accuracy(&pred, test.labels());
    assert!(
        (acc - best.valid_acc.unwrap()).abs() <= 2.0 / test.n() as f64,
        "module {acc} vs best epoch {:?}",
        best.valid_acc
    );
    assert!(
        ClosedFormConfig::paper()
            .with_patience(Some(0))
            .check()
            .is_err()
    );
}

/// Hand-built modules are checked before a fit: a layer without bias would silently lose the
/// solved bias, a model without a hidden layer used to panic, a narrow last layer makes
/// `W^T S W = I` infeasible.
#[test]
fn hand_built_models_are_checked_before_a_fit() {
    use burn::nn::LinearConfig;
    use ngmnn::model::{Activation, Ngmnn};
    let device = common::device();
    let data = ngmnn::data::digits();
    let trainer = ngmnn::train::ClosedFormConfig::paper()
        .with_epochs(1)
        .init()
        .unwrap();
    let linear =
        |i: usize, o: usize, bias: bool| LinearConfig::new(i, o).with_bias(bias).init(&device);
    let cases = [
        (
            Ngmnn {
                hidden: vec![linear(64, 32, false)],
                decision: linear(32, 10, true),
                activation: Activation::Sigmoid,
            },
            "no bias",
        ),
        (
            Ngmnn {
                hidden: vec![],
                decision: linear(64, 10, true),
                activation: Activation::Sigmoid,
            },
            "no hidden layer",
        ),
        (
            Ngmnn {
                hidden: vec![linear(64, 8, true)],
                decision: linear(8, 10, true),
                activation: Activation::Sigmoid,
            },
            "n_classes",
        ),
        (
            Ngmnn {
                hidden: vec![linear(64, 32, true)],
                decision: linear(16, 10, true),
                activation: Activation::Sigmoid,
            },
            "takes 16 inputs",
        ),
    ];
    for (model, needle) in cases {
        let err = trainer.fit(model, &data, None).unwrap_err();
        assert!(
            matches!(err, ngmnn::NgmnnError::InvalidArchitecture(_))
                && err.to_string().contains(needle),
            "{needle}: {err}"
        );
    }
}
