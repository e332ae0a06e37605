//! Forward ridge regression of a hidden layer (spec §1).
//!
//! # Objective
//! ```text
//! minimise ||H W + 1 b^T - T||_F^2 + gamma ||W||_F^2        (bias not penalised)
//! ```
//! # Closed form
//! ```text
//! mu_H, mu_T = column means;  Hc = H - 1 mu_H^T;  Tc = T - 1 mu_T^T
//! W = (Hc^T Hc + gamma I)^-1 Hc^T Tc
//! b = mu_T - W^T mu_H
//! ```
//! `Hc^T Hc` and `Hc^T Tc` are products on the device; the `p x p` Cholesky solve is on the
//! host in f64. At the solution the objective equals `||Tc||^2 - tr(W^T Hc^T Tc)`, so it costs
//! no extra product. [`RidgeSystem`] keeps the factorisation of an input, to solve it for
//! several targets.
//!
//! # Class targets (what the trainer solves)
//! The backward targets of spec §2 depend on a sample only through its label (`T = Y G`); the
//! trainer solves those with [`super::class_ridge::ClassRidge`] (primal or dual, once for every
//! `G`). This file solves for arbitrary per-sample targets.

use burn::tensor::Tensor;

use burn::tensor::{DType, Device};
use faer::Mat;

use super::moments::trace_at_b;
use crate::error::Result;
use crate::linalg::{RidgeFactor, from_host, from_host_vec, scalar, to_host};
use crate::model::LayerParams;

/// The part of a ridge regression that depends only on the input `H`: its column means and
/// the factorised `Hc^T Hc + gamma I`.
#[derive(Debug)]
pub struct RidgeSystem {
    mean: Tensor<2>,
    mean_host: Vec<f64>,
    factor: RidgeFactor,
}

/// A solved ridge regression.
#[derive(Debug, Clone)]
pub struct RidgeSolution {
    /// The layer's new `W` (`[p, q]`) and `b` (`[q]`), on the input's device and dtype.
    pub params: LayerParams,
    /// `||H W + 1 b^T - T||^2 + gamma ||W||^2` at the solution.
    pub objective: f64,
    /// `W` on the host in f64 (before the cast to the device dtype).
    pub w: Mat<f64>,
    /// `b` on the host in f64.
    pub b: Vec<f64>,
}

impl RidgeSystem {
    /// Factor the system of input `h` (`[n, p]`).
    ///
    /// # Errors
    /// [`crate::NgmnnError::Numerical`] if `Hc^T Hc + gamma I` is not numerically positive
    /// definite (e.g. an f32 Gram of badly scaled data), [`crate::NgmnnError::NonFinite`] for
    /// NaN/inf in `h`.
    pub fn new(h: &Tensor<2>, gamma: f64) -> Result<Self> {
        let mean = h.clone().mean_dim(0);
        let hc = h.clone() - mean.clone();
        let gram = to_host(hc.clone().transpose().matmul(hc), "ridge Gram matrix H^T H")?;
        let mean_host = to_host(mean.clone(), "ridge input means")?;
        Ok(Self {
            mean_host: (0..mean_host.ncols()).map(|j| mean_host[(0, j)]).collect(),
            mean,
            factor: RidgeFactor::new(gram, gamma)?,
        })
    }

    /// `W = (Hc^T Hc + gamma I)^-1 cross`, `b = mu_T - W^T mu_H`, objective `tss - tr(W^T cross)`.
    fn finish(
        &self,
        cross: &Mat<f64>,
        mean_t: &[f64],
        tss: f64,
        device: &Device,
        dtype: DType,
    ) -> Result<RidgeSolution> {
        let w = self.factor.solve(cross)?;
        let b: Vec<f64> = (0..w.ncols())
            .map(|j| {
                mean_t[j]
                    - (0..w.nrows())
                        .map(|i| w[(i, j)] * self.mean_host[i])
                        .sum::<f64>()
            })
            .collect();
        Ok(RidgeSolution {
            params: LayerParams {
                w: from_host(&w, device, dtype),
                b: from_host_vec(&b, device, dtype),
            },
            objective: tss - trace_at_b(&w, cross),
            w,
            b,
        })
    }

    /// Solve for targets `t` (`[n, q]`), `h` being the same input the system was built from.
    ///
    /// # Errors
    /// [`crate::NgmnnError::NonFinite`] if the targets or the solution are not finite.
    pub fn solve(&self, h: &Tensor<2>, t: Tensor<2>) -> Result<RidgeSolution> {
        let (device, dtype) = (h.device(), h.dtype());
        let t_mean = t.clone().mean_dim(0);
        let tc = t - t_mean.clone();
        let hc = h.clone() - self.mean.clone();
        let cross = to_host(
            hc.transpose().matmul(tc.clone()),
            "ridge cross product H^T T",
        )?;
        let tss = scalar(tc.square().sum(), "ridge targets")?;
        let t_mean = to_host(t_mean, "ridge target means")?;
        let t_mean: Vec<f64> = (0..t_mean.ncols()).map(|j| t_mean[(0, j)]).collect();
        self.finish(&cross, &t_mean, tss, &device, dtype)
    }
}

/// One-shot ridge regression of `t` on `h` (spec §1).
///
/// # Shapes
/// `h`: `[n, p]`, `t`: `[n, q]` -> `W`: `[p, q]`, `b`: `[q]`.
///
/// # Errors
/// As [`RidgeSystem::new`] and [`RidgeSystem::solve`].
pub fn ridge(h: &Tensor<2>, t: Tensor<2>, gamma: f64) -> Result<RidgeSolution> {
    RidgeSystem::new(h, gamma)?.solve(h, t)
}
