//! burn-train integration: the closed-form strategy through `SupervisedTraining::launch`
//! (equal to the core fit, batch-size invariant, metrics, checkpoints, resume, interrupter,
//! typed errors), the SGD/Adam baseline, and `compare`.
#![cfg(feature = "train")]

use crate::common;

use std::path::Path;

use burn::optim::SgdConfig;
use burn::train::metric::{AccuracyMetric, LossMetric};
use burn::train::{Learner, LearningResult, SupervisedTraining};
use ngmnn::NgmnnError;
use ngmnn::compare::{CompareConfig, compare};
use ngmnn::data::{LabeledData, digits};
use ngmnn::learner::{
    ClosedFormStrategy, GradientConfig, OptimizerKind, StrategyHandle, accuracy_checkpointing,
    data_loader,
};
use ngmnn::model::{Ngmnn, NgmnnConfig};
use ngmnn::train::{ClosedFormConfig, Training};

fn split() -> (LabeledData, LabeledData) {
    let (train, test) = digits().stratified_split(0.3, 0).unwrap();
    // A smaller training set keeps the suite quick.
    let keep: Vec<usize> = (0..train.n()).step_by(2).collect();
    (train.subset(&keep, "digits-half"), test)
}

fn model_config(train: &LabeledData) -> NgmnnConfig {
    NgmnnConfig::new(train.d(), vec![128, 32], train.n_classes()).with_seed(3)
}

fn closed_form() -> ClosedFormConfig {
    // The default (broad) preset: a random first layer, then the learned layers.
    ClosedFormConfig::new().with_epochs(3)
}

/// How a test launches the closed-form strategy through burn-train.
#[derive(Clone, Copy)]
struct Run {
    batch: usize,
    shuffle: Option<u64>,
    epochs: usize,
    checkpoint: Option<usize>,
    stop_first: bool,
    /// The core trainer's early stopping, which the strategy refuses.
    patience: Option<usize>,
}

const RUN: Run = Run {
    batch: 64,
    shuffle: None,
    epochs: 3,
    checkpoint: None,
    stop_first: false,
    patience: None,
};

fn launch(
    dir: &Path,
    model: Ngmnn,
    train: &LabeledData,
    test: &LabeledData,
    run: Run,
) -> (LearningResult<Ngmnn>, StrategyHandle) {
    let device = common::device();
    let strategy = ClosedFormStrategy::new(closed_form().with_patience(run.patience));
    let handle = strategy.handle();
    let mut training = SupervisedTraining::new(
        dir,
        data_loader(train, run.batch, run.shuffle, &device),
        data_loader(test, 128, None, &device),
    )
    .metrics((AccuracyMetric::new(), LossMetric::new()))
    .with_default_checkpointers()
    .with_checkpointing_strategy(accuracy_checkpointing())
    .with_application_logger(None)
    .num_epochs(run.epochs)
    .with_training_strategy(strategy.into());
    if let Some(epoch) = run.checkpoint {
        training = training.checkpoint(epoch);
    }
    if run.stop_first {
        training.interrupter().stop(Some("test"));
    }
    let learner = Learner::new(model, SgdConfig::new().init(), 0.01);
    (training.launch(learner), handle)
}

fn max_abs_diff(a: &Ngmnn, b: &Ngmnn) -> f64 {
    a.layer_params()
        .iter()
        .zip(b.layer_params())
        .map(|(p, q)| {
            let dw = (p.w.clone() - q.w).abs().max().into_scalar::<f64>();
            let db = (p.b.clone() - q.b).abs().max().into_scalar::<f64>();
            dw.max(db)
        })
        .fold(0.0, f64::max)
}

#[test]
fn strategy_matches_the_core_fit_whatever_the_batch_size() {
    let (train, test) = split();
    let device = common::device();
    let config = model_config(&train);
    let (core, _) = closed_form()
        .init()
        .unwrap()
        .fit(config.init(&device).unwrap(), &train, None)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (batch, shuffle) in [(train.n(), None), (7, None), (50, Some(1))] {
        let sub = dir.path().join(format!("b{batch}"));
        let run = Run {
            batch,
            shuffle,
            ..RUN
        };
        let (result, handle) = launch(&sub, config.init(&device).unwrap(), &train, &test, run);
        assert!(handle.take_error().is_none());
        assert!(result.interrupted.is_none());
        assert_eq!(handle.history().epochs.len(), 3);
        let diff = max_abs_diff(&core, &result.model);
        // f64 fits written into f32 parameters: the sums' order differs only when shuffled.
        assert!(diff < 1e-4, "batch {batch}: weights differ by {diff}");
    }
}

#[test]
fn metrics_checkpoints_and_resume() {
    let (train, test) = split();
    let device = common::device();
    let config = model_config(&train);
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    let (reference, _) = launch(&full, config.init(&device).unwrap(), &train, &test, RUN);
    for epoch in 1..=3 {
        for split in ["train", "valid"] {
            for metric in ["Accuracy", "Loss"] {
                let log = full.join(format!("{split}/epoch-{epoch}/{metric}.log"));
                let text = std::fs::read_to_string(&log)
                    .unwrap_or_else(|e| panic!("{}: {e}", log.display()));
                assert!(!text.trim().is_empty(), "{} is empty", log.display());
            }
        }
    }
    // The accuracy checkpointing keeps the last two epochs (and the most accurate).
    assert!(full.join("checkpoint/model-3.bpk").exists());
    assert!(full.join("checkpoint/model-2.bpk").exists());

    // Stop after 2 epochs, then resume from checkpoint 2 to 3: same weights as 3 in a row.
    let part = dir.path().join("part");
    let two = Run { epochs: 2, ..RUN };
    launch(&part, config.init(&device).unwrap(), &train, &test, two);
    assert!(part.join("checkpoint/model-2.bpk").exists());
    let from_two = Run {
        checkpoint: Some(2),
        ..RUN
    };
    let (resumed, handle) = launch(
        &part,
        config.init(&device).unwrap(),
        &train,
        &test,
        from_two,
    );
    let epochs: Vec<usize> = handle.history().epochs.iter().map(|r| r.epoch).collect();
    assert_eq!(epochs, vec![3], "the resumed run runs only epoch 3");
    let diff = max_abs_diff(&reference.model, &resumed.model);
    // The checkpoint holds the fit's f64 parameters: resuming is exact on a CPU backend.
    assert!(diff == 0.0, "resumed weights differ by {diff}");
}

#[test]
fn interrupter_stops_cleanly() {
    let (train, test) = split();
    let device = common::device();
    let dir = tempfile::tempdir().unwrap();
    let initial = model_config(&train).init(&device).unwrap();
    let stopped = Run {
        stop_first: true,
        ..RUN
    };
    let (result, handle) = launch(dir.path(), initial.clone(), &train, &test, stopped);
    assert!(result.interrupted.is_some());
    assert!(result.error.is_none());
    assert!(handle.take_error().is_none());
    assert!(handle.history().epochs.is_empty());
    assert_eq!(
        max_abs_diff(&initial, &result.model),
        0.0,
        "weights untouched"
    );
}

#[test]
fn a_failure_is_a_typed_error_not_a_panic() {
    let (train, test) = split();
    let device = common::device();
    // Only class 0 in the training data: the closed form cannot fit a decision layer.
    let zeros: Vec<usize> = (0..train.n()).filter(|&i| train.labels()[i] == 0).collect();
    let one_class = train.subset(&zeros, "one-class");
    let dir = tempfile::tempdir().unwrap();
    let run = Run {
        batch: 16,
        epochs: 2,
        ..RUN
    };
    let model = model_config(&train).init(&device).unwrap();
    let (result, handle) = launch(dir.path(), model, &one_class, &test, run);
    let error = handle.take_error().expect("a typed error");
    assert!(
        matches!(*error, NgmnnError::InvalidData { .. }),
        "{error:?}"
    );
    // burn-train sees an error, not an interruption, and the typed error is recoverable from
    // it by downcasting.
    assert!(result.interrupted.is_none());
    let training = result.error.expect("LearningResult::error");
    let failure = std::iter::successors(std::error::Error::source(&*training), |e| e.source())
        .find_map(|e| e.downcast_ref::<ngmnn::learner::ClosedFormFailure>())
        .expect("a ClosedFormFailure in the TrainingError's sources");
    assert!(matches!(*failure.0, NgmnnError::InvalidData { .. }));
    assert!(training.to_string().contains("class"), "{training}");

    // The core trainer's patience is refused under burn-train (it would be ignored).
    let dir = tempfile::tempdir().unwrap();
    let patient = Run {
        patience: Some(2),
        ..RUN
    };
    let model = model_config(&train).init(&device).unwrap();
    let (result, handle) = launch(dir.path(), model, &train, &test, patient);
    let error = handle.take_error().expect("a typed error");
    assert!(
        matches!(
            *error,
            NgmnnError::InvalidConfig {
                field: "patience",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(result.error.is_some());
}

#[test]
fn sgd_and_adam_lower_the_loss_and_beat_chance() {
    let (train, test) = split();
    let device = common::device();
    let chance = 1.0 / train.n_classes() as f64;
    for optimizer in [OptimizerKind::Sgd, OptimizerKind::Adam] {
        let trainer = GradientConfig::new()
            .with_optimizer(optimizer)
            .with_epochs(5)
            .init()
            .unwrap();
        // One hidden layer of 32: what SGD at lr 0.1 trains in a few epochs.
        let small = NgmnnConfig::new(train.d(), vec![32], train.n_classes()).with_seed(3);
        let (model, history) = trainer
            .fit(small.init(&device).unwrap(), &train, Some(&test))
            .unwrap();
        let losses: Vec<f64> = history.epochs.iter().map(|e| e.train_loss).collect();
        assert!(
            losses[4] < 0.8 * losses[0],
            "{optimizer}: losses {losses:?}"
        );
        let acc = history.epochs[4].valid_acc.unwrap();
        assert!(acc > 3.0 * chance, "{optimizer}: test accuracy {acc}");
        // The returned model is the trained one, without autodiff.
        assert!(!model.decision.weight.val().is_autodiff());
    }
}

#[test]
fn gradients_stay_finite_on_raw_large_inputs() {
    // Pixel-like features (0..1600): pre-activations of several hundred saturate the sigmoid.
    // Regression: exp(-z) overflowed to inf and the backward pass produced NaN.
    let (train, _) = split();
    let scaled = |d: &LabeledData| {
        let x = d.features().iter().map(|v| v * 100.0).collect();
        LabeledData::new(
            "scaled",
            x,
            d.labels().to_vec(),
            d.d(),
            d.classes().to_vec(),
        )
        .unwrap()
    };
    let train = scaled(&train);
    let device = common::device();
    let trainer = GradientConfig::new()
        .with_optimizer(OptimizerKind::Sgd)
        .with_epochs(2)
        .init()
        .unwrap();
    let (_, history) = trainer
        .fit(model_config(&train).init(&device).unwrap(), &train, None)
        .unwrap();
    assert!(history.epochs.iter().all(|e| e.train_loss.is_finite()));
}

#[test]
fn gradient_config_rejects_bad_values() {
    for config in [
        GradientConfig::new().with_learning_rate(Some(-1.0)),
        GradientConfig::new().with_learning_rate(Some(f64::NAN)),
        GradientConfig::new().with_momentum(1.0),
        GradientConfig::new().with_batch_size(0),
        GradientConfig::new().with_epochs(0),
    ] {
        assert!(
            matches!(config.init(), Err(NgmnnError::InvalidConfig { .. })),
            "{config:?}"
        );
    }
}

#[test]
fn compare_runs_every_trainer_on_the_same_model() {
    let (train, test) = split();
    let device = common::device();
    let config = CompareConfig {
        ridge_readout: None,
        closed_form: Some(closed_form()),
        gradient: vec![
            GradientConfig::new()
                .with_optimizer(OptimizerKind::Sgd)
                .with_epochs(2),
            GradientConfig::new()
                .with_optimizer(OptimizerKind::Adam)
                .with_epochs(2),
        ],
        mlp: vec![
            GradientConfig::new()
                .with_optimizer(OptimizerKind::Adam)
                .with_epochs(2),
        ],
        refine: vec![
            GradientConfig::new()
                .with_optimizer(OptimizerKind::Adam)
                .with_epochs(2),
        ],
        target: None,
    };
    let mut seen = 0;
    let cmp = compare(
        &model_config(&train),
        &train,
        &test,
        &device,
        "test",
        &config,
        |_| seen += 1,
    )
    .unwrap();
    assert_eq!(seen, 5);
    assert_eq!(cmp.runs.len(), 5);
    let cf = &cmp.runs[0];
    assert!(cf.trainer.starts_with("closed-form"));
    // Every run records the float type it computed in: the closed form its precision, the
    // gradient trainers the model's f32.
    assert_eq!(cf.dtype, closed_form().precision.name());
    assert_eq!(cmp.runs[2].dtype, "f32");
    assert!(cmp.markdown().contains("| dtype |"));
    // closed-form + adam: the closed-form curve, then two Adam epochs counted on from it.
    let refined = &cmp.runs[1];
    assert!(refined.trainer.starts_with("closed-form") && refined.trainer.contains("adam"));
    assert_eq!(refined.curve.len(), cf.curve.len() + 2);
    assert_eq!(refined.curve[..cf.curve.len()], cf.curve[..]);
    assert_eq!(cmp.target, cf.final_acc);
    // The closed form reaches its own final accuracy, by definition.
    assert!(cf.time_to_target.is_some() && cf.epochs_to_target.is_some());
    for run in &cmp.runs {
        assert!(run.best_acc >= run.final_acc);
        assert!(run.curve.windows(2).all(|w| w[1].seconds > w[0].seconds));
        if let Some(t) = run.time_to_target {
            assert!(
                run.curve
                    .iter()
                    .any(|p| p.seconds == t && p.test_acc >= cmp.target)
            );
        }
    }
    let table = cmp.markdown();
    assert_eq!(
        table.matches("\n| ").count(),
        6,
        "header + 5 rows:\n{table}"
    );
    // The plain ReLU network: its own architecture, trained, above chance (0.1).
    let mlp = &cmp.runs[4];
    assert!(mlp.trainer.ends_with("relu-mlp"), "{}", mlp.trainer);
    assert!(mlp.final_acc > 0.5, "relu-mlp accuracy {}", mlp.final_acc);
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("cmp.svg");
    cmp.plot(&svg).unwrap();
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
}

#[test]
fn burn_datasets_reach_the_core_trainer_and_ngmnn_data_is_a_burn_dataset() {
    use burn::data::dataset::{Dataset as _, InMemDataset};
    use ngmnn::learner::{BurnDatasetSource, samples};
    let (train, test) = split();
    let device = common::device();
    // ngmnn's LabeledData is a Burn dataset of samples.
    assert_eq!(burn::data::dataset::Dataset::len(&train), train.n());
    let first = train.get(0).unwrap();
    assert_eq!(first.features[..], train.features()[..train.d()]);
    assert!(train.get(train.n()).is_err());
    // Any Burn dataset of samples is a re-readable source: the in-memory fit's weights.
    let model = model_config(&train).init(&device).unwrap();
    let config = closed_form().with_precision(ngmnn::Precision::F64);
    let trainer = config.init().unwrap();
    let (memory, _) = trainer.fit(model.clone(), &train, Some(&test)).unwrap();
    let burn_data = InMemDataset::new(samples(&train));
    let source = BurnDatasetSource::new(burn_data, "in-mem", train.n_classes(), 100).unwrap();
    let (streamed, _) = trainer.fit(model, Training::stream(source), None).unwrap();
    let diff = common::rel_diff(&memory, &streamed);
    assert!(diff < 1e-8, "weights differ by {diff:e}");
    // An empty Burn dataset is a typed error, not a panic.
    let empty = InMemDataset::<ngmnn::learner::Sample>::new(Vec::new());
    assert!(BurnDatasetSource::new(empty, "empty", 3, 10).is_err());
}

/// A user's own model and batch type: a frozen "extractor" (features times 2) before an NGMNN
/// head.
mod own_model {
    use burn::data::dataloader::batcher::Batcher;
    use burn::module::Module;
    use burn::nn::loss::CrossEntropyLossConfig;
    use burn::tensor::{Device, Int, Tensor};
    use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};
    use ngmnn::learner::{ClosedFormModel, Sample, SampleBatcher};
    use ngmnn::model::Ngmnn;

    #[derive(Debug, Clone)]
    pub struct PairBatch {
        pub x: Tensor<2>,
        pub y: Tensor<1, Int>,
    }

    #[derive(Debug, Clone, Copy)]
    pub struct PairBatcher;

    impl Batcher<Sample, PairBatch> for PairBatcher {
        fn batch(&self, items: Vec<Sample>, device: &Device) -> PairBatch {
            let b = SampleBatcher.batch(items, device);
            PairBatch {
                x: b.inputs,
                y: b.targets,
            }
        }
    }

    #[derive(Module, Debug)]
    pub struct Doubled {
        pub head: Ngmnn,
    }

    impl Doubled {
        fn classify(&self, b: PairBatch) -> ClassificationOutput {
            let logits = self.head.forward_activations(b.x * 2.0).logits;
            let loss = CrossEntropyLossConfig::new()
                .init(&logits.device())
                .forward(logits.clone(), b.y.clone());
            ClassificationOutput {
                loss,
                output: logits,
                targets: b.y,
            }
        }
    }

    impl TrainStep for Doubled {
        type Input = PairBatch;
        type Output = ClassificationOutput;
        fn step(&self, b: PairBatch) -> TrainOutput<ClassificationOutput> {
            let item = self.classify(b);
            TrainOutput::new(self, item.loss.backward(), item)
        }
    }

    impl InferenceStep for Doubled {
        type Input = PairBatch;
        type Output = ClassificationOutput;
        fn step(&self, b: PairBatch) -> ClassificationOutput {
            self.classify(b)
        }
    }

    impl ClosedFormModel for Doubled {
        fn head_inputs(&self, b: &PairBatch) -> (Tensor<2>, Tensor<1, Int>) {
            (b.x.clone() * 2.0, b.y.clone())
        }
        fn head(&self) -> &Ngmnn {
            &self.head
        }
        fn with_head(self, head: Ngmnn) -> Self {
            Self { head }
        }
    }
}

#[test]
fn a_users_own_model_and_batches_take_the_one_line_swap() {
    use burn::data::dataloader::DataLoaderBuilder;
    use own_model::{Doubled, PairBatcher};
    let (train, test) = split();
    let device = common::device();
    let config = model_config(&train);
    // The core fit on what the frozen extractor produces (features times 2).
    let doubled = LabeledData::new(
        "doubled",
        train.features().iter().map(|v| v * 2.0).collect(),
        train.labels().to_vec(),
        train.d(),
        train.classes().to_vec(),
    )
    .unwrap();
    // The paper preset: unlike broad (whose random layer is scaled to the data), its fit
    // depends on the features' scale, so the test sees whether the extractor was applied.
    let paper = ClosedFormConfig::paper().with_epochs(3);
    let core_fit = |data: &LabeledData| {
        paper
            .init()
            .unwrap()
            .fit(config.init(&device).unwrap(), data, None)
            .unwrap()
            .0
    };
    let (core, undoubled) = (core_fit(&doubled), core_fit(&train));
    let loader = |data: &LabeledData, batch: usize| {
        DataLoaderBuilder::new(PairBatcher)
            .batch_size(batch)
            .set_device(device.clone())
            .build(data.clone())
    };
    let strategy = ClosedFormStrategy::new(paper.clone());
    let handle = strategy.handle();
    let dir = tempfile::tempdir().unwrap();
    let result = SupervisedTraining::new(dir.path(), loader(&train, 40), loader(&test, 100))
        .metrics((AccuracyMetric::new(), LossMetric::new()))
        .with_application_logger(None)
        .num_epochs(3)
        .with_training_strategy(strategy.into())
        .launch(Learner::new(
            Doubled {
                head: config.init(&device).unwrap(),
            },
            SgdConfig::new().init(),
            0.01,
        ));
    assert!(handle.take_error().is_none());
    assert_eq!(handle.history().epochs.len(), 3);
    let diff = max_abs_diff(&core, &result.model.head);
    assert!(diff < 1e-4, "head weights differ by {diff}");
    let without = max_abs_diff(&undoubled, &result.model.head);
    assert!(
        without > 1e-3,
        "the extractor made no difference ({without})"
    );
}
