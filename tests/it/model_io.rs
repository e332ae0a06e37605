//! Saving and loading models: Burn record + JSON config.

use crate::common;

use burn::tensor::DType;
use common::*;
use ngmnn::NgmnnError;
use ngmnn::data::{Standardizer, digits};
use ngmnn::model::{NgmnnConfig, SavedModel};
use ngmnn::train::ClosedFormConfig;

#[test]
fn saved_model_loads_with_identical_predictions() {
    let device = device();
    let (train, test) = digits().stratified_split(0.3, 1).unwrap();
    let config = NgmnnConfig::new(64, vec![32], 10).with_seed(2);
    let model = config.init(&device).unwrap();
    let (model, _) = ClosedFormConfig::paper()
        .with_epochs(2)
        .init()
        .unwrap()
        .fit(model, &train, None)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut saved = SavedModel::new(config, train.classes().to_vec());
    saved.standardizer = Some(Standardizer::fit(&train));
    saved.save(&model, dir.path()).unwrap();
    assert!(dir.path().join("model.bpk").exists() && dir.path().join("model.json").exists());

    let (loaded_meta, loaded) = SavedModel::load(dir.path(), &device).unwrap();
    assert_eq!(loaded_meta.classes, train.classes());
    assert_eq!(loaded_meta.standardizer, saved.standardizer);
    let x = test.features_tensor(&device, DType::F32);
    assert_eq!(
        max_diff(&host(model.forward(x.clone())), &host(loaded.forward(x))),
        0.0
    );
    // An f64 fit gives an f64 module, and the record keeps it: bit-identical weights.
    assert_eq!(model.dtype(), DType::F64);
    assert_eq!(loaded.dtype(), DType::F64);
    for (a, b) in model.layer_params().into_iter().zip(loaded.layer_params()) {
        assert_eq!(max_diff(&host(a.w), &host(b.w)), 0.0);
        assert_eq!(host_vec(a.b), host_vec(b.b));
    }
}

#[test]
fn loading_reports_missing_or_inconsistent_files() {
    let device = device();
    let config = NgmnnConfig::new(8, vec![4], 3);
    let model = config.init(&device).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let saved = SavedModel::new(config.clone(), vec!["a".into(), "b".into(), "c".into()]);
    saved.save(&model, dir.path()).unwrap();

    // A config that disagrees with the record.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::copy(dir.path().join("model.bpk"), other.join("model.bpk")).unwrap();
    let mut wrong = SavedModel::new(NgmnnConfig::new(8, vec![5], 3), saved.classes.clone());
    wrong.trainer = None;
    std::fs::write(
        other.join("model.json"),
        serde_json::to_vec(&wrong).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        SavedModel::load(&other, &device),
        Err(NgmnnError::Record(_))
    ));

    // Missing record, malformed JSON, class list of the wrong length.
    std::fs::remove_file(other.join("model.bpk")).unwrap();
    assert!(matches!(
        SavedModel::load(&other, &device),
        Err(NgmnnError::Io { .. })
    ));
    std::fs::write(dir.path().join("model.json"), b"{ not json").unwrap();
    assert!(matches!(
        SavedModel::load(dir.path(), &device),
        Err(NgmnnError::Json { .. })
    ));
    let bad = SavedModel::new(config, vec!["a".into()]);
    assert!(matches!(
        bad.save(&model, dir.path()),
        Err(NgmnnError::ShapeMismatch(_))
    ));
}

/// A one-layer model saved as a run's output folder: `root/v1/` with its manifest, and
/// `root/CURRENT`. Returns `root`.
fn run_folder(root: &std::path::Path, standardizer: Option<Standardizer>) -> std::path::PathBuf {
    let device = device();
    let config = NgmnnConfig::new(8, vec![4], 3);
    let model = config.init(&device).unwrap();
    let mut saved = SavedModel::new(config, vec!["a".into(), "b".into(), "c".into()]);
    saved.standardizer = standardizer;
    let version = root.join("v1");
    saved.save(&model, &version).unwrap();
    write_manifest(&version, &[("model.bpk", None), ("model.json", None)]);
    std::fs::write(root.join("CURRENT"), "v1").unwrap();
    version
}

/// `manifest.json` listing each `(name, file)` with the size and CRC-32 of `file`, or of
/// `version/name`.
fn write_manifest(version: &std::path::Path, entries: &[(&str, Option<&std::path::Path>)]) {
    let list: Vec<serde_json::Value> = entries
        .iter()
        .map(|(name, file)| {
            let path = file.map_or_else(|| version.join(name), |f| f.to_owned());
            // Only a regular file is read (a FIFO or /dev/zero is listed as empty).
            let regular = std::fs::metadata(&path).is_ok_and(|m| m.is_file());
            let bytes = if regular {
                std::fs::read(&path).unwrap()
            } else {
                Vec::new()
            };
            let mut crc = flate2::Crc::new();
            crc.update(&bytes);
            serde_json::json!({"name": name, "bytes": bytes.len(), "crc32": crc.sum()})
        })
        .collect();
    std::fs::write(
        version.join("manifest.json"),
        serde_json::to_vec(&list).unwrap(),
    )
    .unwrap();
}

/// A refusal: an error of one short line.
fn short_error<T>(result: ngmnn::Result<T>) -> String {
    let err = result.map(|_| ()).expect_err("should not load").to_string();
    assert!(err.len() < 400 && !err.contains('\n'), "{err}");
    err
}

/// Manifest names are plain file names inside the version folder, naming regular files:
/// `../x`, an absolute path, a FIFO, `/dev/zero` are refused before anything is read from
/// them (issue 24, item 3).
#[test]
fn a_manifest_names_only_regular_files_of_its_version() {
    let device = device();
    let dir = tempfile::tempdir().unwrap();
    let version = run_folder(dir.path(), None);
    SavedModel::load(dir.path(), &device).unwrap();
    // A copy of the description outside the version folder, listed with its right checksum.
    let outside = dir.path().join("outside.json");
    std::fs::copy(version.join("model.json"), &outside).unwrap();
    let absolute = outside.to_str().unwrap().to_owned();
    for name in ["../outside.json", absolute.as_str()] {
        write_manifest(&version, &[("model.bpk", None), (name, Some(&outside))]);
        let err = short_error(SavedModel::load(dir.path(), &device));
        assert!(err.contains("mixed or incomplete"), "{err}");
    }
    mkfifo(&version.join("fifo"));
    for (name, file) in [("fifo", None), ("/dev/zero", None)] {
        write_manifest(&version, &[("model.bpk", None), (name, file)]);
        short_error(SavedModel::load(dir.path(), &device));
    }
    // A size that is not the manifest's is refused before the file is read.
    write_manifest(&version, &[("model.bpk", None), ("model.json", None)]);
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(version.join("manifest.json")).unwrap()).unwrap();
    manifest[0]["bytes"] = 7.into();
    std::fs::write(version.join("manifest.json"), manifest.to_string()).unwrap();
    short_error(SavedModel::load(dir.path(), &device));
}

fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status();
    assert!(status.unwrap().success());
}

/// `model.json` and `model.bpk` are regular files of the folder (a symlink out of it, a FIFO or
/// a device is refused), `CURRENT` is read with a small bound and quoted in one short line.
#[test]
fn model_files_are_regular_files_read_with_a_bound() {
    let device = device();
    let dir = tempfile::tempdir().unwrap();
    let version = run_folder(dir.path(), None);
    // Read as an older folder (no manifest): model.json a link to a copy outside the folder.
    std::fs::remove_file(version.join("manifest.json")).unwrap();
    let outside = dir.path().join("outside.json");
    std::fs::rename(version.join("model.json"), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, version.join("model.json")).unwrap();
    let err = short_error(SavedModel::load(&version, &device));
    assert!(err.contains("model.json"), "{err}");
    std::fs::remove_file(version.join("model.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", version.join("model.json")).unwrap();
    short_error(SavedModel::load(&version, &device));
    std::fs::remove_file(version.join("model.json")).unwrap();
    mkfifo(&version.join("model.json"));
    short_error(SavedModel::load(&version, &device));
    std::fs::remove_file(version.join("model.json")).unwrap();
    std::fs::copy(&outside, version.join("model.json")).unwrap();
    SavedModel::load(&version, &device).unwrap();
    // A record far larger than its parameters can be is not read.
    let record = std::fs::read(version.join("model.bpk")).unwrap();
    let big = std::fs::File::options()
        .append(true)
        .open(version.join("model.bpk"))
        .unwrap();
    big.set_len(record.len() as u64 + (64 << 20)).unwrap();
    let err = short_error(SavedModel::load(&version, &device));
    assert!(err.contains("model.bpk"), "{err}");
    std::fs::write(version.join("model.bpk"), &record).unwrap();
    // CURRENT: a megabyte of text, then a FIFO.
    std::fs::write(dir.path().join("CURRENT"), "v1".repeat(1 << 19)).unwrap();
    let err = short_error(SavedModel::load(dir.path(), &device));
    assert!(err.contains("CURRENT"), "{err}");
    std::fs::remove_file(dir.path().join("CURRENT")).unwrap();
    mkfifo(&dir.path().join("CURRENT"));
    short_error(SavedModel::load(dir.path(), &device));
}

/// A standardiser edited by hand (std 0 or negative, lengths that differ) does not load: it
/// would turn every row into NaN (issue 24, item 8).
#[test]
fn a_tampered_standardizer_does_not_load() {
    let device = device();
    let dir = tempfile::tempdir().unwrap();
    let fitted = Standardizer {
        mean: vec![0.5; 8],
        std: vec![2.0; 8],
    };
    let version = run_folder(dir.path(), Some(fitted));
    std::fs::remove_file(version.join("manifest.json")).unwrap();
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(version.join("model.json")).unwrap()).unwrap();
    let edit = |path: &str, value: serde_json::Value| {
        let mut m = meta.clone();
        *m.pointer_mut(path).unwrap() = value;
        std::fs::write(version.join("model.json"), m.to_string()).unwrap();
        SavedModel::load(&version, &device)
    };
    for value in [0.0, -1.0] {
        let err = short_error(edit("/standardizer/std/3", value.into()));
        assert!(err.contains("std"), "{err}");
    }
    let err = short_error(edit("/standardizer/std", serde_json::json!(vec![1.0; 7])));
    assert!(
        err.contains("8 means")
            && err.contains("7 standard deviations")
            && err.contains("8 inputs"),
        "{err}"
    );
    edit("/standardizer/mean/0", 1.5.into()).unwrap();
    // Applied directly, lengths that differ are an error too, not a silent zip.
    let short = Standardizer {
        mean: vec![0.0; 2],
        std: vec![1.0],
    };
    assert!(short.apply_rows(&mut [1.0, 2.0], 2).is_err());
}
