//! Inputs kept from fuzzing (`fuzz/regressions/<target>/`): crashes found by the fuzz targets
//! and hand-made edge cases. Each must give a value or a typed error, never a panic.

use std::path::{Path, PathBuf};

use ngmnn::data::{CsvOptions, parse_csv, parse_idx, parse_mat};
use ngmnn::model::SavedModel;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no regression inputs for {target}");
    files
}

#[test]
fn csv_regressions() {
    for (path, bytes) in inputs("csv") {
        if let Ok(ds) = parse_csv(&bytes, "regression", &CsvOptions::default()) {
            assert_eq!(ds.features().len(), ds.n() * ds.d(), "{}", path.display());
        }
    }
}

#[test]
fn idx_regressions() {
    for (path, bytes) in inputs("idx") {
        if let Ok(a) = parse_idx(&bytes, &path) {
            assert_eq!(a.data.len(), a.dims.iter().product::<usize>());
        }
    }
}

#[test]
fn mat_regressions() {
    for (path, bytes) in inputs("mat") {
        assert!(
            parse_mat(&bytes, &path).is_err(),
            "{} should not parse",
            path.display()
        );
    }
}

#[test]
fn model_json_regressions() {
    for (path, bytes) in inputs("model_json") {
        if let Ok(saved) = serde_json::from_slice::<SavedModel>(&bytes) {
            assert!(
                saved.validate().is_err(),
                "{} should not validate",
                path.display()
            );
        }
    }
}
