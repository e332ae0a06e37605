//! Decision layer step C: `W` and `b` on the flexible Stiefel manifold (spec §3 C).
//!
//! # Objective
//! ```text
//! min_{W, b} sum_i alpha_i ||W^T h_i + b - zt_i||^2   s.t.  W^T S W = I_c
//! S = Hc^T diag(alpha) Hc + gamma I
//! ```
//! # Closed form
//! ```text
//! u  = alpha / sum(alpha);   Hc = H - 1 (H^T u)^T;   mu_Z = Zt^T u
//! S  = Hc^T diag(alpha) Hc + gamma I                      # [k, k], SPD
//! C  = Hc^T diag(alpha) Zt   (= Hc^T diag(alpha) Zc)      # [k, c]
//! B  = S^-1/2 C = U Sigma V^T  (thin SVD)
//! W  = S^-1/2 U V^T
//! b  = mu_Z - W^T mu_H       (= (Zt - H W)^T alpha / sum(alpha))
//! ```
//! Why: with `b` optimal the loss is `tr(W^T S W) - 2 tr(W^T C) + const`; on `W^T S W = I` the
//! first term is constant, and with `Q = S^1/2 W` (`Q^T Q = I`) it is orthogonal Procrustes.
//!
//! Computed with the Cholesky factor `S = L L^T` in place of `S^1/2`: `Q = L^T W`,
//! `B = L^-1 C = U Sigma V^T`, `W = L^-T U V^T`. Any factor `S = R R^T` works: the two
//! parametrisations differ by the orthogonal `S^1/2 L^-T`, so the maximiser `W` is the same
//! (and the tie-break below, a distance between `Q`s, picks the same one); the Cholesky factor
//! costs `k^3 / 3` flops instead of an eigendecomposition's ~`9 k^3` (measured, `k = 256`:
//! about 5 ms of host time per decision round before). `S^-1/2` by an eigendecomposition
//! remains for an `S` that is not numerically positive definite.
//!
//! Ties: when `Zt` carries no slack its weighted-centred columns sum to zero, so `C` has rank
//! `c - 1` and one column of `U` is arbitrary (any unit vector orthogonal to the others): the
//! SVD's pick moves with rounding, i.e. with the order of the samples. Given the previous `W`,
//! the maximiser closest to it, `Q ~ S^1/2 W_prev`, is taken instead ([`procrustes_near`]): the
//! same objective value, but the fit becomes a continuous function of the data (mini-batch
//! order, resuming from a checkpoint).
//!
//! On the device: the alpha-weighted moments of `[H | Zt]` ([`Moments`]: a weighted mean and
//! one `[k + c, n] x [n, k + c]` product per batch). On the host (f64): the Cholesky factor of
//! `S`, two triangular solves and a `k x c` thin SVD ([`stiefel_from_moments`]).

use burn::tensor::{DType, Device, Tensor};
use faer::Mat;

use super::decision_layer::zero_weights;
use super::moments::Moments;
use crate::error::Result;
use faer::Side;
use faer::linalg::triangular_solve::{
    solve_lower_triangular_in_place, solve_upper_triangular_in_place,
};

use crate::linalg::{
    SymInvSqrt, from_host, from_host_vec, par_for, procrustes_near, procrustes_rank_tol,
};
use crate::model::LayerParams;

/// The result of step C.
#[derive(Debug, Clone)]
pub struct StiefelUpdate {
    /// The new `W` (`[k, c]`) and `b` (`[c]`) on the device, in the input's dtype.
    pub params: LayerParams,
    /// `W` on the host in f64 (before the cast to the device dtype).
    pub w: Mat<f64>,
    /// `b` on the host in f64.
    pub b: Vec<f64>,
    /// `S = Hc^T diag(alpha) Hc + gamma I` on the host; `W^T S W = I` holds for `w`.
    pub s: Mat<f64>,
}

/// Solve step C.
///
/// # Shapes
/// `h`: `[n, k]`, `zt`: `[n, c]` with `k >= c`, `alpha`: `[n]`; `previous` (the current
/// `W`, `[k, c]`, host) breaks ties between equal optima, see the module docs.
///
/// # Errors
/// [`crate::NgmnnError::Numerical`] if the eigen/SVD solvers fail,
/// [`crate::NgmnnError::NonFinite`] if anything is NaN or infinite.
pub fn stiefel_update(
    h: &Tensor<2>,
    zt: &Tensor<2>,
    alpha: &Tensor<1>,
    gamma: f64,
    previous: Option<&Mat<f64>>,
) -> Result<StiefelUpdate> {
    let moments = Moments::of_batch(h, zt, Some(alpha))?.ok_or_else(zero_weights)?;
    stiefel_from_moments(&moments, gamma, previous, &h.device(), h.dtype())
}

/// Step C from the alpha-weighted moments of `[H | Zt]` (`m.p = k`, `m.q() = c`), however they
/// were accumulated; `W` and `b` are put on `device` in `dtype`.
///
/// # Errors
/// As [`stiefel_update`].
pub fn stiefel_from_moments(
    m: &Moments,
    gamma: f64,
    previous: Option<&Mat<f64>>,
    device: &Device,
    dtype: DType,
) -> Result<StiefelUpdate> {
    let (k, c) = (m.p, m.q());
    let mut s = m.hh();
    for i in 0..k {
        s[(i, i)] += gamma;
    }
    let cross = m.hz();
    let tol = procrustes_rank_tol(dtype);
    let w = match s.llt(Side::Lower) {
        // S = L L^T: Q = L^T W has orthonormal columns, the objective is tr(Q^T L^-1 C).
        Ok(llt) => {
            let (l, par) = (llt.L(), par_for(k));
            let mut b = cross.clone();
            solve_lower_triangular_in_place(l, b.as_mut(), par); // L^-1 C
            let reference = previous.map(|w| l.transpose() * w); // L^T W_prev
            let mut w = procrustes_near(&b, reference.as_ref(), tol)?;
            solve_upper_triangular_in_place(l.transpose(), w.as_mut(), par); // L^-T Q
            w
        }
        // Not numerically positive definite (gamma tiny against S's scale): S^-1/2 with its
        // eigenvalues clamped.
        Err(_) => {
            let inv_sqrt = SymInvSqrt::new(&s)?.inv_sqrt;
            let reference = previous.map(|w| &s * &inv_sqrt * w); // S^1/2 W_prev
            let q = procrustes_near(&(&inv_sqrt * &cross), reference.as_ref(), tol)?;
            &inv_sqrt * &q
        }
    };
    crate::linalg::ensure_finite(&w, "decision-layer W")?;
    let (mu_h, mu_z) = (m.mean_h(), m.mean_z());
    let b: Vec<f64> = (0..c)
        .map(|j| mu_z[j] - (0..k).map(|i| w[(i, j)] * mu_h[i]).sum::<f64>())
        .collect();
    Ok(StiefelUpdate {
        params: LayerParams {
            w: from_host(&w, device, dtype),
            b: from_host_vec(&b, device, dtype),
        },
        w,
        b,
        s,
    })
}
