//! The decision layer (spec §3): slack, adaptive weights, the flexible Stiefel step and the
//! block-coordinate descent.

use crate::common;

use burn::tensor::{DType, Tensor};
use common::*;
use faer::Mat;
use ngmnn::linalg::{PROCRUSTES_RANK_TOL, SymInvSqrt, procrustes, procrustes_near};
use ngmnn::model::{LayerParams, NgmnnConfig};
use ngmnn::solve::{
    adaptive_weights::{AlphaIndex, adaptive_weights},
    decision_layer::{DecisionOptions, decision_layer},
    slack::slack,
    stiefel::stiefel_update,
};
use ngmnn::train::{ClosedFormConfig, Preset};

const GAMMA: f64 = 0.3;
const N: usize = 80;
const K: usize = 10;
const C: usize = 4;

/// Row-normalised inputs, one-hot labels, targets Zt = Y + Y o M, and positive weights.
fn problem() -> (Mat<f64>, Mat<f64>, Vec<f64>) {
    let h = row_normalized(&random_mat(N, K, 11));
    let (y, _) = one_hot(N, C, 12);
    let zt = Mat::from_fn(N, C, |i, j| y[(i, j)] * (1.0 + 0.5 * (i % 3) as f64));
    let alpha: Vec<f64> = (0..N)
        .map(|i| (1.0 + (i % 5) as f64) / (3.0 * N as f64))
        .collect();
    (h, zt, alpha)
}

/// The C-step loss with the optimal bias: `sum_i alpha_i ||W^T hc_i - zc_i||^2 + gamma ||W||^2`,
/// which equals `tr(W^T S W) - 2 tr(W^T C) + const`.
fn c_step_loss(h: &Mat<f64>, zt: &Mat<f64>, alpha: &[f64], w: &Mat<f64>) -> f64 {
    let sum: f64 = alpha.iter().sum();
    let wmean = |m: &Mat<f64>, j: usize| (0..N).map(|i| alpha[i] * m[(i, j)]).sum::<f64>() / sum;
    let (mh, mz): (Vec<f64>, Vec<f64>) = (
        (0..K).map(|j| wmean(h, j)).collect(),
        (0..C).map(|j| wmean(zt, j)).collect(),
    );
    let hc = Mat::from_fn(N, K, |i, j| h[(i, j)] - mh[j]);
    let zc = Mat::from_fn(N, C, |i, j| zt[(i, j)] - mz[j]);
    let r = &hc * w - &zc;
    (0..N)
        .map(|i| alpha[i] * (0..C).map(|j| r[(i, j)].powi(2)).sum::<f64>())
        .sum::<f64>()
        + GAMMA * w.squared_norm_l2()
}

#[test]
fn stiefel_step_satisfies_the_constraint_on_the_host() {
    let device = device();
    let (h, zt, alpha) = problem();
    let step = stiefel_update(
        &tensor(&h, &device, DType::F64),
        &tensor(&zt, &device, DType::F64),
        &tensor_vec(&alpha, &device, DType::F64),
        GAMMA,
        None,
    )
    .unwrap();
    let wsw = step.w.transpose() * &step.s * &step.w;
    let err = max_diff(&wsw, &Mat::identity(C, C));
    assert!(err < 1e-6, "W^T S W - I = {err}");
    // The device copy (f64) is the same W.
    assert!(max_diff(&host(step.params.w), &step.w) < 1e-12);
}

#[test]
fn stiefel_step_satisfies_the_constraint_on_the_device_in_f32() {
    let device = device();
    let (h, zt, alpha) = problem();
    let (hd, ad) = (
        tensor(&h, &device, DType::F32),
        tensor_vec(&alpha, &device, DType::F32),
    );
    let step = stiefel_update(&hd, &tensor(&zt, &device, DType::F32), &ad, GAMMA, None).unwrap();
    // S recomputed on the device in f32, independently of the solver.
    let u = (ad.clone() / ad.clone().sum()).unsqueeze::<2>();
    let hc = hd.clone() - u.matmul(hd);
    let s = (hc.clone() * ad.unsqueeze_dim::<2>(1))
        .transpose()
        .matmul(hc)
        + Tensor::<2>::eye(K, &device).cast(DType::F32) * GAMMA;
    let w = step.params.w;
    let wsw = host(w.clone().transpose().matmul(s).matmul(w));
    let err = max_diff(&wsw, &Mat::identity(C, C));
    assert!(err < 1e-4, "W^T S W - I on the device (f32) = {err}");
}

#[test]
fn procrustes_step_beats_random_feasible_weights() {
    let device = device();
    let (h, zt, alpha) = problem();
    let step = stiefel_update(
        &tensor(&h, &device, DType::F64),
        &tensor(&zt, &device, DType::F64),
        &tensor_vec(&alpha, &device, DType::F64),
        GAMMA,
        None,
    )
    .unwrap();
    let best = c_step_loss(&h, &zt, &alpha, &step.w);
    let inv_sqrt = SymInvSqrt::new(&step.s).unwrap().inv_sqrt;
    for seed in 0..25 {
        // A random point of the flexible Stiefel manifold: S^-1/2 Q, Q^T Q = I.
        let q = procrustes(&random_mat(K, C, 100 + seed)).unwrap();
        let w = &inv_sqrt * &q;
        assert!(max_diff(&(w.transpose() * &step.s * &w), &Mat::identity(C, C)) < 1e-9);
        let other = c_step_loss(&h, &zt, &alpha, &w);
        assert!(
            best <= other + 1e-12,
            "Procrustes {best} > random feasible {other}"
        );
    }
}

#[test]
fn slack_is_the_one_sided_hinge() {
    let device = device();
    let y = Mat::from_fn(2, 2, |i, j| f64::from(i == j));
    let f = Mat::from_fn(2, 2, |i, j| [[1.7, 3.0], [-2.0, 0.4]][i][j]);
    let m = host(slack(
        &tensor(&y, &device, DType::F64),
        &tensor(&f, &device, DType::F64),
    ));
    let expected = Mat::from_fn(2, 2, |i, j| [[0.7, 0.0], [0.0, 0.0]][i][j]);
    assert!(max_diff(&m, &expected) < 1e-12);
}

fn losses() -> Vec<f64> {
    (0..40)
        .map(|i| ((i * 37) % 40) as f64 * 0.25 + 0.1)
        .collect()
}

#[test]
fn adaptive_weights_lie_on_the_simplex_and_drop_the_largest_losses() {
    let device = device();
    let f = losses();
    let aw = adaptive_weights(
        &tensor_vec(&f, &device, DType::F64),
        1.0,
        AlphaIndex::Textbook,
    )
    .unwrap();
    let alpha = host_vec(aw.alpha);
    assert!(alpha.iter().all(|&a| a >= 0.0));
    assert!(
        (alpha.iter().sum::<f64>() - 1.0).abs() < 1e-12,
        "sum = {}",
        alpha.iter().sum::<f64>()
    );
    let mut order: Vec<usize> = (0..f.len()).collect();
    order.sort_by(|&a, &b| f[a].total_cmp(&f[b]));
    // K = n - 2: the two largest losses get weight 0, all others positive, decreasing in f.
    assert_eq!(alpha[order[39]], 0.0);
    assert_eq!(alpha[order[38]], 0.0);
    assert!(order[..38].iter().all(|&i| alpha[i] > 0.0));
    assert!(order.windows(2).all(|w| alpha[w[0]] >= alpha[w[1]]));
}

#[test]
fn adaptive_weights_paper_index_matches_the_closed_form() {
    let device = device();
    let f = losses();
    let aw =
        adaptive_weights(&tensor_vec(&f, &device, DType::F64), 1.0, AlphaIndex::Paper).unwrap();
    let alpha = host_vec(aw.alpha);
    // Host reference of spec §3 B with the reference's fs[K+1].
    let mut fs = f.clone();
    fs.sort_by(f64::total_cmp);
    let k = f.len() - 2;
    let head: f64 = fs[..k].iter().sum();
    let lambda = k as f64 / 2.0 * fs[k + 1] - head / 2.0;
    let t = (head + 2.0 * lambda) / (2.0 * k as f64 * lambda);
    assert!((aw.lambda - lambda).abs() < 1e-12 * lambda);
    for (a, fi) in alpha.iter().zip(&f) {
        assert!((a - (t - fi / (2.0 * lambda)).max(0.0)).abs() < 1e-12);
    }
    let sum: f64 = alpha.iter().sum();
    assert!(
        sum > 1.0 && sum < 1.1,
        "paper index: sum(alpha) = {sum} should be slightly above 1"
    );
    let worst = f
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    assert_eq!(alpha[worst], 0.0);
}

#[test]
fn adaptive_weights_fall_back_to_uniform_when_losses_are_equal() {
    let device = device();
    let aw = adaptive_weights(
        &tensor_vec(&[2.0; 10], &device, DType::F64),
        1.0,
        AlphaIndex::Paper,
    )
    .unwrap();
    assert_eq!(aw.lambda, 0.0);
    assert!(host_vec(aw.alpha).iter().all(|&a| (a - 0.1).abs() < 1e-15));
}

#[test]
fn adaptive_weights_reject_too_few_samples() {
    let device = device();
    assert!(
        adaptive_weights(
            &tensor_vec(&[1.0, 2.0], &device, DType::F64),
            1.0,
            AlphaIndex::Paper
        )
        .is_err()
    );
}

/// `K = round(ratio * n) - 2` with Python's rounding, as the reference: ties go to the even
/// integer: round(4.5) = 4 and round(6.5) = 6 (f64::round gives 5 and 7).
#[test]
fn adaptive_weights_round_k_like_python() {
    let device = device();
    let losses: Vec<f64> = (0..10).map(|i| i as f64 * 0.1).collect();
    let l = tensor_vec(&losses, &device, DType::F64);
    for (ratio, k) in [(0.5, 3), (0.45, 2), (0.65, 4), (0.7, 5)] {
        // 0.45 * 10 = 4.5 -> 4 (even), 0.65 * 10 = 6.5 -> 6 (even); minus 2.
        let got = adaptive_weights(&l, ratio, AlphaIndex::Textbook).unwrap().k;
        assert_eq!(got, k, "ratio {ratio}");
    }
}

/// The decision layer on the hidden activations of a freshly initialised network over the
/// built-in digits.
fn digits_decision_problem(preset: Preset) -> (Tensor<2>, Tensor<2>, LayerParams, DecisionOptions) {
    let device = device();
    let data = ngmnn::data::digits();
    let model = NgmnnConfig::new(64, vec![32], 10).init(&device).unwrap();
    let x = data.features_tensor(&device, DType::F64);
    let params: Vec<LayerParams> = model
        .layer_params()
        .iter()
        .map(|p| p.cast(DType::F64))
        .collect();
    let acts = ngmnn::model::forward_layers(x, &params, model.activation);
    let opts = DecisionOptions {
        max_iterations: 8,
        tolerance: 0.0,
        ..ClosedFormConfig::paper()
            .with_preset(preset)
            .decision_options()
    };
    (
        acts.inputs[1].clone(),
        data.one_hot_tensor(&device, DType::F64),
        params[1].clone(),
        opts,
    )
}

#[test]
fn decision_objective_does_not_increase_across_iterations_corrected() {
    let (h, y, init, opts) = digits_decision_problem(Preset::Corrected);
    let out = decision_layer(&h, &y, &init, &opts).unwrap();
    assert!(out.objectives.len() >= 3, "{:?}", out.objectives);
    for w in out.objectives.windows(2) {
        assert!(
            w[1] <= w[0] * (1.0 + 1e-9),
            "objective rose: {:?}",
            out.objectives
        );
    }
    let wsw = out.w.transpose() * &out.s * &out.w;
    assert!(max_diff(&wsw, &Mat::identity(10, 10)) < 1e-6);
    // The returned parameters are the last accepted round's.
    assert!(max_diff(&host(out.params.w), &out.w) < 1e-12);
}

#[test]
fn paper_decision_layer_runs_every_round_it_is_given() {
    let (h, y, init, opts) = digits_decision_problem(Preset::Paper);
    let out = decision_layer(&h, &y, &init, &opts).unwrap();
    assert_eq!(
        out.objectives.len(),
        8,
        "tolerance 0: no early stop in the reference loop"
    );
    // The reference loop is not a descent method (entry bias, re-adapted lambda): only check
    // that it stays finite and positive.
    assert!(
        out.objectives.iter().all(|o| o.is_finite() && *o > 0.0),
        "{:?}",
        out.objectives
    );
}

#[test]
fn decision_layer_stops_early_within_tolerance() {
    let (h, y, init, mut opts) = digits_decision_problem(Preset::Paper);
    opts.tolerance = 1e6;
    let out = decision_layer(&h, &y, &init, &opts).unwrap();
    assert_eq!(
        out.objectives.len(),
        2,
        "a huge tolerance stops after the second round"
    );
}

#[test]
fn simplex_weights_minimise_the_weighted_loss_for_a_fixed_lambda() {
    use ngmnn::solve::adaptive_weights::simplex_weights;
    let device = device();
    let f = losses();
    let lambda = 3.0;
    let alpha = host_vec(simplex_weights(&tensor_vec(&f, &device, DType::F64), lambda).unwrap());
    assert!(alpha.iter().all(|&a| a >= 0.0));
    assert!((alpha.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    let obj = |a: &[f64]| {
        a.iter().zip(&f).map(|(a, f)| a * f).sum::<f64>()
            + lambda * a.iter().map(|a| a * a).sum::<f64>()
    };
    let best = obj(&alpha);
    // Moving mass between any two samples (staying on the simplex) never helps.
    for i in 0..f.len() {
        for j in 0..f.len() {
            let step = alpha[i].min(1e-3);
            if i == j || step == 0.0 {
                continue;
            }
            let mut moved = alpha.clone();
            moved[i] -= step;
            moved[j] += step;
            assert!(obj(&moved) >= best - 1e-12);
        }
    }
    // With the adaptive lambda the projection reproduces the adaptive weights.
    let aw = adaptive_weights(
        &tensor_vec(&f, &device, DType::F64),
        1.0,
        AlphaIndex::Textbook,
    )
    .unwrap();
    let again = host_vec(simplex_weights(&tensor_vec(&f, &device, DType::F64), aw.lambda).unwrap());
    let adaptive = host_vec(aw.alpha);
    for (a, b) in adaptive.iter().zip(&again) {
        assert!((a - b).abs() < 1e-12);
    }
}

/// A rank-deficient Procrustes input (rank c - 1, as when `Zt` has no slack): the tie-break
/// keeps the optimum, stays orthonormal, and picks the maximiser nearest the reference.
#[test]
fn procrustes_tie_break_keeps_the_optimum_and_follows_the_reference() {
    let a = random_mat(K, C, 7);
    // Remove the component along the all-ones output direction: rank C - 1.
    let ones = Mat::from_fn(C, 1, |_, _| 1.0 / (C as f64).sqrt());
    let b = &a - &a * &ones * ones.transpose();
    let free = procrustes(&b).unwrap();
    let reference = random_mat(K, C, 8);
    let near = procrustes_near(&b, Some(&reference), PROCRUSTES_RANK_TOL).unwrap();
    let trace = |q: &Mat<f64>| (0..C).map(|j| (q.transpose() * &b)[(j, j)]).sum::<f64>();
    assert!((trace(&near) - trace(&free)).abs() < 1e-10 * trace(&free).abs());
    assert!(max_diff(&(near.transpose() * &near), &Mat::identity(C, C)) < 1e-10);
    let dist = |q: &Mat<f64>| (q - &reference).norm_l2();
    assert!(
        dist(&near) <= dist(&free) + 1e-12,
        "{} > {}",
        dist(&near),
        dist(&free)
    );
    // Following a reference that is itself a maximiser returns it.
    let again = procrustes_near(&b, Some(&near), PROCRUSTES_RANK_TOL).unwrap();
    assert!(max_diff(&again, &near) < 1e-10);
    // A full-rank input has one maximiser: the reference changes nothing.
    let full = procrustes_near(&a, Some(&reference), PROCRUSTES_RANK_TOL).unwrap();
    assert!(max_diff(&full, &procrustes(&a).unwrap()) < 1e-12);
}

/// The decision layer is a function of the set of samples, not of their order (the tie-break
/// above removes the SVD's arbitrary pick when `C` is rank-deficient). On the digits with a
/// fresh network (no slack yet) the SVD's own pick differs by ~1 between the two orders.
#[test]
fn decision_layer_does_not_depend_on_sample_order() {
    let device = device();
    let data = ngmnn::data::digits();
    let reversed: Vec<usize> = (0..data.n()).rev().collect();
    let model = NgmnnConfig::new(data.d(), vec![32], data.n_classes())
        .with_seed(3)
        .init(&device)
        .unwrap();
    let params: Vec<LayerParams> = model
        .layer_params()
        .iter()
        .map(|p| p.cast(DType::F64))
        .collect();
    let opts = ClosedFormConfig::paper().decision_options();
    let solve = |d: &ngmnn::data::LabeledData| {
        let x = d.features_tensor(&device, DType::F64);
        let h = ngmnn::model::forward_layers(x, &params, model.activation).inputs[1].clone();
        decision_layer(
            &h,
            &d.one_hot_tensor(&device, DType::F64),
            &params[1],
            &opts,
        )
        .unwrap()
        .w
    };
    let (a, b) = (solve(&data), solve(&data.subset(&reversed, "reversed")));
    assert!(max_diff(&a, &b) < 1e-8, "W differs by {}", max_diff(&a, &b));
}

/// Step C minimises `J + gamma ||W||^2`, not `J` (issue: the corrected preset monitored `J`).
/// Counterexample: k = 2, c = 1, `S_hh = diag(1, 0)`, `C = (0.1, 0)^T`, gamma = 0.3. Procrustes
/// gives `J = 0.594 + z`; the feasible `w' = (0, 1/sqrt(0.3))` gives `J = z`, yet `J + gamma
/// ||W||^2` is 0.825 + z against 1 + z: only the sum is minimised by the step.
#[test]
fn stiefel_step_minimises_the_loss_plus_the_ridge_term_not_the_loss_alone() {
    let device = device();
    let z = 0.5;
    let second = Mat::from_fn(3, 3, |i, j| match (i, j) {
        (0, 0) => 1.0,
        (0, 2) | (2, 0) => 0.1,
        (2, 2) => z,
        _ => 0.0,
    });
    let m = ngmnn::solve::moments::Moments {
        p: 2,
        weight: 1.0,
        mean: vec![0.0; 3],
        profile: Default::default(),
        second,
    };
    let gamma = 0.3;
    let step =
        ngmnn::solve::stiefel::stiefel_from_moments(&m, gamma, None, &device, DType::F64).unwrap();
    let j = |w: &Mat<f64>| w[(0, 0)].powi(2) - 2.0 * 0.1 * w[(0, 0)] + z;
    let ridge = |w: &Mat<f64>| gamma * w.squared_norm_l2();
    let other = Mat::from_fn(2, 1, |i, _| if i == 1 { 1.0 / gamma.sqrt() } else { 0.0 });
    // Both are feasible: W^T (S_hh + gamma I) W = 1.
    for w in [&step.w, &other] {
        let s = (w[(0, 0)].powi(2)) * 1.3 + w[(1, 0)].powi(2) * 0.3;
        assert!((s - 1.0).abs() < 1e-12);
    }
    assert!((j(&step.w) - (0.594 + z)).abs() < 1e-3, "{}", j(&step.w));
    assert!(j(&other) < j(&step.w), "J alone prefers the other point");
    assert!(j(&step.w) + ridge(&step.w) < j(&other) + ridge(&other));
}

/// The corrected preset reports `sum alpha f + lambda ||alpha||^2 + gamma ||W||^2`, recomputed
/// here from the round's own slack targets, weights and solution.
#[test]
fn corrected_objective_includes_the_ridge_term() {
    let (h, y, init, opts) = digits_decision_problem(Preset::Corrected);
    let one = DecisionOptions {
        max_iterations: 1,
        ..opts
    };
    let out = decision_layer(&h, &y, &init, &one).unwrap();
    let f0 = h.clone().matmul(init.w.clone()) + init.b.clone().unsqueeze::<2>();
    let zt = ngmnn::solve::slack::slack_targets(&y, ngmnn::solve::slack::slack(&y, &f0));
    let f = h.clone().matmul(out.params.w.clone()) + out.params.b.clone().unsqueeze::<2>();
    let spec =
        ngmnn::solve::decision_layer::decision_objective(f, &zt, &out.alpha, out.lambda).unwrap();
    let want = spec + opts.gamma * out.w.squared_norm_l2();
    let got = out.objectives[0];
    assert!((got - want).abs() <= 1e-9 * want, "{got} vs {want}");
    // The paper preset keeps the spec's objective.
    let (h, y, init, opts) = digits_decision_problem(Preset::Paper);
    let paper = decision_layer(
        &h,
        &y,
        &init,
        &DecisionOptions {
            max_iterations: 1,
            ..opts
        },
    )
    .unwrap();
    let f = h.clone().matmul(paper.params.w.clone()) + paper.params.b.clone().unsqueeze::<2>();
    let spec = ngmnn::solve::decision_layer::decision_objective(f, &zt, &paper.alpha, paper.lambda)
        .unwrap();
    assert!((paper.objectives[0] - spec).abs() <= 1e-9 * spec);
}
