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
//! no extra product. [`RidgeSystem`] keeps the factorisation of an input that does not change
//! (layer 1's input is the data): computed once per fit.

use burn::tensor::Tensor;

use crate::error::Result;
use crate::linalg::{RidgeFactor, from_host, scalar, to_host};
use crate::model::LayerParams;

/// The part of a ridge regression that depends only on the input `H`: its column means and
/// the factorised `Hc^T Hc + gamma I`.
#[derive(Debug)]
pub struct RidgeSystem {
    mean: Tensor<2>,
    factor: RidgeFactor,
}

/// A solved ridge regression.
#[derive(Debug, Clone)]
pub struct RidgeSolution {
    /// The layer's new `W` (`[p, q]`) and `b` (`[q]`), on the input's device and dtype.
    pub params: LayerParams,
    /// `||H W + 1 b^T - T||^2 + gamma ||W||^2` at the solution.
    pub objective: f64,
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
        Ok(Self {
            mean,
            factor: RidgeFactor::new(gram, gamma)?,
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
        let w = self.factor.solve(&cross)?;
        let fit: f64 = (0..w.nrows())
            .flat_map(|i| (0..w.ncols()).map(move |j| (i, j)))
            .map(|(i, j)| w[(i, j)] * cross[(i, j)])
            .sum();
        let w = from_host(&w, &device, dtype);
        // b = mu_T - W^T mu_H, as a [1, q] row, on the device.
        let b = (t_mean - self.mean.clone().matmul(w.clone())).squeeze_dim::<1>(0);
        Ok(RidgeSolution {
            params: LayerParams { w, b },
            objective: tss - fit,
        })
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
