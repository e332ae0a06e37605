//! The lowest learned layer's ridge system (its input never changes during a fit): primal from
//! the moments of `[H | Y]`, or dual from the rows of `H` when `H` is wider than it is tall
//! ([`ClassRidge`]), with the memory it needs checked before anything that size is allocated.

use burn::tensor::Tensor;

use super::ClosedFormFit;
use crate::error::{NgmnnError, Result};
use crate::memory::{dual_system_bytes, ensure_fits, layer_moments_bytes};
use crate::model::Activations;
use crate::solve::class_ridge::{ClassRidge, RidgeForm};
use crate::solve::moments::epsilon;
use crate::train::rows::BatchView;

/// A stream whose lowest learned layer is wider than this is counted before its system is
/// chosen: a primal `p x p` factorisation of that size (about `p^3 / 3` flops, 2e10 at 4096)
/// costs more than a pass over the rows, and the dual may be far cheaper.
const COUNT_ABOVE_WIDTH: usize = 4096;

impl ClosedFormFit {
    /// Choose the form of the lowest learned layer's system: dual when its input width `p`
    /// exceeds the number of rows `n` (same solution, `O(n^2 + n p)` memory instead of
    /// `O(p^2)`), primal otherwise. `n` is known for resident rows; a stream is counted in one
    /// extra pass when the primal system would be costly (wider than [`COUNT_ABOVE_WIDTH`]) or
    /// would not fit. Checks that the chosen system fits
    /// in memory.
    ///
    /// # Errors
    /// [`NgmnnError::OutOfMemory`] naming the system and the remedies; a stream's errors.
    pub(super) fn choose_base_form(&mut self, classes: usize) -> Result<RidgeForm> {
        let base = self.base;
        let p = self.params[base].w.dims()[0];
        let limit = self.config.memory_limit;
        let primal = layer_moments_bytes(p, classes).unwrap_or(u64::MAX);
        let what = format!("the moments of layer {}'s {p} inputs", base + 1);
        let remedy = if base == 0 {
            "use the broad preset (the default: its random first layer needs O(d r), not \
             O(d^2)), reduce the features (e.g. PCA), or raise --memory-limit"
        } else {
            "narrow the random first layer (--hidden) or raise --memory-limit"
        };
        let mut n = (!self.counts.is_empty()).then(|| self.counts.iter().sum::<usize>());
        let costly = p > COUNT_ABOVE_WIDTH || ensure_fits(primal, limit, &what, remedy).is_err();
        // A stream is counted only where the dual form may be the answer: not when its source
        // knows it has at least `p` rows (a 200000-row file of 40000 features gets its memory
        // error without being read).
        let hint = self.rows.rows_hint();
        if n.is_none() && costly && hint.is_none_or(|rows| rows < p) {
            n = Some(self.count_rows(classes)?);
        }
        match n {
            // The proximal solve needs the primal form.
            Some(n) if p > n && self.config.proximal.is_none() => {
                let bytes = dual_system_bytes(n, p, classes, self.dtype.size());
                let what = format!(
                    "the dual system of layer {}'s {p} inputs over {n} rows",
                    base + 1
                );
                ensure_fits(
                    bytes.unwrap_or(u64::MAX),
                    limit,
                    &what,
                    "reduce the features or the rows, or raise --memory-limit",
                )?;
                Ok(RidgeForm::Dual)
            }
            _ => {
                ensure_fits(primal, limit, &what, remedy)?;
                Ok(RidgeForm::Primal)
            }
        }
    }

    /// One pass that only counts the rows (a stream's counts are those of its last pass).
    fn count_rows(&mut self, classes: usize) -> Result<usize> {
        let activation = self.activation;
        self.rows
            .top_pass(&[], activation, &|_, _| Ok(()), &|(), ()| ())?;
        self.passes += 1;
        Ok(self.rows.counts(classes)?.iter().sum())
    }

    /// The dual system of the lowest learned layer: one forward pass gathers its input `H`
    /// and the one-hot labels of every row on the fit's device.
    ///
    /// # Errors
    /// The solver's errors; [`NgmnnError::InvalidData`] without rows.
    pub(super) fn dual_system(&mut self) -> Result<ClassRidge> {
        let (base, device) = (self.base, self.device.clone());
        let kernel = |batch: &BatchView<'_>, acts: &Activations| -> Result<Gathered> {
            Ok((
                vec![acts.inputs[base].clone().to_device(&device)],
                vec![batch.y.clone().to_device(&device)],
            ))
        };
        let concat = |mut a: Gathered, b: Gathered| {
            a.0.extend(b.0);
            a.1.extend(b.1);
            a
        };
        let (h, y) = self
            .rows
            .forward_pass(
                &self.params,
                self.activation,
                None,
                &self.steps,
                &kernel,
                &concat,
            )?
            .ok_or_else(|| NgmnnError::data(None, "no training rows"))?;
        self.passes += 1;
        let rule = self.config.base_gamma_rule(epsilon(self.dtype));
        ClassRidge::dual_with(&Tensor::cat(h, 0), &Tensor::cat(y, 0), &rule)
    }
}

/// Rows of `H` and `Y` gathered in row order.
type Gathered = (Vec<Tensor<2>>, Vec<Tensor<2>>);
