//! Ridge regression of a hidden layer onto class targets (spec §1 with the targets of §2),
//! for every target matrix at once, in primal or dual form.
//!
//! # Objective
//! ```text
//! minimise_{W, b}  ||H W + 1 b^T - Y G||_F^2 + gamma ||W||_F^2     (bias not penalised)
//! ```
//! for the one-hot labels `Y` (`n x c`) and any `c x q` matrix `G` (row `k`: the target of
//! class `k`; [`super::backward_targets::class_backward_step`]).
//!
//! # Closed form
//! ```text
//! W = P G        b = G^T mu_Y - W^T mu_H        objective = tr(G^T S G)
//! P = (Hc^T Hc + gamma I)^-1 Hc^T Yc              primal: a p x p system
//!   = Hc^T (Hc Hc^T + gamma I)^-1 Yc              dual: an n x n system (push-through identity)
//! S = Yc^T Yc - (Hc^T Yc)^T P = gamma Yc^T (Hc Hc^T + gamma I)^-1 Yc
//! ```
//! `P` (`p x c`), the means and `S` (`c x c`) do not depend on `G`: for an input that does
//! not change during a fit (the lowest learned layer's) they are computed once, and each
//! epoch's solve is a `p x c` times `c x q` product. At the solution the ridge objective is
//! `||Tc||^2 - tr(W^T Hc^T Tc)`, which is `tr(G^T S G)`.
//!
//! The primal form reads the input only through its moments ([`Moments`]: streamed, sharded);
//! the dual form needs the input's rows (`n x p`) and an `n x n` Gram matrix, so it is the one
//! to use when `p > n`: wide data (40000 features, 60 samples) costs `O(n^2 + n p)` memory
//! instead of `O(p^2)`. Both give the same solution (tests to `1e-8` relative in f64).

use burn::tensor::{DType, Device, Tensor};
use faer::Mat;

use super::gamma_search::{GammaSearch, Spectrum};
use super::moments::{Moments, trace_at_b};
use super::ridge::RidgeSolution;
use crate::error::{NgmnnError, Result};
use crate::linalg::{RidgeFactor, from_host, from_host_vec, to_host};
use crate::model::LayerParams;

/// Which system a [`ClassRidge`] was solved with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RidgeForm {
    /// `p x p`, from the moments of `[H | Y]`.
    Primal,
    /// `n x n`, from the rows of `H`.
    Dual,
}

/// How a [`ClassRidge`]'s ridge parameter is set.
#[derive(Debug, Clone, PartialEq)]
pub enum GammaRule {
    /// This value.
    Fixed(f64),
    /// The candidate of `grid` with the smallest generalised cross-validation score
    /// ([`super::gamma_search`]), among those above the rounding floor of sums accumulated
    /// with machine epsilon `eps` (the fit's device precision).
    Gcv {
        /// Candidates.
        grid: Vec<f64>,
        /// Machine epsilon of the sums (`f32::EPSILON` for an f32 fit).
        eps: f64,
    },
}

/// The part of a class-target ridge regression that depends only on the input and the labels.
#[derive(Debug)]
pub struct ClassRidge {
    /// `P`, `p x c`.
    projection: Mat<f64>,
    mean_h: Vec<f64>,
    mean_y: Vec<f64>,
    /// `S`, `c x c`.
    residual: Mat<f64>,
    form: RidgeForm,
    /// The ridge parameter solved with.
    gamma: f64,
    /// How it was chosen, for [`GammaRule::Gcv`].
    search: Option<GammaSearch>,
    /// Primal form: the factor of `Hc^T Hc + gamma I`, `Hc^T Yc` and `Yc^T Yc`, for
    /// [`ClassRidge::solve_proximal`].
    primal: Option<(RidgeFactor, Mat<f64>, Mat<f64>)>,
}

impl ClassRidge {
    /// The primal form from the moments of `[H | Y]` (accumulated over batches, shards or
    /// devices).
    ///
    /// # Errors
    /// [`NgmnnError::Numerical`] if `Hc^T Hc + gamma I` is not numerically positive definite,
    /// [`NgmnnError::NonFinite`] if the solution is not finite.
    pub fn from_moments(m: &Moments, gamma: f64) -> Result<Self> {
        Self::from_moments_with(m, &GammaRule::Fixed(gamma))
    }

    /// [`ClassRidge::from_moments`] with the ridge parameter set by `rule`.
    ///
    /// # Errors
    /// As [`ClassRidge::from_moments`]; for [`GammaRule::Gcv`], as
    /// [`Spectrum::search`] and when no candidate from the chosen one up factors.
    pub fn from_moments_with(m: &Moments, rule: &GammaRule) -> Result<Self> {
        let (hh, hy, yy) = (m.hh(), m.hz(), m.zz());
        let search = match rule {
            GammaRule::Fixed(_) => None,
            GammaRule::Gcv { grid, eps } => {
                let total = (0..yy.nrows()).map(|k| yy[(k, k)]).sum();
                let spectrum = Spectrum::primal(&hh, &hy, total, m.weight)?;
                let floor = spectrum.rounding_floor(*eps, square_norm(m.mean_h()));
                Some(spectrum.search(grid, floor)?)
            }
        };
        let (gamma, factor) =
            factor_with(rule, search.as_ref(), |g| RidgeFactor::new(hh.clone(), g))?;
        let projection = factor.solve(&hy)?;
        let residual = &yy - hy.transpose() * &projection;
        Ok(Self {
            projection,
            mean_h: m.mean_h().to_vec(),
            mean_y: m.mean_z().to_vec(),
            residual,
            form: RidgeForm::Primal,
            gamma,
            search,
            primal: Some((factor, hy, yy)),
        })
    }

    /// The dual form from the rows of the input `h` (`[n, p]`) and the one-hot labels `y`
    /// (`[n, c]`), on their device: the `n x n` Gram matrix and `Hc^T A` are device products,
    /// the `n x n` Cholesky solve is on the host in f64.
    ///
    /// # Errors
    /// [`NgmnnError::ShapeMismatch`] if the row counts differ; as [`ClassRidge::from_moments`].
    pub fn dual(h: &Tensor<2>, y: &Tensor<2>, gamma: f64) -> Result<Self> {
        Self::dual_with(h, y, &GammaRule::Fixed(gamma))
    }

    /// [`ClassRidge::dual`] with the ridge parameter set by `rule`.
    ///
    /// # Errors
    /// As [`ClassRidge::dual`] and [`ClassRidge::from_moments_with`].
    pub fn dual_with(h: &Tensor<2>, y: &Tensor<2>, rule: &GammaRule) -> Result<Self> {
        let ([n, _], [ny, _]) = (h.dims(), y.dims());
        if n != ny {
            return Err(NgmnnError::ShapeMismatch(format!(
                "{n} input rows for {ny} labels"
            )));
        }
        let (device, dtype) = (h.device(), h.dtype());
        let mean_h = h.clone().mean_dim(0);
        let hc = h.clone() - mean_h.clone();
        let gram = to_host(
            hc.clone().matmul(hc.clone().transpose()),
            "dual ridge Gram matrix H H^T",
        )?;
        let mean_y = y.clone().mean_dim(0);
        let yc = to_host(y.clone() - mean_y.clone(), "centred labels")?;
        let mean_h_host = to_host(mean_h.clone(), "dual ridge input means")?;
        let mu: Vec<f64> = (0..mean_h_host.ncols())
            .map(|j| mean_h_host[(0, j)])
            .collect();
        let search = match rule {
            GammaRule::Fixed(_) => None,
            GammaRule::Gcv { grid, eps } => {
                let spectrum = Spectrum::dual(&gram, &yc)?;
                let floor = spectrum.rounding_floor(*eps, square_norm(&mu));
                Some(spectrum.search(grid, floor)?)
            }
        };
        let (gamma, factor) =
            factor_with(rule, search.as_ref(), |g| RidgeFactor::new(gram.clone(), g))?;
        let a = factor.solve(&yc)?; // (K + gamma I)^-1 Yc, n x c
        let projection = to_host(
            hc.transpose().matmul(from_host(&a, &device, dtype)),
            "dual ridge projection H^T A",
        )?;
        let row = |t: Tensor<2>, what| -> Result<Vec<f64>> {
            let m = to_host(t, what)?;
            Ok((0..m.ncols()).map(|j| m[(0, j)]).collect())
        };
        Ok(Self {
            projection,
            mean_h: mu,
            mean_y: row(mean_y, "label means")?,
            residual: (yc.transpose() * &a) * faer::Scale(gamma),
            form: RidgeForm::Dual,
            gamma,
            search,
            primal: None,
        })
    }

    /// The form this system was solved with.
    pub fn form(&self) -> RidgeForm {
        self.form
    }

    /// The ridge parameter it was solved with (fixed, or chosen by [`GammaRule::Gcv`]).
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// The cross-validation scores behind [`ClassRidge::gamma`], for [`GammaRule::Gcv`].
    pub fn search(&self) -> Option<&GammaSearch> {
        self.search.as_ref()
    }

    /// The proximal solve (block coordinate descent, Zeng et al. 2019): the same objective
    /// plus `rho ||W - W_prev||^2`, for a system built with `gamma + rho` (so that its factor
    /// is of `F = Hc^T Hc + (gamma + rho) I`):
    /// ```text
    /// W = F^-1 (Hc^T Yc G + rho W_prev)        b = G^T mu_Y - W^T mu_H
    /// objective = tr(G^T Yc^T Yc G) - tr(W^T Hc^T Yc G) - rho tr(W^T W_prev) + rho ||W_prev||^2
    /// ```
    /// The label targets only correct the previous weights: a random full-rank start keeps
    /// directions the rank-`c` targets would drop.
    ///
    /// # Errors
    /// [`NgmnnError::InvalidConfig`] for a dual system (the proximal term is not in the rows'
    /// span) or `rho <= 0`; [`NgmnnError::ShapeMismatch`] for shapes that do not fit;
    /// [`NgmnnError::NonFinite`] if the solution is not finite.
    pub fn solve_proximal(
        &self,
        g: &Mat<f64>,
        w_prev: &Mat<f64>,
        rho: f64,
        device: &Device,
        dtype: DType,
    ) -> Result<RidgeSolution> {
        let Some((factor, hy, yy)) = &self.primal else {
            return Err(NgmnnError::config(
                "proximal",
                rho,
                "needs the primal form of the ridge system (an input no wider than the rows)",
            ));
        };
        if !(rho.is_finite() && rho > 0.0) {
            return Err(NgmnnError::config(
                "proximal",
                rho,
                "must be finite and > 0",
            ));
        }
        if g.nrows() != hy.ncols() || w_prev.nrows() != hy.nrows() || w_prev.ncols() != g.ncols() {
            return Err(NgmnnError::ShapeMismatch(format!(
                "proximal solve: targets {}x{} and previous weights {}x{} for a {}x{} system",
                g.nrows(),
                g.ncols(),
                w_prev.nrows(),
                w_prev.ncols(),
                hy.nrows(),
                hy.ncols()
            )));
        }
        let cross = hy * g; // Hc^T Tc
        let w = factor.solve(&(&cross + w_prev * faer::Scale(rho)))?;
        let b = self.bias(&w, g);
        let objective =
            trace_at_b(g, &(yy * g)) - trace_at_b(&w, &cross) - rho * trace_at_b(&w, w_prev)
                + rho * w_prev.squared_norm_l2();
        Ok(RidgeSolution {
            params: LayerParams {
                w: from_host(&w, device, dtype),
                b: from_host_vec(&b, device, dtype),
            },
            objective,
            w,
            b,
        })
    }

    /// `b = G^T mu_Y - W^T mu_H`.
    /// `P` and `a = mu_Y - P^T mu_H`: the layer's pre-activation for targets `G` is
    /// `H W + 1 b^T = (H P + 1 a^T) G`, so an input that does not change during a fit is
    /// projected onto the `c` columns `H P + 1 a^T` once, and each epoch's forward pass through
    /// the layer is an `n x c` times `c x q` product instead of `n x p` times `p x q`.
    pub fn projection(&self) -> (&Mat<f64>, Vec<f64>) {
        let p = &self.projection;
        let a = (0..p.ncols())
            .map(|j| {
                self.mean_y[j]
                    - (0..p.nrows())
                        .map(|i| p[(i, j)] * self.mean_h[i])
                        .sum::<f64>()
            })
            .collect();
        (p, a)
    }

    fn bias(&self, w: &Mat<f64>, g: &Mat<f64>) -> Vec<f64> {
        (0..w.ncols())
            .map(|j| {
                let mean_t: f64 = (0..g.nrows()).map(|k| g[(k, j)] * self.mean_y[k]).sum();
                mean_t
                    - (0..w.nrows())
                        .map(|i| w[(i, j)] * self.mean_h[i])
                        .sum::<f64>()
            })
            .collect()
    }

    /// Solve for the class targets `T = Y G` (`g`: `c x q`), the weights cast to `dtype` on
    /// `device`.
    ///
    /// # Errors
    /// [`NgmnnError::ShapeMismatch`] if `g` does not have one row per class;
    /// [`NgmnnError::NonFinite`] if the solution is not finite.
    pub fn solve(&self, g: &Mat<f64>, device: &Device, dtype: DType) -> Result<RidgeSolution> {
        if g.nrows() != self.mean_y.len() {
            return Err(NgmnnError::ShapeMismatch(format!(
                "class targets {}x{} for {} classes",
                g.nrows(),
                g.ncols(),
                self.mean_y.len()
            )));
        }
        let w = &self.projection * g;
        crate::linalg::ensure_finite(&w, "ridge solution")?;
        let b = self.bias(&w, g);
        Ok(RidgeSolution {
            params: LayerParams {
                w: from_host(&w, device, dtype),
                b: from_host_vec(&b, device, dtype),
            },
            objective: trace_at_b(g, &(&self.residual * g)),
            w,
            b,
        })
    }
}

fn square_norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum()
}

/// The factor at the rule's gamma: the fixed one, or the searched one and, should rounding
/// make its system indefinite, the next larger candidate that factors.
fn factor_with(
    rule: &GammaRule,
    search: Option<&GammaSearch>,
    factor: impl Fn(f64) -> Result<RidgeFactor>,
) -> Result<(f64, RidgeFactor)> {
    let candidates: Vec<f64> = match rule {
        GammaRule::Fixed(g) => vec![*g],
        GammaRule::Gcv { .. } => search.map(|f| f.fallbacks().collect()).unwrap_or_default(),
    };
    let mut last = None;
    for g in candidates {
        match factor(g) {
            Ok(f) => return Ok((g, f)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| NgmnnError::Numerical {
        context: "ridge regression",
        reason: "no ridge parameter to try".into(),
    }))
}
