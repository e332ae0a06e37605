//! Inputs kept from fuzzing (`fuzz/regressions/<target>/`): crashes found by the fuzz targets
//! and hand-made edge cases. Each must give a value or a typed error, never a panic.

use crate::common;

use std::path::{Path, PathBuf};

use ngmnn::data::{CsvOptions, parse_csv, parse_idx, parse_mat};
use ngmnn::model::SavedModel;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    files(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/regressions")
            .join(target),
    )
}

fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let target = dir.display();
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no inputs in {target}");
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
        let err = parse_mat(&bytes, &path).expect_err("should not parse");
        // Rejected by our own walk of the file, not by a panic inside `matfile` caught on the
        // way out (that one reads "malformed file").
        assert!(
            !err.to_string().contains("malformed file"),
            "{}: {err}",
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

/// The model-directory target's input: `[json length: u16 LE][model.json][model.bpk]`.
fn load_model_dir(bytes: &[u8]) -> ngmnn::Result<(SavedModel, ngmnn::model::Ngmnn)> {
    let len = usize::from(u16::from_le_bytes([bytes[0], bytes[1]]));
    let (meta, record) = bytes[2..].split_at(len);
    SavedModel::from_bytes(
        meta,
        record.to_vec(),
        Path::new("regression"),
        &common::device(),
    )
}

#[test]
fn model_dir_seed_loads_and_broken_directories_are_typed_errors() {
    let seeds = files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/model_dir"));
    for (path, bytes) in seeds {
        let (saved, model) =
            load_model_dir(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(model.n_classes(), saved.classes.len());
    }
    for (path, bytes) in inputs("model_dir") {
        let err = load_model_dir(&bytes)
            .map(|_| ())
            .expect_err("should not load");
        assert!(!err.to_string().is_empty(), "{}", path.display());
    }
}
