//! Saving and loading models: Burn record + JSON config.

mod common;

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
