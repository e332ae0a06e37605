//! The baseline the broad preset's learned layers are measured against: a ridge read-out of
//! the one-hot labels on exactly the random first layer the head reads (docs/beyond-the-paper.md).
//!
//! # Objective
//! ```text
//! minimise_{P, a}  ||H P + 1 a^T - Y||_F^2 + gamma ||P||_F^2        (bias not penalised)
//! H = rownorm(sigmoid(X R + 1 b^T))      the broad preset's random layer, scaled to the data
//! ```
//! `gamma` is the candidate of a fixed grid with the best accuracy on a stratified validation
//! split of the training rows (ties: the larger gamma), refitted on all of them.
//!
//! # Closed form
//! `P = (Hc^T Hc + gamma I)^-1 Hc^T Yc`, `a = mu_Y - P^T mu_H` ([`ClassRidge`]). The moments of
//! `[H | Y]` over the training part and the validation part are computed once each (one pass
//! over the rows); every candidate is a `p x p` Cholesky solve on the training part's moments
//! and a product with the validation rows' `H`, kept on the device; the refit merges the two
//! moments (Chan et al.'s update, [`Moments::merge`]).
//!
//! The result is an [`Ngmnn`] with one hidden layer (the random one) whose decision layer is
//! `P`, `a`: it predicts, saves, loads and evaluates like any other model. Its set-up (scaling
//! the random layer) is the closed-form fit's, which also builds that fit's lowest learned
//! system: one Gram matrix more than the read-out needs (counted in its time).

use burn::tensor::{Device, Int, Tensor};

use super::closed_form::chunking;
use super::{ClosedFormConfig, GammaSelection, Preset};
use crate::data::LabeledData;
use crate::error::{NgmnnError, Result};
use crate::linalg::{from_host, from_host_vec, to_host_vec};
use crate::model::{LayerParams, Ngmnn, NgmnnConfig, row_normalize};
use crate::solve::{class_ridge::ClassRidge, gamma_search::GCV_GRID, moments::Moments};

/// How the ridge read-out baseline is fitted.
#[derive(Debug, Clone)]
pub struct RidgeReadoutConfig {
    /// The random layer's settings (scale, offset, image shape, precision, chunk size), as
    /// for the broad preset's fit it is compared with.
    pub closed_form: ClosedFormConfig,
    /// Candidates for `gamma`.
    pub grid: Vec<f64>,
    /// Fraction of the training rows held out to choose `gamma` (stratified).
    pub validation: f64,
    /// Seed of the validation split.
    pub seed: u64,
}

/// What the fit chose.
#[derive(Debug, Clone, PartialEq)]
pub struct RidgeReadout {
    /// The chosen ridge parameter.
    pub gamma: f64,
    /// Validation accuracy of every candidate (`None`: its system did not factor).
    pub validation_acc: Vec<(f64, Option<f64>)>,
}

impl RidgeReadoutConfig {
    /// The baseline for a fit with `closed_form`'s random layer: the candidates of
    /// [`GCV_GRID`], a 20% validation split, seed 0.
    pub fn new(closed_form: ClosedFormConfig) -> Self {
        Self {
            closed_form,
            grid: GCV_GRID.to_vec(),
            validation: 0.2,
            seed: 0,
        }
    }

    /// Fit the read-out on `model`'s random first layer (`model.hidden[0]` units, seeded as
    /// `model`): the returned network has that one hidden layer.
    ///
    /// # Errors
    /// [`NgmnnError::InvalidConfig`] for a model without hidden layers, an empty grid or a
    /// validation fraction outside `(0, 1)`; the closed-form set-up's errors; as
    /// [`LabeledData::stratified_split`]; [`NgmnnError::Numerical`] if no candidate factors.
    pub fn fit(
        &self,
        model: &NgmnnConfig,
        train: &LabeledData,
        device: &Device,
    ) -> Result<(Ngmnn, RidgeReadout)> {
        let Some(&width) = model.hidden.first() else {
            return Err(NgmnnError::config(
                "hidden",
                "[]",
                "the ridge read-out reads a random hidden layer: give at least one width",
            ));
        };
        if self.grid.is_empty() {
            return Err(NgmnnError::config("grid", "[]", "give at least one gamma"));
        }
        // The broad preset's set-up scales the random layer to the data (needs a learned
        // layer above it; its width does not matter here).
        let setup = self
            .closed_form
            .clone()
            .with_preset(Preset::Broad)
            .with_epochs(1)
            .with_gamma(None)
            .with_gamma_selection(Some(GammaSelection::Fixed));
        let head = NgmnnConfig {
            hidden: vec![width, model.n_classes],
            ..model.clone()
        };
        let setup = setup.init()?;
        let head = head.init(device)?;
        // Rows per chunk as the fit it is compared with takes them.
        let chunk = chunking(setup.config(), &head).0;
        let fit = setup.start(&head, train, None)?;
        let random = fit.params()[0].clone();
        drop(fit);
        let (fit_part, valid_part) = train.stratified_split(self.validation, self.seed)?;
        // Fewer rows than units: the dual form (an n x n system per candidate) is the cheap one.
        let dual = train.n() < width;
        let act = model.activation;
        let fit_rows = self.pass(&fit_part, &random, chunk, act, dual)?;
        let valid_rows = self.pass(&valid_part, &random, chunk, act, true)?;
        let solve = |rows: &[&PartRows], gamma: f64| -> Result<ClassRidge> {
            if dual {
                let h = rows.iter().flat_map(|r| r.h.iter().cloned()).collect();
                let y = rows.iter().flat_map(|r| r.y.iter().cloned()).collect();
                ClassRidge::dual(&Tensor::cat(h, 0), &Tensor::cat(y, 0), gamma)
            } else {
                let m = Moments::merge_all(rows.iter().map(|r| r.moments.clone()));
                ClassRidge::from_moments(&m.expect("one part at least"), gamma)
            }
        };
        let mut validation_acc = Vec::with_capacity(self.grid.len());
        let mut best: Option<(f64, f64)> = None;
        for &gamma in &self.grid {
            let acc = match solve(&[&fit_rows], gamma) {
                Ok(system) => Some(accuracy(&system, &valid_rows, valid_part.n())?),
                Err(NgmnnError::Numerical { .. }) => None,
                Err(e) => return Err(e),
            };
            validation_acc.push((gamma, acc));
            if let Some(a) = acc
                && best.is_none_or(|(_, b)| a >= b)
            {
                best = Some((gamma, a));
            }
        }
        let (gamma, _) = best.ok_or_else(|| NgmnnError::Numerical {
            context: "ridge read-out",
            reason: "no candidate gamma gave a positive definite system".into(),
        })?;
        let system = solve(&[&fit_rows, &valid_rows], gamma)?;
        let (p, a) = system.projection();
        let dtype = random.w.dtype();
        let readout = LayerParams {
            w: from_host(p, device, dtype),
            b: from_host_vec(&a, device, dtype),
        };
        let out = NgmnnConfig {
            hidden: vec![width],
            ..model.clone()
        }
        .init(device)?
        .with_layer_params(&[random, readout])?;
        Ok((
            out,
            RidgeReadout {
                gamma,
                validation_acc,
            },
        ))
    }

    /// One pass over `data`'s rows through the random layer, `chunk` rows at a time: the
    /// moments of `[H | Y]` and, with `keep`, every chunk's `H`, one-hot `Y` and labels.
    fn pass(
        &self,
        data: &LabeledData,
        random: &LayerParams,
        chunk: usize,
        activation: crate::model::Activation,
        keep: bool,
    ) -> Result<PartRows> {
        let (device, dtype) = (random.w.device(), random.w.dtype());
        let device = &device;
        let mut moments = None::<Moments>;
        let mut rows = PartRows::default();
        for start in (0..data.n()).step_by(chunk) {
            let range: Vec<usize> = (start..(start + chunk).min(data.n())).collect();
            let part = data.subset(&range, data.name());
            let h = row_normalize(
                activation.forward(random.affine(part.features_tensor(device, dtype))),
            );
            let y = part.one_hot_tensor(device, dtype);
            if let Some(m) = Moments::of_batch(&h, &y, None)? {
                moments = Some(match moments {
                    Some(acc) => acc.merge(m),
                    None => m,
                });
            }
            if keep {
                rows.h.push(h);
                rows.y.push(y);
                rows.labels.push(part.labels_tensor(device));
            }
        }
        if moments.is_none() {
            return Err(NgmnnError::data(Some(data.name()), "no rows"));
        }
        rows.moments = moments;
        Ok(rows)
    }
}

/// One part's pass: its moments and, when kept, its chunks.
#[derive(Debug, Default)]
struct PartRows {
    /// `None` only while the pass runs.
    moments: Option<Moments>,
    h: Vec<Tensor<2>>,
    y: Vec<Tensor<2>>,
    labels: Vec<Tensor<1, Int>>,
}

/// Accuracy of `system`'s read-out on the kept rows.
fn accuracy(system: &ClassRidge, rows: &PartRows, n: usize) -> Result<f64> {
    let (p, a) = system.projection();
    let mut correct = 0.0;
    for (h, labels) in rows.h.iter().zip(&rows.labels) {
        let (device, dtype) = (h.device(), h.dtype());
        let scores = h
            .clone()
            .matmul(from_host(p, &device, dtype))
            .add(from_host_vec(&a, &device, dtype).unsqueeze::<2>());
        let hits = scores.argmax(1).squeeze_dim::<1>(1).equal(labels.clone());
        correct += to_host_vec(hits.float().sum(), "read-out validation accuracy")?[0];
    }
    Ok(correct / n.max(1) as f64)
}
