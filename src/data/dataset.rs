//! [`LabeledData`]: features and labels in memory, validated once.

use std::collections::BTreeMap;

use burn::tensor::{DType, Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::error::{NgmnnError, Result};

/// A classification dataset: `n` samples of `d` features (row-major f32) and a class index per
/// sample into `classes` (the class names, e.g. `"1".."40"` for the reference .mat files).
///
/// Invariants (checked by [`LabeledData::new`]): `x.len() == n * d`, `n >= 1`, `d >= 1`, every
/// feature finite, every label `< classes.len()`.
#[derive(Debug, Clone, PartialEq)]
pub struct LabeledData {
    name: String,
    x: Vec<f32>,
    y: Vec<usize>,
    d: usize,
    classes: Vec<String>,
    /// Height x width when the features are the pixels of an image (row-major).
    image_shape: Option<[usize; 2]>,
}

/// The first NaN or infinite value of row-major `x` with `d` columns, described.
pub(crate) fn non_finite(x: &[f32], d: usize) -> Option<String> {
    let pos = x.iter().position(|v| !v.is_finite())?;
    Some(format!(
        "non-finite feature {} at sample {}, feature {}",
        x[pos],
        pos / d,
        pos % d
    ))
}

impl LabeledData {
    /// Build and validate a dataset.
    ///
    /// # Errors
    /// [`NgmnnError::InvalidData`] if sizes disagree, the set is empty, a feature is NaN or
    /// infinite (the first one is named), or a label is out of range.
    pub fn new(
        name: impl Into<String>,
        x: Vec<f32>,
        y: Vec<usize>,
        d: usize,
        classes: Vec<String>,
    ) -> Result<Self> {
        let name = name.into();
        let err = |reason: String| Err(NgmnnError::data(Some(&name), reason));
        if d == 0 {
            return err("no features (d = 0)".into());
        }
        if y.is_empty() {
            return err("no samples".into());
        }
        if x.len() != y.len() * d {
            return err(format!(
                "{} feature values for {} samples of {d} features",
                x.len(),
                y.len()
            ));
        }
        if let Some(reason) = non_finite(&x, d) {
            return err(reason);
        }
        if let Some((i, &label)) = y.iter().enumerate().find(|&(_, &l)| l >= classes.len()) {
            return err(format!(
                "label index {label} of sample {i} is out of range for {} classes",
                classes.len()
            ));
        }
        Ok(Self {
            name,
            x,
            y,
            d,
            classes,
            image_shape: None,
        })
    }

    /// Build a dataset from label names: the classes are the distinct names, sorted
    /// numerically when they all parse as numbers and lexicographically otherwise.
    ///
    /// # Errors
    /// As [`LabeledData::new`].
    pub fn from_labels(
        name: impl Into<String>,
        x: Vec<f32>,
        labels: &[String],
        d: usize,
    ) -> Result<Self> {
        let classes = sorted_classes(labels.iter().map(String::as_str));
        let index = class_index(&classes);
        let y = labels.iter().map(|l| index[l.as_str()]).collect();
        Self::new(name, x, y, d, classes)
    }

    /// Build a dataset from integer labels (IDX, `.mat`): the classes are the distinct
    /// values in increasing order, named by their decimal digits (exact: no value passes
    /// through a float).
    ///
    /// # Errors
    /// As [`LabeledData::new`].
    pub fn from_integer_labels(
        name: impl Into<String>,
        x: Vec<f32>,
        labels: &[i64],
        d: usize,
    ) -> Result<Self> {
        let mut values = labels.to_vec();
        values.sort_unstable();
        values.dedup();
        let y = labels
            .iter()
            .map(|l| values.binary_search(l).unwrap_or_default())
            .collect();
        let classes = values.iter().map(i64::to_string).collect();
        Self::new(name, x, y, d, classes)
    }

    /// The same data, declared as images of `height x width` pixels (row-major; IDX image
    /// files set it). The `broad` preset then gives its random units local receptive fields.
    ///
    /// # Errors
    /// [`NgmnnError::InvalidData`] if `height * width` is not the number of features.
    pub fn with_image_shape(mut self, height: usize, width: usize) -> Result<Self> {
        if height.checked_mul(width) != Some(self.d) {
            return Err(NgmnnError::data(
                Some(&self.name),
                format!(
                    "image shape {height}x{width} does not match {} features",
                    self.d
                ),
            ));
        }
        self.image_shape = Some([height, width]);
        Ok(self)
    }

    /// Height x width when the features are an image's pixels ([`LabeledData::with_image_shape`]).
    pub fn image_shape(&self) -> Option<[usize; 2]> {
        self.image_shape
    }

    /// The dataset's name (file name or `builtin`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of samples.
    pub fn n(&self) -> usize {
        self.y.len()
    }

    /// Number of features.
    pub fn d(&self) -> usize {
        self.d
    }

    /// The class names; label `k` means `classes()[k]`.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Number of classes (including any without samples here).
    pub fn n_classes(&self) -> usize {
        self.classes.len()
    }

    /// Features, row-major `[n, d]`.
    pub fn features(&self) -> &[f32] {
        &self.x
    }

    /// Mutable features (used by standardisation; values must stay finite).
    pub(crate) fn features_mut(&mut self) -> &mut [f32] {
        &mut self.x
    }

    /// Class index of every sample.
    pub fn labels(&self) -> &[usize] {
        &self.y
    }

    /// Sample count per class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        for &l in &self.y {
            counts[l] += 1;
        }
        counts
    }

    /// The samples at `indices`, in that order.
    pub fn subset(&self, indices: &[usize], name: impl Into<String>) -> LabeledData {
        let mut x = Vec::with_capacity(indices.len() * self.d);
        for &i in indices {
            x.extend_from_slice(&self.x[i * self.d..(i + 1) * self.d]);
        }
        LabeledData {
            name: name.into(),
            x,
            y: indices.iter().map(|&i| self.y[i]).collect(),
            d: self.d,
            classes: self.classes.clone(),
            image_shape: self.image_shape,
        }
    }

    /// Seeded stratified split: in every class, `round(test_fraction * count)` samples (but at
    /// least one left for training) go to the test part. Returns `(train, test)`.
    ///
    /// # Errors
    /// [`NgmnnError::InvalidConfig`] unless `0 < test_fraction < 1`;
    /// [`NgmnnError::InvalidData`] if either part would be empty.
    pub fn stratified_split(
        &self,
        test_fraction: f64,
        seed: u64,
    ) -> Result<(LabeledData, LabeledData)> {
        if !(test_fraction > 0.0 && test_fraction < 1.0) {
            return Err(NgmnnError::config(
                "test_fraction",
                test_fraction,
                "must lie strictly between 0 and 1",
            ));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); self.classes.len()];
        for (i, &l) in self.y.iter().enumerate() {
            by_class[l].push(i);
        }
        let (mut train, mut test) = (Vec::new(), Vec::new());
        for mut members in by_class {
            members.shuffle(&mut rng);
            let count = members.len();
            let n_test =
                ((test_fraction * count as f64).round() as usize).min(count.saturating_sub(1));
            test.extend_from_slice(&members[..n_test]);
            train.extend_from_slice(&members[n_test..]);
        }
        if train.is_empty() || test.is_empty() {
            return Err(NgmnnError::data(
                Some(&self.name),
                format!(
                    "a {} split of {} samples leaves an empty part",
                    crate::error::compact(test_fraction),
                    self.n()
                ),
            ));
        }
        train.shuffle(&mut rng);
        test.shuffle(&mut rng);
        Ok((
            self.subset(&train, format!("{}[train]", self.name)),
            self.subset(&test, format!("{}[test]", self.name)),
        ))
    }

    /// Re-express the labels against another class list (e.g. a model's or the training
    /// set's), matching by name.
    ///
    /// # Errors
    /// [`NgmnnError::InvalidData`] if this set has a class that `classes` lacks (and that
    /// actually occurs here).
    pub fn with_classes(&self, classes: &[String]) -> Result<LabeledData> {
        let index: BTreeMap<&str, usize> = classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        let counts = self.class_counts();
        let mut map = vec![usize::MAX; self.classes.len()];
        for (k, name) in self.classes.iter().enumerate() {
            match index.get(name.as_str()) {
                Some(&j) => map[k] = j,
                None if counts[k] == 0 => {}
                None => {
                    return Err(NgmnnError::data(
                        Some(&self.name),
                        format!(
                            "class {name:?} ({} samples) is not among the {} training classes",
                            counts[k],
                            classes.len()
                        ),
                    ));
                }
            }
        }
        Ok(LabeledData {
            name: self.name.clone(),
            x: self.x.clone(),
            y: self.y.iter().map(|&l| map[l]).collect(),
            d: self.d,
            classes: classes.to_vec(),
            image_shape: self.image_shape,
        })
    }

    /// Features as a device tensor `[n, d]` of the given dtype.
    pub fn features_tensor(&self, device: &Device, dtype: DType) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(self.x.clone(), [self.n(), self.d]),
            (device, dtype),
        )
    }

    /// Labels as a device tensor `[n]` of class indices.
    pub fn labels_tensor(&self, device: &Device) -> Tensor<1, Int> {
        let y: Vec<i64> = self.y.iter().map(|&l| l as i64).collect();
        Tensor::from_data(TensorData::new(y, [self.n()]), device)
    }

    /// One-hot labels `Y` with entries {0, 1}, `[n, c]` (spec "Layout").
    pub fn one_hot_tensor(&self, device: &Device, dtype: DType) -> Tensor<2> {
        let c = self.classes.len();
        let mut y = vec![0.0f32; self.n() * c];
        for (i, &l) in self.y.iter().enumerate() {
            y[i * c + l] = 1.0;
        }
        Tensor::from_data(TensorData::new(y, [self.n(), c]), (device, dtype))
    }
}

/// Each class name's index in `classes` (the order [`sorted_classes`] gives).
pub(crate) fn class_index(classes: &[String]) -> std::collections::HashMap<&str, usize> {
    classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect()
}

/// Distinct class names, numeric order if all are numbers, else lexicographic.
pub(crate) fn sorted_classes<'a>(labels: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut classes: Vec<String> = labels
        .map(str::to_owned)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let numeric: Option<Vec<f64>> = classes.iter().map(|c| c.parse::<f64>().ok()).collect();
    if let Some(values) = numeric {
        let mut pairs: Vec<(f64, String)> = values.into_iter().zip(classes).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        classes = pairs.into_iter().map(|(_, c)| c).collect();
    }
    classes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> LabeledData {
        let labels: Vec<String> = (0..20).map(|i| ["b", "a"][i % 2].to_string()).collect();
        let x = (0..40).map(|v| v as f32).collect();
        LabeledData::from_labels("toy", x, &labels, 2).unwrap()
    }

    #[test]
    fn dataset_rejects_nan_and_bad_labels() {
        let e = LabeledData::new("t", vec![1.0, f32::NAN], vec![0], 2, vec!["a".into()]);
        assert!(matches!(e, Err(NgmnnError::InvalidData { .. })));
        let e = LabeledData::new("t", vec![1.0, 2.0], vec![3], 2, vec!["a".into()]);
        assert!(matches!(e, Err(NgmnnError::InvalidData { .. })));
        let e = LabeledData::new("t", vec![1.0, 2.0, 3.0], vec![0], 2, vec!["a".into()]);
        assert!(matches!(e, Err(NgmnnError::InvalidData { .. })));
    }

    #[test]
    fn classes_sort_numerically() {
        let c = sorted_classes(["10", "2", "1"].into_iter());
        assert_eq!(c, ["1", "2", "10"]);
    }

    #[test]
    fn stratified_split_keeps_class_balance_and_is_seeded() {
        let ds = toy();
        let (tr, te) = ds.stratified_split(0.3, 1).unwrap();
        assert_eq!(tr.n() + te.n(), 20);
        assert_eq!(te.class_counts(), vec![3, 3]);
        let (tr2, _) = ds.stratified_split(0.3, 1).unwrap();
        assert_eq!(tr.features(), tr2.features());
        let (tr3, _) = ds.stratified_split(0.3, 2).unwrap();
        assert_ne!(tr.features(), tr3.features());
    }

    #[test]
    fn with_classes_remaps_by_name_and_rejects_unknown() {
        let ds = toy();
        let flipped = ds.with_classes(&["b".into(), "a".into()]).unwrap();
        assert_eq!(flipped.labels()[0], 0); // sample 0 is "b"
        assert_eq!(ds.labels()[0], 1);
        assert!(ds.with_classes(&["a".into()]).is_err());
    }
}
