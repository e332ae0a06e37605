//! The small dense factorisations, on the host in f64 (faer).
//!
//! * [`RidgeFactor`]: Cholesky factor of `G + gamma I` for the forward ridge regression (spec §1).
//! * [`SymInvSqrt`]: `S^-1/2` from a symmetric eigendecomposition (spec §3 C).
//! * [`procrustes`]: `U V^T` from a thin SVD, the orthogonal Procrustes solution (spec §3 C).

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::solvers::Solve;
use faer::{Mat, Par, Side};

use crate::error::{NgmnnError, Result};

/// Cholesky factorisation of a ridge system `A = G + gamma I` (`G` a Gram matrix, `gamma > 0`).
///
/// # Numerical behavior
/// `A` is symmetric positive definite in exact arithmetic whenever `gamma > 0`. If rounding in
/// the Gram matrix (e.g. an f32 Gram of raw 0-255 pixels, spec §6) makes it indefinite, the
/// factorisation fails with [`NgmnnError::Numerical`] instead of returning a garbage solution.
/// It catches only that: a Gram matrix that rounding left positive definite but inaccurate
/// (ill-conditioned in f32) factors and gives an inaccurate solution; use f64 there.
#[derive(Debug)]
pub struct RidgeFactor {
    llt: faer::linalg::solvers::Llt<f64>,
    dim: usize,
}

impl RidgeFactor {
    /// Factor `gram + gamma I`.
    ///
    /// # Errors
    /// [`NgmnnError::Numerical`] if the matrix is not positive definite or not square,
    /// [`NgmnnError::NonFinite`] if it holds NaN/inf.
    pub fn new(mut gram: Mat<f64>, gamma: f64) -> Result<Self> {
        let dim = gram.nrows();
        if gram.ncols() != dim {
            return Err(NgmnnError::ShapeMismatch(format!(
                "Gram matrix is {}x{}, not square",
                dim,
                gram.ncols()
            )));
        }
        for i in 0..dim {
            gram[(i, i)] += gamma;
        }
        let llt = gram.llt(Side::Lower).map_err(|e| NgmnnError::Numerical {
            context: "ridge regression",
            reason: format!(
                "the Gram matrix + gamma I ({dim}x{dim}, gamma = {gamma}) is not positive definite ({e:?}); \
                 the Gram matrix lost precision: use precision f64 or scale/standardise the inputs"
            ),
        })?;
        Ok(Self { llt, dim })
    }

    /// Size of the system.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Solve `(G + gamma I) W = rhs`.
    ///
    /// # Errors
    /// [`NgmnnError::ShapeMismatch`] if `rhs` has the wrong number of rows;
    /// [`NgmnnError::NonFinite`] if the solution is not finite.
    pub fn solve(&self, rhs: &Mat<f64>) -> Result<Mat<f64>> {
        if rhs.nrows() != self.dim {
            return Err(NgmnnError::ShapeMismatch(format!(
                "ridge right-hand side has {} rows, system has {}",
                rhs.nrows(),
                self.dim
            )));
        }
        let w = self.llt.solve(rhs);
        ensure_finite(&w, "ridge solution")?;
        Ok(w)
    }
}

/// Below this dimension the small host factorisations run on one thread: on matrices this
/// small Rayon's thread hand-offs cost more than the parallel work saves (measured with faer
/// sequential throughout, 2-core flex: att40 [64] 5.06 -> 3.84 ms per epoch, umist [64, 32]
/// 3.83 -> 2.44 ms).
const SEQUENTIAL_BELOW: usize = 512;

/// faer's parallelism for a matrix of dimension `dim`: sequential when small
/// ([`SEQUENTIAL_BELOW`]), faer's global setting otherwise.
pub(crate) fn par_for(dim: usize) -> Par {
    if dim < SEQUENTIAL_BELOW {
        Par::Seq
    } else {
        faer::get_global_parallelism()
    }
}

/// `a * b` with [`par_for`] the larger dimension.
pub(crate) fn product(a: faer::MatRef<'_, f64>, b: faer::MatRef<'_, f64>) -> Mat<f64> {
    let mut out = Mat::zeros(a.nrows(), b.ncols());
    let par = par_for(a.nrows().max(a.ncols()).max(b.ncols()));
    faer::linalg::matmul::matmul(out.as_mut(), faer::Accum::Replace, a, b, 1.0, par);
    out
}

/// Eigenvalues (ascending) and eigenvectors of the symmetric `s` (its lower triangle).
pub(crate) fn symmetric_eigen(
    s: &Mat<f64>,
) -> std::result::Result<(Diag<f64>, Mat<f64>), faer::linalg::evd::EvdError> {
    use faer::linalg::evd::{ComputeEigenvectors, self_adjoint_evd, self_adjoint_evd_scratch};
    let k = s.nrows();
    let par = par_for(k);
    let (mut vals, mut u) = (Diag::zeros(k), Mat::zeros(k, k));
    let scratch =
        self_adjoint_evd_scratch::<f64>(k, ComputeEigenvectors::Yes, par, Default::default());
    self_adjoint_evd(
        s.as_ref(),
        vals.as_mut(),
        Some(u.as_mut()),
        par,
        MemStack::new(&mut MemBuffer::new(scratch)),
        Default::default(),
    )?;
    Ok((vals, u))
}

/// A thin SVD's `(U, S, V)`.
type ThinSvd = (Mat<f64>, Vec<f64>, Mat<f64>);

/// The thin SVD `b = U diag(S) V^T`: `(U, S, V)`.
fn thin_svd(b: faer::MatRef<'_, f64>) -> std::result::Result<ThinSvd, faer::linalg::svd::SvdError> {
    use faer::linalg::svd::{ComputeSvdVectors, svd, svd_scratch};
    let (m, n) = b.shape();
    let size = m.min(n);
    let par = par_for(m.max(n));
    let (mut u, mut v, mut sv) = (Mat::zeros(m, size), Mat::zeros(n, size), Diag::zeros(size));
    let thin = ComputeSvdVectors::Thin;
    let scratch = svd_scratch::<f64>(m, n, thin, thin, par, Default::default());
    svd(
        b,
        sv.as_mut(),
        Some(u.as_mut()),
        Some(v.as_mut()),
        par,
        MemStack::new(&mut MemBuffer::new(scratch)),
        Default::default(),
    )?;
    let sigma = (0..size).map(|i| sv.column_vector()[i]).collect();
    Ok((u, sigma, v))
}

/// `S^-1/2` of a symmetric positive (semi-)definite matrix, with its eigenvalues.
#[derive(Debug)]
pub struct SymInvSqrt {
    /// `S^-1/2 = V diag(1/sqrt(max(lambda_i, floor))) V^T`.
    pub inv_sqrt: Mat<f64>,
    /// Eigenvalues of `S`, ascending.
    pub eigenvalues: Vec<f64>,
}

impl SymInvSqrt {
    /// Compute `S^-1/2` by a symmetric eigendecomposition.
    ///
    /// # Numerical behavior
    /// Eigenvalues are clamped from below at `lambda_max * k * eps(f64)` (and at the smallest
    /// positive normal number), so a numerically semi-definite `S` gives a finite result.
    ///
    /// # Errors
    /// [`NgmnnError::Numerical`] if the eigen solver does not converge or `S` has no positive
    /// eigenvalue; [`NgmnnError::NonFinite`] for NaN/inf input.
    pub fn new(s: &Mat<f64>) -> Result<Self> {
        ensure_finite(s, "decision-layer scatter matrix S")?;
        let k = s.nrows();
        let (eigenvalues, u) = symmetric_eigen(s).map_err(|e| NgmnnError::Numerical {
            context: "decision layer (S^-1/2)",
            reason: format!("symmetric eigendecomposition failed: {e:?}"),
        })?;
        let vals: Vec<f64> = (0..k).map(|i| eigenvalues.column_vector()[i]).collect();
        let max = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if max.is_nan() || max <= 0.0 {
            return Err(NgmnnError::Numerical {
                context: "decision layer (S^-1/2)",
                reason: format!("S has no positive eigenvalue (largest {max})"),
            });
        }
        let floor = (max * k as f64 * f64::EPSILON).max(f64::MIN_POSITIVE);
        let scaled = Mat::from_fn(k, k, |i, m| u[(i, m)] / vals[m].max(floor).sqrt());
        let inv_sqrt = product(scaled.as_ref(), u.transpose());
        Ok(Self {
            inv_sqrt,
            eigenvalues: vals,
        })
    }
}

/// Relative size (to the largest) below which a singular value of the Procrustes input is
/// treated as zero, i.e. the maximiser is not unique along that direction, when the input was
/// accumulated in f64 ([`procrustes_rank_tol`] for other dtypes).
pub const PROCRUSTES_RANK_TOL: f64 = 1e-9;

/// [`PROCRUSTES_RANK_TOL`] for an input whose sums were accumulated in `dtype`: at least
/// `1000 eps` of that dtype, so that a singular value that is zero up to rounding is seen as
/// zero (in f32 the f64 tolerance never engages and the tie-break would not act).
pub fn procrustes_rank_tol(dtype: burn::tensor::DType) -> f64 {
    PROCRUSTES_RANK_TOL.max(1e3 * crate::solve::moments::epsilon(dtype))
}

/// Orthogonal Procrustes: the `Q` with orthonormal columns maximising `tr(Q^T B)`.
///
/// ```text
/// B = U Sigma V^T (thin SVD)   =>   Q = U V^T
/// ```
///
/// # Shapes
/// `b`: `[k, c]` with `k >= c`; returns `[k, c]`.
///
/// # Errors
/// [`NgmnnError::Numerical`] if the SVD does not converge; [`NgmnnError::NonFinite`] for NaN.
pub fn procrustes(b: &Mat<f64>) -> Result<Mat<f64>> {
    procrustes_near(b, None, PROCRUSTES_RANK_TOL)
}

/// [`procrustes`] with a tie-break: when `B` is rank-deficient (rank `r < c`) every
/// `Q = U_r V_r^T + Q_0 V_0^T` with `Q_0` orthonormal and orthogonal to `U_r` is a maximiser,
/// and the SVD's own completion `Q_0 = U_0` is arbitrary (it moves with rounding, so with the
/// order of the samples). With a `reference` `P` (`[k, c]`), `Q_0` is the one closest to `P`
/// among them: the polar factor of `(I - U_r U_r^T) P V_0`. The objective `tr(Q^T B)` is the
/// same; only the choice among equal optima becomes a continuous function of the data.
/// Singular values below `tol` times the largest count as zero ([`procrustes_rank_tol`]).
///
/// # Errors
/// As [`procrustes`].
pub fn procrustes_near(b: &Mat<f64>, reference: Option<&Mat<f64>>, tol: f64) -> Result<Mat<f64>> {
    ensure_finite(b, "Procrustes input")?;
    let svd_err = |e| NgmnnError::Numerical {
        context: "decision layer (Procrustes SVD)",
        reason: format!("{e:?}"),
    };
    let (u, sigma, v) = thin_svd(b.as_ref()).map_err(svd_err)?;
    let q = product(u.as_ref(), v.transpose());
    ensure_finite(&q, "Procrustes solution")?;
    let Some(p) = reference else {
        return Ok(q);
    };
    let c = b.ncols();
    let largest = sigma.iter().copied().fold(0.0, f64::max);
    let (kept, null): (Vec<usize>, Vec<usize>) = (0..c).partition(|&i| sigma[i] > tol * largest);
    if null.is_empty() || kept.is_empty() || p.nrows() != b.nrows() || p.ncols() != c {
        return Ok(q);
    }
    let k = b.nrows();
    let ur = Mat::from_fn(k, kept.len(), |i, j| u[(i, kept[j])]);
    let vr = Mat::from_fn(c, kept.len(), |i, j| v[(i, kept[j])]);
    let v0 = Mat::from_fn(c, null.len(), |i, j| v[(i, null[j])]);
    let pv = p * &v0;
    let projected = &pv - &ur * (ur.transpose() * &pv);
    let (pu, psigma, pv) = thin_svd(projected.as_ref()).map_err(svd_err)?;
    let smallest = psigma.iter().copied().fold(f64::INFINITY, f64::min);
    if smallest.is_nan() || smallest <= tol * largest.max(f64::MIN_POSITIVE) {
        // The reference says nothing about some null direction: keep the SVD's completion.
        return Ok(q);
    }
    let q0 = product(pu.as_ref(), pv.transpose());
    let q = &ur * vr.transpose() + &q0 * v0.transpose();
    ensure_finite(&q, "Procrustes solution")?;
    Ok(q)
}

pub(crate) fn ensure_finite(m: &Mat<f64>, what: &str) -> Result<()> {
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            if !m[(i, j)].is_finite() {
                return Err(NgmnnError::NonFinite(what.to_owned()));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spd(k: usize) -> Mat<f64> {
        let a = Mat::from_fn(k + 3, k, |i, j| ((i * 7 + j * 13) % 11) as f64 / 11.0 - 0.4);
        let mut s = a.transpose() * &a;
        for i in 0..k {
            s[(i, i)] += 0.1;
        }
        s
    }

    #[test]
    fn ridge_factor_solves_the_system() {
        let g = spd(6);
        let rhs = Mat::from_fn(6, 2, |i, j| (i + 2 * j) as f64);
        let f = RidgeFactor::new(g.clone(), 0.3).unwrap();
        let w = f.solve(&rhs).unwrap();
        let mut a = g;
        for i in 0..6 {
            a[(i, i)] += 0.3;
        }
        let r = &a * &w - &rhs;
        assert!(
            r.norm_max() < 1e-10 * rhs.norm_max(),
            "residual {}",
            r.norm_max()
        );
    }

    #[test]
    fn ridge_factor_rejects_indefinite() {
        let mut g = Mat::<f64>::identity(3, 3);
        g[(1, 1)] = -5.0;
        assert!(matches!(
            RidgeFactor::new(g, 0.3),
            Err(NgmnnError::Numerical { .. })
        ));
    }

    #[test]
    fn inv_sqrt_whitens() {
        let s = spd(5);
        let r = SymInvSqrt::new(&s).unwrap().inv_sqrt;
        let i = &r * &s * &r;
        let err = (&i - Mat::<f64>::identity(5, 5)).norm_max();
        assert!(err < 1e-9, "S^-1/2 S S^-1/2 - I = {err}");
    }

    #[test]
    fn procrustes_gives_orthonormal_columns() {
        let b = Mat::from_fn(7, 3, |i, j| ((i * 5 + j * 3) % 7) as f64 - 2.5);
        let q = procrustes(&b).unwrap();
        let err = (q.transpose() * &q - Mat::<f64>::identity(3, 3)).norm_max();
        assert!(err < 1e-12, "Q^T Q - I = {err}");
    }
}
