//! Forward ridge regression (spec §1): normal equations, bias, objective, a direct solve.

use crate::common;

use burn::tensor::DType;
use common::*;
use faer::Mat;
use faer::linalg::solvers::Solve;
use ngmnn::solve::ridge::{RidgeSystem, ridge};

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

/// Relative difference of two matrices (max-abs over max-abs).
fn rel(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    max_diff(a, b) / b.norm_max().max(1e-300)
}

#[test]
fn class_ridge_primal_equals_dual_and_the_one_shot_ridge() {
    use ngmnn::solve::{
        class_ridge::{ClassRidge, RidgeForm},
        moments::Moments,
    };
    let device = device();
    // Wide (p > n: what the dual form is for) and tall: both forms agree with each other and
    // with a ridge onto the explicit targets Y G, to 1e-8 relative in f64.
    for (n, p, seed) in [(30, 50, 3), (60, 20, 4)] {
        let mut h = random_mat(n, p, seed);
        for i in 0..n {
            for j in 0..p {
                h[(i, j)] += (j % 5) as f64; // offsets: centring matters
            }
        }
        let (y, _) = one_hot(n, 4, seed + 10);
        let g = random_mat(4, 6, seed + 20);
        let (hd, yd) = (
            tensor(&h, &device, DType::F64),
            tensor(&y, &device, DType::F64),
        );
        let moments = Moments::of_batch(&hd, &yd, None).unwrap().unwrap();
        let primal = ClassRidge::from_moments(&moments, GAMMA).unwrap();
        let dual = ClassRidge::dual(&hd, &yd, GAMMA).unwrap();
        assert_eq!(
            (primal.form(), dual.form()),
            (RidgeForm::Primal, RidgeForm::Dual)
        );
        let (a, b) = (
            primal.solve(&g, &device, DType::F64).unwrap(),
            dual.solve(&g, &device, DType::F64).unwrap(),
        );
        let direct = ridge(&hd, tensor(&(&y * &g), &device, DType::F64), GAMMA).unwrap();
        for other in [&b, &direct] {
            assert!(
                rel(&a.w, &other.w) < 1e-8,
                "{n}x{p}: W differs by {:e}",
                rel(&a.w, &other.w)
            );
            let bias = Mat::from_fn(1, 6, |_, j| a.b[j]);
            let other_bias = Mat::from_fn(1, 6, |_, j| other.b[j]);
            assert!(rel(&bias, &other_bias) < 1e-8, "{n}x{p}: b differs");
            let d = (a.objective - other.objective).abs() / other.objective.abs();
            assert!(
                d < 1e-8,
                "{n}x{p}: objective {} vs {}",
                a.objective,
                other.objective
            );
        }
        // The objective is the ridge objective at the solution.
        let t = &y * &g;
        let fitted = &h * &a.w;
        let residual: f64 = (0..n)
            .flat_map(|i| (0..6).map(move |j| (i, j)))
            .map(|(i, j)| (fitted[(i, j)] + a.b[j] - t[(i, j)]).powi(2))
            .sum();
        let value = residual + GAMMA * a.w.squared_norm_l2();
        assert!(
            (value - a.objective).abs() < 1e-9 * value,
            "{value} vs {}",
            a.objective
        );
    }
}

#[test]
fn proximal_class_ridge_satisfies_its_normal_equations_and_objective() {
    use ngmnn::solve::{class_ridge::ClassRidge, moments::Moments};
    let device = device();
    let (n, p, rho) = (40, 12, 2.5);
    let h = random_mat(n, p, 31);
    let (y, _) = one_hot(n, 3, 32);
    let g = random_mat(3, 5, 33);
    let w_prev = random_mat(p, 5, 34);
    let (hd, yd) = (
        tensor(&h, &device, DType::F64),
        tensor(&y, &device, DType::F64),
    );
    let moments = Moments::of_batch(&hd, &yd, None).unwrap().unwrap();
    let system = ClassRidge::from_moments(&moments, GAMMA + rho).unwrap();
    let sol = system
        .solve_proximal(&g, &w_prev, rho, &device, DType::F64)
        .unwrap();
    // (Hc^T Hc + (gamma + rho) I) W = Hc^T Tc + rho W_prev.
    let (hc, _) = centred(&h);
    let t = &y * &g;
    let (tc, _) = centred(&t);
    let mut a = hc.transpose() * &hc;
    for i in 0..p {
        a[(i, i)] += GAMMA + rho;
    }
    let residual = &a * &sol.w - hc.transpose() * &tc - &w_prev * faer::Scale(rho);
    assert!(
        residual.norm_max() < 1e-9,
        "residual {}",
        residual.norm_max()
    );
    // The objective is ||H W + 1 b^T - T||^2 + gamma ||W||^2 + rho ||W - W_prev||^2.
    let fitted = &h * &sol.w;
    let fit: f64 = (0..n)
        .flat_map(|i| (0..5).map(move |j| (i, j)))
        .map(|(i, j)| (fitted[(i, j)] + sol.b[j] - t[(i, j)]).powi(2))
        .sum();
    let value = fit + GAMMA * sol.w.squared_norm_l2() + rho * (&sol.w - &w_prev).squared_norm_l2();
    assert!(
        (value - sol.objective).abs() < 1e-9 * value,
        "{value} vs {}",
        sol.objective
    );
    // The dual form has no proximal solve: a typed error.
    let dual = ClassRidge::dual(&hd, &yd, GAMMA).unwrap();
    assert!(
        dual.solve_proximal(&g, &w_prev, rho, &device, DType::F64)
            .is_err()
    );
}
