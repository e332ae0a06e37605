//! Per-feature standardisation `x' = (x - mean) / std`, fitted on the training part only.

use serde::{Deserialize, Serialize};

use super::LabeledData;
use crate::error::{NgmnnError, Result};

/// Feature means and standard deviations of a training set. A constant feature gets
/// `std = 1` (it is only centred), so no division by zero can occur.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Per-feature mean.
    pub mean: Vec<f64>,
    /// Per-feature (population) standard deviation, 1 for constant features.
    pub std: Vec<f64>,
}

impl Standardizer {
    /// The smallest standard deviation a standardiser holds: [`Standardizer::fit`] gives a
    /// feature whose spread is not above `MIN_STD * max(|mean|, 1)` a std of 1.
    pub const MIN_STD: f64 = 1e-12;

    /// Fit on `data` (in f64).
    pub fn fit(data: &LabeledData) -> Self {
        let (n, d) = (data.n(), data.d());
        let mut mean = vec![0.0f64; d];
        for row in data.features().chunks_exact(d) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += v as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut var = vec![0.0f64; d];
        for row in data.features().chunks_exact(d) {
            for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (v as f64 - m).powi(2);
            }
        }
        let std = var
            .into_iter()
            .zip(&mean)
            .map(|(s, m)| {
                let sd = (s / n as f64).sqrt();
                if sd > Self::MIN_STD * m.abs().max(1.0) {
                    sd
                } else {
                    1.0
                }
            })
            .collect();
        Self { mean, std }
    }

    /// Check a standardiser read from a file for a model of `d_input` inputs: one mean and one
    /// standard deviation per input, means finite, standard deviations finite and at least
    /// [`Standardizer::MIN_STD`] (a std of 0 or below would turn every row into NaN or flip its sign).
    ///
    /// # Errors
    /// [`NgmnnError::ShapeMismatch`] naming the three lengths; [`NgmnnError::InvalidData`]
    /// naming the first bad value.
    pub fn check(&self, d_input: usize) -> Result<()> {
        let (means, stds) = (self.mean.len(), self.std.len());
        if means != d_input || stds != d_input {
            return Err(NgmnnError::ShapeMismatch(format!(
                "the standardiser has {means} means and {stds} standard deviations, the model \
                 {d_input} inputs"
            )));
        }
        if let Some((i, m)) = self.mean.iter().enumerate().find(|(_, m)| !m.is_finite()) {
            return Err(NgmnnError::data(
                Some("standardiser"),
                format!("mean[{i}] is {m}; every mean must be finite"),
            ));
        }
        let bad = |s: &f64| !(s.is_finite() && *s >= Self::MIN_STD);
        if let Some((i, s)) = self.std.iter().enumerate().find(|(_, s)| bad(s)) {
            return Err(NgmnnError::data(
                Some("standardiser"),
                format!(
                    "std[{i}] is {s}; every std must be finite and at least {:e}",
                    Self::MIN_STD
                ),
            ));
        }
        Ok(())
    }

    /// Standardise `data` in place.
    ///
    /// # Errors
    /// [`NgmnnError::ShapeMismatch`] if the feature counts differ.
    pub fn apply(&self, data: &mut LabeledData) -> Result<()> {
        let d = data.d();
        self.apply_rows(data.features_mut(), d)
    }

    /// Standardise row-major values with `d` features per row in place.
    ///
    /// # Errors
    /// [`NgmnnError::ShapeMismatch`] if `d` is not the fitted feature count; as
    /// [`Standardizer::check`] for an inconsistent standardiser.
    pub fn apply_rows(&self, x: &mut [f32], d: usize) -> Result<()> {
        if d != self.mean.len() {
            return Err(NgmnnError::ShapeMismatch(format!(
                "standardiser fitted on {} features, data has {d}",
                self.mean.len()
            )));
        }
        self.check(d)?;
        for row in x.chunks_exact_mut(d) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = ((*v as f64 - m) / s) as f32;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardizer_zero_mean_unit_std_and_constant_feature() {
        let x = vec![1.0, 5.0, 3.0, 5.0, 5.0, 5.0];
        let mut ds =
            LabeledData::new("t", x, vec![0, 1, 0], 2, vec!["a".into(), "b".into()]).unwrap();
        let s = Standardizer::fit(&ds);
        assert_eq!(s.std[1], 1.0);
        s.apply(&mut ds).unwrap();
        let col0: Vec<f32> = ds.features().iter().step_by(2).copied().collect();
        let mean: f32 = col0.iter().sum::<f32>() / 3.0;
        let var: f32 = col0.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 3.0;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5);
        assert!(ds.features().iter().skip(1).step_by(2).all(|&v| v == 0.0));
    }
}
