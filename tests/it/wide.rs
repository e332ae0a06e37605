//! Wide data (more features than rows): the lowest learned layer's ridge is solved in dual
//! form (an `n x n` system), with the primal form's weights.

use crate::common;

use common::*;
use ngmnn::Precision;
use ngmnn::data::{DatasetBatches, SyntheticSource, load_mat};
use ngmnn::model::NgmnnConfig;
use ngmnn::solve::class_ridge::RidgeForm;
use ngmnn::train::{ClosedFormConfig, Training};

#[test]
fn dual_fit_gives_the_primal_weights() {
    let device = device();
    // att40: 1024 features, 280 training rows: resident rows are solved in dual form; a
    // stream (rows unknown, the 1024 x 1024 primal system cheap) in primal form.
    let data = load_mat(&crate_data("att40.mat")).unwrap();
    let (train, test) = data.stratified_split(0.3, 0).unwrap();
    assert!(train.d() > train.n());
    let model = NgmnnConfig::new(train.d(), vec![64], train.n_classes())
        .init(&device)
        .unwrap();
    let config = ClosedFormConfig::paper()
        .with_epochs(3)
        .with_precision(Precision::F64);
    let trainer = config.clone().init().unwrap();
    let (dual, dh) = trainer.fit(model.clone(), &train, Some(&test)).unwrap();
    let stream = || Training::stream(DatasetBatches::new(train.clone(), 64));
    let (primal, ph) = trainer.fit(model.clone(), stream(), None).unwrap();
    assert_eq!(dh.base_form, Some(RidgeForm::Dual));
    assert_eq!(ph.base_form, Some(RidgeForm::Primal));
    let diff = rel_diff(&dual, &primal);
    assert!(diff < 1e-8, "dual and primal weights differ by {diff:e}");
    // A memory limit the primal moments (about 48 MB here) do not fit but the dual system
    // (about 7 MB) does: the stream is counted and solved in dual form.
    let limited = config.with_memory_limit(Some(20 << 20)).init().unwrap();
    let (counted, ch) = limited.fit(model, stream(), None).unwrap();
    assert_eq!(ch.base_form, Some(RidgeForm::Dual));
    let diff = rel_diff(&counted, &dual);
    assert!(diff < 1e-8, "counted stream differs by {diff:e}");
}

#[test]
fn sixty_rows_of_forty_thousand_features_train() {
    let device = device();
    // The primal system would be 40000 x 40000 (about 67 GB of host work); the dual is 60 x 60.
    let data = SyntheticSource::new(90, 40_000, 3, 90, 5)
        .unwrap()
        .to_dataset()
        .unwrap();
    let (train, test) = data.stratified_split(1.0 / 3.0, 0).unwrap();
    let model = NgmnnConfig::new(train.d(), vec![32], 3)
        .init(&device)
        .unwrap();
    let trainer = ClosedFormConfig::paper().with_epochs(2).init().unwrap();
    let (_, history) = trainer.fit(model, &train, Some(&test)).unwrap();
    assert_eq!(history.base_form, Some(RidgeForm::Dual));
    let best = history.best_valid().unwrap().valid_acc.unwrap();
    assert!(best > 0.8, "test accuracy {best} (chance 0.33)");
}

#[test]
fn a_stream_too_large_for_either_form_is_a_clear_error_before_it_is_read() {
    let device = device();
    // 200000 rows of 40000 features: the primal moments need ~67 GB, and the source says it
    // has more rows than features, so the dual form is no way out; the error comes before
    // any of its 8e9 values is generated.
    let source = SyntheticSource::new(200_000, 40_000, 3, 1000, 1).unwrap();
    let model = NgmnnConfig::new(40_000, vec![64], 3).init(&device).unwrap();
    let trainer = ClosedFormConfig::paper()
        .with_memory_limit(Some(8 << 30))
        .init()
        .unwrap();
    let err = trainer
        .fit(model, Training::stream(source), None)
        .unwrap_err();
    assert!(
        matches!(err, ngmnn::NgmnnError::OutOfMemory { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("40000 inputs"), "{err}");
}
