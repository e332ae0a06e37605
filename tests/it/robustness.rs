//! Numerical robustness: near-singular systems are reported or handled, never NaN weights;
//! saturated backward targets are counted in the epoch record.

use crate::common;

use common::*;
use ngmnn::data::LabeledData;
use ngmnn::model::NgmnnConfig;
use ngmnn::solve::backward_targets::TargetMap;
use ngmnn::train::ClosedFormConfig;
use ngmnn::{NgmnnError, Precision};

/// Duplicated and constant features, d > n.
fn degenerate(n: usize) -> LabeledData {
    let base = random_mat(n, 5, 21);
    let d = 40;
    let x: Vec<f32> = (0..n)
        .flat_map(|i| (0..d).map(move |j| (i, j)))
        .map(|(i, j)| match j {
            0..5 => base[(i, j)] as f32,
            5..30 => base[(i, j % 5)] as f32 * 1000.0, // duplicated, badly scaled
            _ => 7.0,                                  // constant
        })
        .collect();
    let labels: Vec<String> = (0..n).map(|i| (i % 3).to_string()).collect();
    LabeledData::from_labels("degenerate", x, &labels, d).unwrap()
}

#[test]
fn near_singular_grams_give_finite_weights_or_a_typed_error() {
    let device = device();
    let data = degenerate(30);
    for precision in [Precision::F32, Precision::F64] {
        for gamma in [1e-12, 1e-6, 0.3] {
            let model = NgmnnConfig::new(40, vec![8], 3).init(&device).unwrap();
            let trainer = ClosedFormConfig::paper()
                .with_epochs(3)
                .with_gamma(Some(gamma))
                .with_precision(precision)
                .init()
                .unwrap();
            match trainer.fit(model, &data, None) {
                Ok((model, history)) => {
                    for p in model.layer_params() {
                        assert!(
                            host(p.w).norm_max().is_finite(),
                            "{precision} gamma {gamma}: NaN weights"
                        );
                        assert!(host_vec(p.b).iter().all(|v| v.is_finite()));
                    }
                    assert!(history.epochs.iter().all(|r| r.train_acc.is_finite()));
                }
                Err(NgmnnError::Numerical { .. } | NgmnnError::NonFinite(_)) => {}
                Err(other) => panic!("{precision} gamma {gamma}: unexpected {other:?}"),
            }
        }
    }
    // With the reference gamma in f64 the degenerate data trains.
    let model = NgmnnConfig::new(40, vec![8], 3).init(&device).unwrap();
    assert!(
        ClosedFormConfig::paper()
            .with_epochs(2)
            .init()
            .unwrap()
            .fit(model, &data, None)
            .is_ok()
    );
}

#[test]
fn saturated_targets_are_counted() {
    let device = device();
    // n = 12000 > 1/clip: the column softmax puts most targets at the clip bound.
    let n = 12_000;
    let base = random_mat(n, 6, 5);
    let x: Vec<f32> = (0..n)
        .flat_map(|i| (0..6).map(move |j| (i, j)))
        .map(|(i, j)| base[(i, j)] as f32)
        .collect();
    let labels: Vec<String> = (0..n).map(|i| (i % 10).to_string()).collect();
    let data = LabeledData::from_labels("big", x, &labels, 6).unwrap();
    let run = |targets| {
        let model = NgmnnConfig::new(6, vec![16], 10).init(&device).unwrap();
        let trainer = ClosedFormConfig::paper()
            .with_epochs(1)
            .with_targets(targets)
            .init()
            .unwrap();
        trainer.fit(model, &data, None).unwrap().1.epochs[0]
            .saturated_targets
            .clone()
    };
    let softmax = run(TargetMap::ColumnSoftmax);
    assert_eq!(softmax.len(), 1);
    // The reference's repair replaces only softmax values of exactly 0 or 1: at n = 12000 none
    // (a clamp into [1e-4, 1 - 1e-4] saturated 69% of them and collapsed the targets).
    assert!(softmax[0] < 0.01, "softmax saturation {softmax:?}");
    // Backward targets depend on the label only, so each column takes at most c = 10 values;
    // min-max puts the classes at the column's minimum and maximum on the bounds: ~2/c.
    let minmax = run(TargetMap::ColumnMinMax);
    assert!(
        minmax[0] > 0.15 && minmax[0] < 0.25,
        "min-max saturation {minmax:?}"
    );
    eprintln!("saturation: softmax {softmax:?}, minmax {minmax:?}");
}
