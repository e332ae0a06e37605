//! Activations and their inverses; the backward targets (spec §2) and the forward pass.

mod common;

use burn::tensor::{DType, Tensor, TensorData};
use common::*;
use faer::Mat;
use ngmnn::model::{Activation, NgmnnConfig, row_normalize};
use ngmnn::solve::{TargetMap, backward_step, backward_targets};

const SOFTMAX: TargetMap = TargetMap::ColumnSoftmax;

const CLIP: f64 = 1e-4;

#[test]
fn inverse_undoes_forward_on_the_clipped_range() {
    let device = device();
    for act in [Activation::Sigmoid, Activation::Tanh] {
        // Pre-activations whose images stay inside [CLIP, 1 - CLIP] (sigmoid) / (-1, 1) (tanh).
        let z: Vec<f64> = (0..181).map(|i| -9.0 + 0.1 * i as f64).collect();
        let z = match act {
            Activation::Sigmoid => z,
            Activation::Tanh => z.into_iter().map(|v| v / 2.5).collect(),
        };
        let zt =
            Tensor::<1>::from_data(TensorData::new(z.clone(), [z.len()]), (&device, DType::F64));
        let back = host_vec(act.inverse(act.forward(zt)));
        for (a, b) in z.iter().zip(&back) {
            assert!((a - b).abs() < 1e-9, "{act}: {a} -> {b}");
        }
        for &v in &z {
            assert!((act.inverse_scalar(act.forward_scalar(v)) - v).abs() < 1e-9);
        }
    }
}

#[test]
fn logit_matches_the_closed_form() {
    let device = device();
    let h = [CLIP, 0.25, 0.5, 0.9, 1.0 - CLIP];
    let t = Tensor::<1>::from_data(TensorData::new(h.to_vec(), [5]), (&device, DType::F64));
    let got = host_vec(Activation::Sigmoid.inverse(t));
    for (g, v) in got.iter().zip(h) {
        assert!((g - (v / (1.0 - v)).ln()).abs() < 1e-12);
    }
}

#[test]
fn backward_targets_are_finite_and_inside_the_clipped_logit_range() {
    let device = device();
    let model = NgmnnConfig::new(20, vec![16, 8], 5)
        .with_seed(3)
        .init(&device)
        .unwrap();
    let params = model.layer_params();
    let (y, _) = one_hot(300, 5, 4);
    let y = tensor(&y, &device, DType::F32);
    let t = host(backward_targets(
        y.clone(),
        &params[1..],
        Activation::Sigmoid,
        SOFTMAX,
        CLIP,
    ));
    assert_eq!((t.nrows(), t.ncols()), (300, 16));
    let (lo, hi) = ((CLIP / (1.0 - CLIP)).ln(), ((1.0 - CLIP) / CLIP).ln());
    for j in 0..t.ncols() {
        for i in 0..t.nrows() {
            let v = t[(i, j)];
            assert!(
                v.is_finite() && v >= lo - 1e-4 && v <= hi + 1e-4,
                "target {v}"
            );
        }
    }
    // Walking down step by step is the same as the whole walk.
    let stepwise = backward_step(
        backward_step(y, &params[2], Activation::Sigmoid, SOFTMAX, CLIP),
        &params[1],
        Activation::Sigmoid,
        SOFTMAX,
        CLIP,
    );
    assert!(max_diff(&host(stepwise), &t) < 1e-6);
}

#[test]
fn backward_step_applies_column_softmax_then_logit() {
    let device = device();
    // One layer with W = I, b = 0: targets are logit(clip(softmax over samples of latent)).
    let latent = Mat::from_fn(4, 2, |i, j| (i as f64) * (j as f64 + 1.0) * 0.5);
    let layer = ngmnn::model::LayerParams {
        w: Tensor::<2>::eye(2, &device).cast(DType::F64),
        b: Tensor::<1>::zeros([2], (&device, DType::F64)),
    };
    let got = host(backward_step(
        tensor(&latent, &device, DType::F64),
        &layer,
        Activation::Sigmoid,
        SOFTMAX,
        CLIP,
    ));
    for j in 0..2 {
        let denom: f64 = (0..4).map(|i| latent[(i, j)].exp()).sum();
        for i in 0..4 {
            let s = (latent[(i, j)].exp() / denom).clamp(CLIP, 1.0 - CLIP);
            assert!((got[(i, j)] - (s / (1.0 - s)).ln()).abs() < 1e-12);
        }
    }
}

#[test]
fn forward_rows_are_unit_norm_and_predictions_are_argmax() {
    let device = device();
    let model = NgmnnConfig::new(6, vec![8], 3).init(&device).unwrap();
    let x = tensor(&random_mat(10, 6, 9), &device, DType::F32);
    let out = host(model.forward(x.clone()));
    for i in 0..10 {
        let norm: f64 = (0..3).map(|j| out[(i, j)].powi(2)).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
    }
    let pred = model
        .predict(x)
        .into_data()
        .try_into_vec_as::<i64>()
        .unwrap();
    for (i, &p) in pred.iter().enumerate() {
        let best = (0..3)
            .max_by(|&a, &b| out[(i, a)].total_cmp(&out[(i, b)]))
            .unwrap();
        assert_eq!(p as usize, best);
    }
    let zero = host(row_normalize(Tensor::<2>::zeros([1, 3], &device)));
    assert!(
        zero.norm_max() == 0.0,
        "rownorm of a zero row stays zero (eps guard)"
    );
}
