//! The ridge parameter of a class-target ridge regression chosen by generalised
//! cross-validation (Golub, Heath and Wahba 1979), from the system the fit already has.
//!
//! # Objective
//! For the lowest learned layer's fixed input `H` (`n x p`, centred `Hc`), the one-hot labels
//! `Y` (centred `Yc`) and a grid of candidates `gamma`:
//! ```text
//! minimise_gamma  GCV(gamma) = n RSS(gamma) / (n - df(gamma))^2
//! RSS(gamma) = ||Yc - Hc P_gamma||_F^2,   P_gamma = (Hc^T Hc + gamma I)^-1 Hc^T Yc
//! df(gamma)  = 1 + tr(Hc (Hc^T Hc + gamma I)^-1 Hc^T)        (the 1: the unpenalised bias)
//! ```
//! GCV is the leave-one-out squared error with every row's leverage replaced by the mean
//! leverage: it needs no pass over the rows, only the spectrum of the system.
//!
//! # Closed form
//! With `Hc^T Hc = V diag(e) V^T` (primal, `p x p`) and `B = V^T Hc^T Yc`, or
//! `Hc Hc^T = U diag(e) U^T` (dual, `n x n`) and `B_j = sqrt(e_j) U_j^T Yc`:
//! ```text
//! RSS(gamma) = ||Yc||^2 - sum_j ||B_j||^2 (e_j + 2 gamma) / (e_j + gamma)^2
//! df(gamma)  = 1 + sum_j e_j / (e_j + gamma)
//! ```
//! One symmetric eigendecomposition of the system's size, then `O(p (c + |grid|))`. Ties go to
//! the larger gamma. Candidates below the rounding floor of the sums (`eps * tr(H^T H)` of the
//! precision they were accumulated in: an f32 Gram matrix of 60000 unit rows is exact to about
//! `4e-3`) are not tried: below it the system is rounding, not data.
//!
//! Why it matters (docs/beyond-the-paper.md): with the broad preset's fixed 0.03 the lowest
//! learned layer is the ridge read-out of the random layer at 0.03, which over-smooths sets
//! with many classes and few rows per class (15 classes, 24 rows each: 0.809 vs 0.880 with the
//! gamma cross-validation picks).

use faer::Mat;

use crate::error::{NgmnnError, Result};
use crate::linalg::symmetric_eigen;

/// The candidates tried by default: half-decades from `1e-5` to `10`.
pub const GCV_GRID: [f64; 13] = [
    1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0,
];

/// One candidate's score.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GcvScore {
    /// The candidate.
    pub gamma: f64,
    /// `GCV(gamma)`; infinite where the fit interpolates (`df >= n`).
    pub score: f64,
    /// Effective degrees of freedom `df(gamma)`.
    pub dof: f64,
}

/// The outcome: the chosen gamma and every candidate's score, in grid order.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GammaSearch {
    /// The candidate with the smallest score (the larger among ties).
    pub gamma: f64,
    /// Every candidate tried, ascending.
    pub scores: Vec<GcvScore>,
}

impl GammaSearch {
    /// The candidates from the chosen one upwards, in the order to try them should the chosen
    /// system not factor (rounding in the Gram matrix): the chosen one first.
    pub fn fallbacks(&self) -> impl Iterator<Item = f64> + '_ {
        self.scores
            .iter()
            .map(|s| s.gamma)
            .filter(move |&g| g >= self.gamma)
    }
}

/// The spectrum of a ridge system and the labels' weight along each eigenvector.
#[derive(Debug, Clone)]
pub struct Spectrum {
    /// Eigenvalues `e_j >= 0` (clamped at zero).
    pub eigenvalues: Vec<f64>,
    /// `||B_j||^2` (see the module docs).
    pub weights: Vec<f64>,
    /// `||Yc||^2`.
    pub total: f64,
    /// Rows (the total sample weight).
    pub n: f64,
}

impl Spectrum {
    /// Primal form: from `Hc^T Hc` (`p x p`), `Hc^T Yc` (`p x c`) and `||Yc||^2`.
    ///
    /// # Errors
    /// [`NgmnnError::Numerical`] if the eigensolver fails.
    pub fn primal(hh: &Mat<f64>, hy: &Mat<f64>, total: f64, n: f64) -> Result<Self> {
        let (e, v) = eigen(hh)?;
        let b = v.transpose() * hy;
        let weights = (0..b.nrows())
            .map(|j| (0..b.ncols()).map(|k| b[(j, k)].powi(2)).sum())
            .collect();
        Ok(Self {
            eigenvalues: e,
            weights,
            total,
            n,
        })
    }

    /// Dual form: from `Hc Hc^T` (`n x n`) and `Yc` (`n x c`).
    ///
    /// # Errors
    /// [`NgmnnError::Numerical`] if the eigensolver fails.
    pub fn dual(gram: &Mat<f64>, yc: &Mat<f64>) -> Result<Self> {
        let (e, u) = eigen(gram)?;
        let c = u.transpose() * yc;
        let weights = (0..c.nrows())
            .map(|j| e[j] * (0..c.ncols()).map(|k| c[(j, k)].powi(2)).sum::<f64>())
            .collect();
        Ok(Self {
            eigenvalues: e,
            weights,
            total: yc.squared_norm_l2(),
            n: yc.nrows() as f64,
        })
    }

    /// `(RSS(gamma), df(gamma))`.
    pub fn rss_dof(&self, gamma: f64) -> (f64, f64) {
        let (mut explained, mut dof) = (0.0, 1.0);
        for (&e, &w) in self.eigenvalues.iter().zip(&self.weights) {
            let d = e + gamma;
            explained += w * (e + 2.0 * gamma) / (d * d);
            dof += e / d;
        }
        ((self.total - explained).max(0.0), dof)
    }

    /// `eps * tr(H^T H)` for sums accumulated with machine epsilon `eps`: the smallest gamma
    /// worth trying ([`Spectrum::search`]). `mean_square` is `||mean(H)||^2`.
    pub fn rounding_floor(&self, eps: f64, mean_square: f64) -> f64 {
        eps * (self.eigenvalues.iter().sum::<f64>() + self.n * mean_square)
    }

    /// Score every candidate of `grid` at or above `floor` and choose.
    ///
    /// # Errors
    /// [`NgmnnError::InvalidConfig`] if no candidate is at or above `floor` or the grid holds a
    /// value that is not finite and positive.
    pub fn search(&self, grid: &[f64], floor: f64) -> Result<GammaSearch> {
        if let Some(&bad) = grid.iter().find(|g| !(g.is_finite() && **g > 0.0)) {
            return Err(NgmnnError::config(
                "gamma grid",
                bad,
                "every candidate must be finite and > 0",
            ));
        }
        let mut grid: Vec<f64> = grid.iter().copied().filter(|&g| g >= floor).collect();
        grid.sort_by(f64::total_cmp);
        let scores: Vec<GcvScore> = grid
            .iter()
            .map(|&gamma| {
                let (rss, dof) = self.rss_dof(gamma);
                let room = self.n - dof;
                let score = if room > 0.5 {
                    self.n * rss / (room * room)
                } else {
                    f64::INFINITY
                };
                GcvScore { gamma, score, dof }
            })
            .collect();
        let best = scores
            .iter()
            .fold(None::<&GcvScore>, |best, s| match best {
                Some(b) if b.score < s.score => Some(b),
                _ => Some(s),
            })
            .ok_or_else(|| {
                NgmnnError::config(
                    "gamma grid",
                    format!("{} candidates", scores.len()),
                    format!(
                        "none is at or above {floor:e}, the rounding floor of the system's sums: \
                         use precision f64 or larger candidates"
                    ),
                )
            })?;
        Ok(GammaSearch {
            gamma: best.gamma,
            scores,
        })
    }
}

fn eigen(s: &Mat<f64>) -> Result<(Vec<f64>, Mat<f64>)> {
    crate::linalg::ensure_finite(s, "ridge system for the gamma search")?;
    let (vals, vecs) = symmetric_eigen(s).map_err(|e| NgmnnError::Numerical {
        context: "gamma search",
        reason: format!("symmetric eigendecomposition failed: {e:?}"),
    })?;
    let e = (0..s.nrows())
        .map(|i| vals.column_vector()[i].max(0.0))
        .collect();
    Ok((e, vecs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::linalg::solvers::DenseSolveCore;

    /// A small system with a known answer: `H` with orthogonal centred columns.
    fn data(n: usize, p: usize, seed: u64) -> (Mat<f64>, Mat<f64>) {
        let mut s = seed;
        let mut next = move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        };
        let h = Mat::from_fn(n, p, |_, _| next());
        let y = Mat::from_fn(n, 2, |i, k| {
            let t = h[(i, 0)] - h[(i, 1)] + 0.3 * next();
            if (t > 0.0) == (k == 0) { 1.0 } else { 0.0 }
        });
        (centre(&h), centre(&y))
    }

    fn centre(m: &Mat<f64>) -> Mat<f64> {
        let n = m.nrows() as f64;
        let means: Vec<f64> = (0..m.ncols())
            .map(|j| (0..m.nrows()).map(|i| m[(i, j)]).sum::<f64>() / n)
            .collect();
        Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)] - means[j])
    }

    /// RSS and df from the spectrum equal the direct computation, in both forms.
    #[test]
    fn spectrum_matches_the_direct_ridge_fit() {
        let (hc, yc) = data(40, 6, 3);
        let hh = hc.transpose() * &hc;
        let hy = hc.transpose() * &yc;
        let primal = Spectrum::primal(&hh, &hy, yc.squared_norm_l2(), 40.0).unwrap();
        let dual = Spectrum::dual(&(&hc * hc.transpose()), &yc).unwrap();
        for gamma in [1e-3, 0.1, 10.0] {
            let mut a = hh.clone();
            for i in 0..6 {
                a[(i, i)] += gamma;
            }
            let inv = a.llt(faer::Side::Lower).unwrap().inverse();
            let resid = &yc - &hc * (&inv * &hy);
            let dof = 1.0
                + (&hc * &inv * hc.transpose())
                    .diagonal()
                    .column_vector()
                    .sum();
            for (rss, df) in [primal.rss_dof(gamma), dual.rss_dof(gamma)] {
                assert!((rss - resid.squared_norm_l2()).abs() < 1e-9, "{rss}");
                assert!((df - dof).abs() < 1e-9, "{df} vs {dof}");
            }
        }
    }

    /// The chosen candidate has the smallest score; candidates under the floor are skipped;
    /// an empty or broken grid is an error, not a panic.
    #[test]
    fn search_picks_the_smallest_score_above_the_floor() {
        let (hc, yc) = data(60, 20, 5);
        let s = Spectrum::dual(&(&hc * hc.transpose()), &yc).unwrap();
        let found = s.search(&GCV_GRID, 0.0).unwrap();
        let min = found
            .scores
            .iter()
            .map(|c| c.score)
            .fold(f64::INFINITY, f64::min);
        let chosen = found
            .scores
            .iter()
            .find(|c| c.gamma == found.gamma)
            .unwrap();
        assert_eq!(chosen.score, min);
        assert!(found.fallbacks().all(|g| g >= found.gamma));
        let floored = s.search(&GCV_GRID, 0.05).unwrap();
        assert!(floored.scores.iter().all(|c| c.gamma >= 0.05));
        assert!(s.search(&GCV_GRID, 100.0).is_err());
        assert!(s.search(&[0.1, f64::NAN], 0.0).is_err());
    }

    /// Pure noise labels: GCV prefers heavy smoothing to fitting the noise.
    #[test]
    fn noise_labels_get_a_large_gamma() {
        let (hc, _) = data(80, 30, 7);
        let (_, noise) = data(80, 30, 99);
        let s = Spectrum::dual(&(&hc * hc.transpose()), &noise).unwrap();
        let found = s.search(&GCV_GRID, 0.0).unwrap();
        assert!(found.gamma >= 1.0, "{}", found.gamma);
    }
}
