//! Forward ridge regression (spec §1): normal equations, bias, objective, a direct solve.

mod common;

use burn::tensor::DType;
use common::*;
use faer::Mat;
use faer::linalg::solvers::Solve;
use ngmnn::solve::{RidgeSystem, ridge};

const GAMMA: f64 = 0.3;

fn problem() -> (Mat<f64>, Mat<f64>) {
    let mut h = random_mat(60, 8, 1);
    // Offset columns so centring matters.
    for i in 0..60 {
        for j in 0..8 {
            h[(i, j)] += j as f64;
        }
    }
    (h, random_mat(60, 3, 2))
}

fn centred(m: &Mat<f64>) -> (Mat<f64>, Vec<f64>) {
    let n = m.nrows() as f64;
    let mean: Vec<f64> = (0..m.ncols())
        .map(|j| (0..m.nrows()).map(|i| m[(i, j)]).sum::<f64>() / n)
        .collect();
    (
        Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)] - mean[j]),
        mean,
    )
}

#[test]
fn ridge_satisfies_the_normal_equations() {
    let device = device();
    let (h, t) = problem();
    let sol = ridge(
        &tensor(&h, &device, DType::F64),
        tensor(&t, &device, DType::F64),
        GAMMA,
    )
    .unwrap();
    let w = host(sol.params.w);
    let (hc, _) = centred(&h);
    let (tc, _) = centred(&t);
    let mut a = hc.transpose() * &hc;
    for i in 0..8 {
        a[(i, i)] += GAMMA;
    }
    let residual = &a * &w - hc.transpose() * &tc;
    assert!(
        residual.norm_max() < 1e-9,
        "normal-equation residual {}",
        residual.norm_max()
    );
}

#[test]
fn ridge_bias_is_the_mean_residual() {
    let device = device();
    let (h, t) = problem();
    let sol = ridge(
        &tensor(&h, &device, DType::F64),
        tensor(&t, &device, DType::F64),
        GAMMA,
    )
    .unwrap();
    let w = host(sol.params.w);
    let b = host_vec(sol.params.b);
    let (_, mean_residual) = centred(&(&t - &h * &w));
    for j in 0..3 {
        assert!(
            (b[j] - mean_residual[j]).abs() < 1e-10,
            "b[{j}] = {} vs {}",
            b[j],
            mean_residual[j]
        );
    }
}

#[test]
fn ridge_matches_a_direct_dense_solve_and_reports_its_objective() {
    let device = device();
    let (h, t) = problem();
    let sol = ridge(
        &tensor(&h, &device, DType::F64),
        tensor(&t, &device, DType::F64),
        GAMMA,
    )
    .unwrap();
    let w = host(sol.params.w);
    let b = host_vec(sol.params.b);
    // Independent: augmented system [H 1] with the bias unpenalised, solved by LU.
    let ha = Mat::from_fn(60, 9, |i, j| if j < 8 { h[(i, j)] } else { 1.0 });
    let mut a = ha.transpose() * &ha;
    for i in 0..8 {
        a[(i, i)] += GAMMA;
    }
    let direct = a.partial_piv_lu().solve(ha.transpose() * &t);
    for j in 0..3 {
        for i in 0..8 {
            assert!((w[(i, j)] - direct[(i, j)]).abs() < 1e-9);
        }
        assert!((b[j] - direct[(8, j)]).abs() < 1e-9);
    }
    let fit = &ha * &direct - &t;
    let objective = fit.squared_norm_l2() + GAMMA * w.squared_norm_l2();
    assert!(
        (sol.objective - objective).abs() < 1e-9 * objective,
        "reported {} vs direct {objective}",
        sol.objective
    );
}

#[test]
fn ridge_system_reuses_its_factorisation_for_new_targets() {
    let device = device();
    let (h, t) = problem();
    let hd = tensor(&h, &device, DType::F64);
    let system = RidgeSystem::new(&hd, GAMMA).unwrap();
    for seed in [3, 4] {
        let t2 = &t + random_mat(60, 3, seed);
        let once = system.solve(&hd, tensor(&t2, &device, DType::F64)).unwrap();
        let fresh = ridge(&hd, tensor(&t2, &device, DType::F64), GAMMA).unwrap();
        assert!(max_diff(&host(once.params.w), &host(fresh.params.w)) < 1e-12);
    }
}

#[test]
fn ridge_f32_agrees_with_f64_on_well_scaled_data() {
    let device = device();
    let (h, t) = problem();
    let w64 = host(
        ridge(
            &tensor(&h, &device, DType::F64),
            tensor(&t, &device, DType::F64),
            GAMMA,
        )
        .unwrap()
        .params
        .w,
    );
    let w32 = host(
        ridge(
            &tensor(&h, &device, DType::F32),
            tensor(&t, &device, DType::F32),
            GAMMA,
        )
        .unwrap()
        .params
        .w,
    );
    assert!(
        max_diff(&w64, &w32) < 1e-4,
        "f32 vs f64: {}",
        max_diff(&w64, &w32)
    );
}
