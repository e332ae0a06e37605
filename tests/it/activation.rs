//! Activations and their inverses; the backward targets (spec §2) and the forward pass.

use crate::common;

use burn::tensor::{DType, Tensor, TensorData};
use common::*;
use faer::Mat;
use ngmnn::model::{Activation, NgmnnConfig, row_normalize};
use ngmnn::solve::backward_targets::revise_latent;
use ngmnn::solve::backward_targets::{
    TargetMap, backward_step, backward_targets, class_backward_step,
};

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
fn backward_targets_are_finite_and_below_the_upper_logit_bound() {
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
    // The softmax's values lie in (0, 1): no upper clip engaged here, and values below the
    // clip are kept (the reference's repair only replaces 0 and 1), so only finiteness and
    // the upper bound hold.
    let hi = ((1.0 - CLIP) / CLIP).ln();
    for j in 0..t.ncols() {
        for i in 0..t.nrows() {
            let v = t[(i, j)];
            assert!(v.is_finite() && v <= hi + 1e-4, "target {v}");
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
    // One layer with W = I, b = 0: targets are logit(softmax over samples of latent).
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
            let s = revise_latent(latent[(i, j)].exp() / denom, CLIP);
            assert!((got[(i, j)] - (s / (1.0 - s)).ln()).abs() < 1e-12);
        }
    }
}

#[test]
fn revise_latent_replaces_only_zero_and_one() {
    // The authors' `revise_latent`: torch.where(s < 1, s, 1 - clip), then where(s > 0, s, clip).
    assert_eq!(revise_latent(0.0, CLIP), CLIP);
    assert_eq!(revise_latent(1.0, CLIP), 1.0 - CLIP);
    for s in [1e-300, 1e-6, 5e-5, CLIP, 0.3, 1.0 - 1e-9] {
        assert_eq!(revise_latent(s, CLIP), s, "{s} is inside (0, 1): kept");
    }
}

/// The large-n collapse of the paper preset (issue: fidelity at large n). With n = 100000
/// samples in 4 classes every column softmax value is at most 1/25000, below the 1e-4 clip. A clamp into
/// [1e-4, 1 - 1e-4] made every target the same constant (the hidden layers then learned
/// nothing); the reference keeps the values, so the targets keep the classes apart.
#[test]
fn softmax_targets_keep_their_spread_below_the_clip_at_large_n() {
    let device = device();
    let (c, per_class) = (4, 25_000);
    let n = c * per_class;
    let w = Mat::from_fn(3, c, |i, k| 0.3 * (i as f64 + 1.0) * (k as f64 - 1.5));
    let b = vec![0.1, -0.2, 0.05, 0.0];
    let g = class_backward_step(
        &Mat::<f64>::identity(c, c),
        &w,
        &b,
        &vec![per_class; c],
        Activation::Sigmoid,
        SOFTMAX,
        CLIP,
    )
    .0;
    // Expected: logit of the plain softmax over the n samples (class k repeated per_class times).
    for j in 0..3 {
        let a: Vec<f64> = (0..c)
            .map(|k| (0..c).map(|m| (f64::from(k == m) - b[m]) * w[(j, m)]).sum())
            .collect();
        let total: f64 = a.iter().map(|v| per_class as f64 * v.exp()).sum();
        let mut seen = Vec::new();
        for k in 0..c {
            let s = a[k].exp() / total;
            assert!(
                s < CLIP,
                "the case under test: every value is below the clip"
            );
            let want = (s / (1.0 - s)).ln();
            assert!((g[(k, j)] - want).abs() < 1e-9, "{} vs {want}", g[(k, j)]);
            seen.push(g[(k, j)]);
        }
        let spread = seen.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
            - seen.iter().cloned().fold(f64::INFINITY, f64::min);
        assert!(
            spread > 0.1,
            "column {j}: targets collapsed (spread {spread})"
        );
    }
    // The per-sample tensors agree (the same map on the device).
    let labels: Vec<usize> = (0..n).map(|i| i % c).collect();
    let y = Mat::from_fn(n, c, |i, k| f64::from(labels[i] == k));
    let layer = ngmnn::model::LayerParams {
        w: tensor(&w, &device, DType::F64),
        b: tensor_vec(&b, &device, DType::F64),
    };
    let t = host(backward_step(
        tensor(&y, &device, DType::F64),
        &layer,
        Activation::Sigmoid,
        SOFTMAX,
        CLIP,
    ));
    for i in [0, 1, 2, 3, n - 1] {
        for j in 0..3 {
            assert!((t[(i, j)] - g[(labels[i], j)]).abs() < 1e-8);
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
