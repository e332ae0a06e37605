//! The built-in demo dataset, so everything runs with no files at all.
//!
//! `digits`: the 8x8 handwritten digits set (1797 samples, 64 features with values 0..16,
//! 10 classes), the test part of the UCI "Optical Recognition of Handwritten Digits" data
//! (E. Alpaydin, C. Kaynak, 1998; CC BY 4.0), as redistributed by scikit-learn (BSD-3-Clause)
//! in `sklearn/datasets/data/digits.csv.gz`. Embedded gzipped (57 KB).

use super::{CsvOptions, LabeledData, parse_csv};

/// The name `--data` uses for the built-in dataset.
pub const BUILTIN_NAME: &str = "builtin";

static DIGITS_CSV_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");

/// The built-in 8x8 digits dataset (1797 x 64, 10 classes).
pub fn digits() -> LabeledData {
    // `parse_csv` decodes gzip bytes as it reads them.
    parse_csv(DIGITS_CSV_GZ, "digits", &CsvOptions::default())
        .and_then(|d| d.with_image_shape(8, 8))
        .expect("embedded data is valid CSV of 8x8 images")
}

#[cfg(test)]
mod tests {
    #[test]
    fn digits_has_the_documented_shape() {
        let ds = super::digits();
        assert_eq!((ds.n(), ds.d(), ds.n_classes()), (1797, 64, 10));
        assert!(ds.features().iter().all(|&v| (0.0..=16.0).contains(&v)));
        assert!(ds.class_counts().iter().all(|&c| c >= 170));
    }
}
