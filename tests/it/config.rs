//! Configuration validation: every rule gives a typed error naming what is wrong.

use crate::common;

use ngmnn::NgmnnError;
use ngmnn::model::NgmnnConfig;
use ngmnn::train::ClosedFormConfig;

fn arch_err(config: NgmnnConfig) -> String {
    match config.check() {
        Err(NgmnnError::InvalidArchitecture(msg)) => msg,
        other => panic!("expected InvalidArchitecture, got {other:?}"),
    }
}

#[test]
fn architecture_rules() {
    assert!(NgmnnConfig::new(64, vec![64], 40).check().is_ok());
    assert!(arch_err(NgmnnConfig::new(1024, vec![64, 32], 40)).contains("d_(L-1) >= c"));
    assert!(arch_err(NgmnnConfig::new(10, vec![], 3)).contains("no hidden layer"));
    assert!(arch_err(NgmnnConfig::new(10, vec![8, 0, 4], 3)).contains("layer 2 has width 0"));
    assert!(arch_err(NgmnnConfig::new(0, vec![8], 3)).contains("d_input"));
    assert!(arch_err(NgmnnConfig::new(10, vec![8], 1)).contains("at least 2 classes"));
    // init refuses the same configs.
    let device = common::device();
    assert!(
        NgmnnConfig::new(1024, vec![64, 32], 40)
            .init(&device)
            .is_err()
    );
}

fn field_of(config: ClosedFormConfig) -> &'static str {
    match config.check() {
        Err(NgmnnError::InvalidConfig { field, .. }) => field,
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
fn trainer_rules() {
    let ok = ClosedFormConfig::paper();
    assert!(ok.check().is_ok());
    assert_eq!(field_of(ok.clone().with_gamma(Some(0.0))), "gamma");
    assert_eq!(field_of(ok.clone().with_gamma(Some(f64::NAN))), "gamma");
    assert_eq!(field_of(ok.clone().with_gamma(Some(-1.0))), "gamma");
    // Values that leave no signal (the 1e300 / 1e-300 / 1e-30 gave a one-class model).
    for gamma in [1e300, 1e13, 1e-13, 1e-30, 1e-300] {
        assert_eq!(
            field_of(ok.clone().with_gamma(Some(gamma))),
            "gamma",
            "{gamma}"
        );
    }
    for gamma in [1e-12, 0.03, 1e12] {
        assert!(
            ok.clone().with_gamma(Some(gamma)).check().is_ok(),
            "{gamma}"
        );
    }
    let broad = ClosedFormConfig::new();
    assert_eq!(
        field_of(broad.clone().with_random_offset(1e308)),
        "random_offset"
    );
    assert_eq!(
        field_of(broad.clone().with_random_offset(16.5)),
        "random_offset"
    );
    assert_eq!(
        field_of(broad.clone().with_random_scale(33.0)),
        "random_scale"
    );
    assert_eq!(
        field_of(broad.clone().with_random_scale(f64::INFINITY)),
        "random_scale"
    );
    assert!(
        broad
            .with_random_offset(16.0)
            .with_random_scale(32.0)
            .check()
            .is_ok()
    );
    assert_eq!(field_of(ok.clone().with_ratio(0.0)), "ratio");
    assert_eq!(field_of(ok.clone().with_ratio(1.5)), "ratio");
    assert_eq!(field_of(ok.clone().with_epochs(0)), "epochs");
    assert_eq!(
        field_of(ok.clone().with_decision_iterations(0)),
        "decision_iterations"
    );
    assert_eq!(field_of(ok.clone().with_tolerance(-1.0)), "tolerance");
    assert_eq!(
        field_of(ok.clone().with_tolerance(f64::INFINITY)),
        "tolerance"
    );
    assert_eq!(field_of(ok.clone().with_clip(0.0)), "clip");
    assert_eq!(field_of(ok.clone().with_clip(0.5)), "clip");
    assert!(ok.with_epochs(0).init().is_err());
}

#[test]
fn enums_parse_and_reject_unknown_names() {
    use ngmnn::{BackendKind, Precision, model::Activation, train::Preset};
    assert_eq!("corrected".parse::<Preset>().unwrap(), Preset::Corrected);
    assert_eq!("TANH".parse::<Activation>().unwrap(), Activation::Tanh);
    assert_eq!("f32".parse::<Precision>().unwrap(), Precision::F32);
    assert_eq!(
        "ndarray".parse::<BackendKind>().unwrap(),
        BackendKind::Ndarray
    );
    assert!("adam".parse::<Preset>().is_err());
    assert!("relu".parse::<Activation>().is_err());
    assert!("cuda9".parse::<BackendKind>().is_err());
}

#[test]
fn config_roundtrips_through_json() {
    let config = ClosedFormConfig::paper()
        .with_gamma(Some(0.5))
        .with_epochs(7);
    let json = serde_json::to_string(&config).unwrap();
    let back: ClosedFormConfig = serde_json::from_str(&json).unwrap();
    assert_eq!((back.gamma, back.epochs), (Some(0.5), 7));
}
