//! Fits that read the data in passes: streamed from a re-readable source, split over several
//! devices or threads, and the sums they are built from (moments, class-level targets).

use crate::common;

use burn::tensor::DType;
use common::*;
use ngmnn::data::{
    Batch, BatchSource, DatasetBatches, IdxStream, LabeledData, SyntheticSource, digits,
};
use ngmnn::model::{Activation, LayerParams, Ngmnn, NgmnnConfig};
use ngmnn::solve::{
    backward_targets::{TargetMap, backward_targets, class_backward_step},
    moments::Moments,
};
use ngmnn::train::{ClosedForm, ClosedFormConfig, Preset, Training, Validation};
use ngmnn::{NgmnnError, Precision};

fn f64_config(epochs: usize) -> ClosedFormConfig {
    ClosedFormConfig::paper()
        .with_epochs(epochs)
        .with_precision(Precision::F64)
}

#[test]
fn streamed_fit_gives_the_in_memory_weights() {
    let device = device();
    let (train, test) = digits().stratified_split(0.3, 0).unwrap();
    for (hidden, preset, targets, rows) in [
        (vec![32], Preset::Paper, TargetMap::ColumnSoftmax, 100),
        (vec![48, 24], Preset::Corrected, TargetMap::ColumnMinMax, 7),
    ] {
        let model = NgmnnConfig::new(64, hidden.clone(), 10)
            .init(&device)
            .unwrap();
        let config = f64_config(4).with_preset(preset).with_targets(targets);
        let trainer = config.init().unwrap();
        let (memory, mh) = trainer.fit(model.clone(), &train, Some(&test)).unwrap();
        let (streamed, sh) = trainer
            .fit(
                model,
                Training::stream(DatasetBatches::new(train.clone(), rows)),
                Validation::stream(DatasetBatches::new(test.clone(), 50)),
            )
            .unwrap();
        let diff = rel_diff(&memory, &streamed);
        assert!(
            diff < 1e-8,
            "{hidden:?} batches of {rows}: weights differ by {diff:e}"
        );
        same_history(&mh, &sh);
        // An epoch makes two passes per decision round (the first round's losses come from
        // the previous forward pass): R moment passes + (R - 1) loss passes + 1 forward pass.
        for r in &sh.epochs {
            assert_eq!(
                r.passes,
                2 * r.decision_objectives.len(),
                "epoch {}",
                r.epoch
            );
        }
    }
}

#[test]
fn streamed_synthetic_fit_matches_its_materialised_dataset_and_learns() {
    let device = device();
    let source = SyntheticSource::new(3000, 16, 4, 512, 7).unwrap();
    let data = source.to_dataset().unwrap();
    assert_eq!((data.n(), data.d(), data.n_classes()), (3000, 16, 4));
    let model = NgmnnConfig::new(16, vec![24], 4).init(&device).unwrap();
    let trainer = f64_config(3)
        .with_targets(TargetMap::ColumnMinMax)
        .init()
        .unwrap();
    let (memory, mh) = trainer.fit(model.clone(), &data, None).unwrap();
    let (streamed, sh) = trainer.fit(model, Training::stream(source), None).unwrap();
    assert!(rel_diff(&memory, &streamed) < 1e-8);
    same_history(&mh, &sh);
    // Class means plus noise are learnable: well above chance (0.25).
    assert!(sh.last().unwrap().train_acc > 0.8, "{:?}", sh.last());
}

#[test]
fn sharded_fit_gives_the_single_device_weights() {
    let device = device();
    let (train, test) = digits().stratified_split(0.3, 0).unwrap();
    let model = NgmnnConfig::new(64, vec![32, 16], 10)
        .init(&device)
        .unwrap();
    let trainer = f64_config(3).init().unwrap();
    let (single, h1) = trainer.fit(model.clone(), &train, Some(&test)).unwrap();
    // Chunks of 100 rows in every pass.
    let chunked = f64_config(3).with_chunk_rows(Some(100)).init().unwrap();
    let (small, hc) = chunked.fit(model.clone(), &train, Some(&test)).unwrap();
    let diff = rel_diff(&single, &small);
    assert!(
        diff < 1e-8,
        "chunks of 100 rows: weights differ by {diff:e}"
    );
    same_history(&h1, &hc);
    // Three shards on the test device, each computed on its own thread.
    let devices = vec![device.clone(); 3];
    let (sharded, h3) = trainer
        .fit(
            model.clone(),
            Training::sharded(&train, &devices),
            Some(&test),
        )
        .unwrap();
    let diff = rel_diff(&single, &sharded);
    assert!(diff < 1e-8, "3 shards: weights differ by {diff:e}");
    same_history(&h1, &h3);
    // Two different CPU backends as two devices, when both are built in.
    if ngmnn::BackendKind::Ndarray.is_compiled() && ngmnn::BackendKind::Flex.is_compiled() {
        let devices = [
            ngmnn::BackendKind::Flex.device().unwrap(),
            ngmnn::BackendKind::Ndarray.device().unwrap(),
        ];
        let (two, h2) = trainer
            .fit(model, Training::sharded(&train, &devices), Some(&test))
            .unwrap();
        let diff = rel_diff(&single, &two);
        assert!(diff < 1e-8, "flex + ndarray: weights differ by {diff:e}");
        same_history(&h1, &h2);
    }
}

#[test]
fn sharding_rejects_impossible_splits() {
    let device = device();
    let train = digits();
    let model = NgmnnConfig::new(64, vec![16], 10).init(&device).unwrap();
    let trainer = f64_config(1).init().unwrap();
    let err = trainer
        .fit(model, Training::sharded(&train, &[]), None)
        .unwrap_err();
    assert!(
        matches!(
            err,
            NgmnnError::InvalidConfig {
                field: "devices",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn moments_merged_over_batches_equal_the_whole_batch() {
    let device = device();
    let h = random_mat(57, 6, 1);
    let z = random_mat(57, 3, 2);
    let w: Vec<f64> = (0..57)
        .map(|i| {
            if i % 5 == 0 {
                0.0
            } else {
                0.5 + (i % 7) as f64
            }
        })
        .collect();
    let whole = Moments::of_batch(
        &tensor(&h, &device, DType::F64),
        &tensor(&z, &device, DType::F64),
        Some(&tensor_vec(&w, &device, DType::F64)),
    )
    .unwrap()
    .unwrap();
    let parts = [0..5, 5..6, 6..30, 30..57].map(|r| {
        let rows: Vec<usize> = r.clone().collect();
        let take =
            |m: &faer::Mat<f64>| faer::Mat::from_fn(rows.len(), m.ncols(), |i, j| m[(rows[i], j)]);
        Moments::of_batch(
            &tensor(&take(&h), &device, DType::F64),
            &tensor(&take(&z), &device, DType::F64),
            Some(&tensor_vec(&w[r], &device, DType::F64)),
        )
        .unwrap()
    });
    // The batch 5..6 has weight 0: no moments.
    assert!(parts[1].is_none());
    let merged = Moments::merge_all(parts).unwrap();
    assert!((merged.weight - whole.weight).abs() < 1e-9);
    assert!(max_diff(&merged.second, &whole.second) < 1e-9 * whole.second.norm_max());
    let mean_diff = merged
        .mean
        .iter()
        .zip(&whole.mean)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(mean_diff < 1e-12);
    // And the definition: M = sum_i w_i (v_i - mu)(v_i - mu)^T.
    let v = |i: usize, j: usize| if j < 6 { h[(i, j)] } else { z[(i, j - 6)] };
    let direct = faer::Mat::from_fn(9, 9, |a, b| {
        (0..57)
            .map(|i| w[i] * (v(i, a) - whole.mean[a]) * (v(i, b) - whole.mean[b]))
            .sum::<f64>()
    });
    assert!(max_diff(&direct, &whole.second) < 1e-9 * direct.norm_max());
}

#[test]
fn class_targets_equal_the_sample_targets() {
    let device = device();
    let (y, labels) = one_hot(40, 5, 3);
    let model = NgmnnConfig::new(8, vec![12, 7], 5).init(&device).unwrap();
    let layers: Vec<LayerParams> = model
        .layer_params()
        .into_iter()
        .map(|p| p.cast(DType::F64))
        .collect();
    let mut counts = vec![0usize; 5];
    for &l in &labels {
        counts[l] += 1;
    }
    for map in [TargetMap::ColumnSoftmax, TargetMap::ColumnMinMax] {
        let samples = host(backward_targets(
            tensor(&y, &device, DType::F64),
            &layers[1..],
            Activation::Sigmoid,
            map,
            1e-4,
        ));
        let mut g = faer::Mat::<f64>::identity(5, 5);
        for layer in layers[1..].iter().rev() {
            let (w, b) = (host(layer.w.clone()), host_vec(layer.b.clone()));
            g = class_backward_step(&g, &w, &b, &counts, Activation::Sigmoid, map, 1e-4).0;
        }
        let per_sample = faer::Mat::from_fn(40, g.ncols(), |i, j| g[(labels[i], j)]);
        let diff = max_diff(&per_sample, &samples);
        assert!(diff < 1e-9, "{map}: {diff:e}");
    }
}

/// `edit(pass, first_row, batch)`: passes count from 1; `None` ends the pass.
type Edit = fn(usize, usize, Batch) -> Option<Batch>;

/// `inner`'s batches passed through an [`Edit`].
struct Edited<S> {
    inner: S,
    edit: Edit,
    pass: usize,
    row: usize,
}

impl<S> Edited<S> {
    fn new(inner: S, edit: Edit) -> Self {
        Self {
            inner,
            edit,
            pass: 0,
            row: 0,
        }
    }
}

impl<S: BatchSource> BatchSource for Edited<S> {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn n_features(&self) -> usize {
        self.inner.n_features()
    }
    fn n_classes(&self) -> usize {
        self.inner.n_classes()
    }
    fn reset(&mut self) -> ngmnn::Result<()> {
        self.pass += 1;
        self.row = 0;
        self.inner.reset()
    }
    fn next_batch(&mut self) -> ngmnn::Result<Option<Batch>> {
        let Some(batch) = self.inner.next_batch()? else {
            return Ok(None);
        };
        let first = self.row;
        self.row += batch.rows();
        Ok((self.edit)(self.pass, first, batch))
    }
}

/// Fit `data` served in batches of 500 rows and altered by `edit`: the fit must fail with
/// [`NgmnnError::InvalidData`] naming `needle`.
fn assert_edited_source_fails(
    trainer: &ClosedForm,
    model: &Ngmnn,
    data: &LabeledData,
    edit: Edit,
    needle: &str,
) {
    let err = trainer
        .fit(
            model.clone(),
            Training::stream(Edited::new(DatasetBatches::new(data.clone(), 500), edit)),
            None,
        )
        .unwrap_err();
    assert!(
        matches!(err, NgmnnError::InvalidData { .. }) && err.to_string().contains(needle),
        "{needle}: {err}"
    );
}

#[test]
fn streamed_sources_with_bad_rows_give_typed_errors() {
    let device = device();
    let data = digits();
    let model = NgmnnConfig::new(64, vec![16], 10).init(&device).unwrap();
    let trainer = f64_config(2).init().unwrap();
    // Not re-readable: a source whose later passes are shorter than its first.
    assert_edited_source_fails(
        &trainer,
        &model,
        &data,
        |pass, _, mut b| {
            if pass > 1 && b.rows() > 1 {
                let d = b.features.len() / b.rows();
                b.features.truncate(b.features.len() - d);
                b.labels.pop();
            }
            Some(b)
        },
        "re-readable",
    );
    // A NaN feature and a label out of range in a later batch.
    let mut x = data.features().to_vec();
    x[1000 * 64 + 3] = f32::NAN;
    let bad = LabeledData::new(
        "nan",
        x,
        data.labels().to_vec(),
        64,
        data.classes().to_vec(),
    );
    assert!(bad.is_err(), "LabeledData::new rejects NaN itself");
    let poisons: [(Edit, &str); 2] = [
        (
            |_, _, mut b| {
                b.features[3] = f32::NAN;
                Some(b)
            },
            "non-finite",
        ),
        (
            |_, _, mut b| {
                b.labels[0] = 10;
                Some(b)
            },
            "out of range",
        ),
    ];
    for (poison, needle) in poisons {
        assert_edited_source_fails(&trainer, &model, &data, poison, needle);
    }
    // Wrong width for the model.
    let narrow = SyntheticSource::new(100, 8, 10, 50, 0).unwrap();
    let err = trainer
        .fit(model, Training::stream(narrow), None)
        .unwrap_err();
    assert!(matches!(err, NgmnnError::ShapeMismatch(_)), "{err}");
}

#[test]
fn idx_stream_reads_what_the_loader_reads_and_rejects_truncation() {
    let dir = std::env::temp_dir().join(format!("ngmnn-idx-stream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (n, d) = (23usize, 6usize);
    let mut images = vec![0, 0, 0x08, 2];
    images.extend((n as u32).to_be_bytes());
    images.extend((d as u32).to_be_bytes());
    images.extend((0..n * d).map(|i| (i * 7 % 256) as u8));
    let mut labels = vec![0, 0, 0x08, 1];
    labels.extend((n as u32).to_be_bytes());
    labels.extend((0..n).map(|i| (i % 3) as u8));
    let img_path = dir.join("train-images-idx3-ubyte");
    std::fs::write(&img_path, &images).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), &labels).unwrap();
    let loaded = ngmnn::data::load_idx(&img_path).unwrap();
    let mut stream = IdxStream::open(&img_path, 5).unwrap();
    for _pass in 0..2 {
        stream.reset().unwrap();
        let (mut x, mut y) = (Vec::new(), Vec::new());
        while let Some(b) = stream.next_batch().unwrap() {
            assert!(b.rows() <= 5);
            x.extend(b.features);
            y.extend(b.labels);
        }
        assert_eq!(x, loaded.features());
        assert_eq!(y, loaded.labels());
    }
    // Truncated payload: a typed parse error in the batch that runs short.
    std::fs::write(&img_path, &images[..images.len() - 10]).unwrap();
    let mut stream = IdxStream::open(&img_path, 5).unwrap();
    stream.reset().unwrap();
    let err = loop {
        match stream.next_batch() {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("truncation not detected"),
            Err(e) => break e,
        }
    };
    assert!(
        matches!(err, NgmnnError::Parse { .. }) && err.to_string().contains("truncated"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn streamed_mnist_from_disk_matches_the_in_memory_fit() {
    let images = crate_data("mnist-slice/train-images-idx3-ubyte.gz");
    let device = device();
    // The first 2000 MNIST images: stream the file (stopping after 2000 rows) and load them.
    let stream = IdxStream::open(&images, 500).unwrap();
    let full = ngmnn::data::load_idx(&images).unwrap();
    let head = full.subset(&(0..2000).collect::<Vec<_>>(), "head");
    let model = NgmnnConfig::new(784, vec![32], 10).init(&device).unwrap();
    let trainer = ClosedFormConfig::paper()
        .with_epochs(2)
        .with_targets(TargetMap::ColumnMinMax)
        .init()
        .unwrap();
    let (memory, mh) = trainer.fit(model.clone(), &head, None).unwrap();
    let (streamed, sh) = trainer
        .fit(
            model,
            Training::stream(Edited::new(stream, |_, first, b| {
                (first < 2000).then_some(b)
            })),
            None,
        )
        .unwrap();
    assert!(rel_diff(&memory, &streamed) < 1e-7);
    same_history(&mh, &sh);
}

#[test]
fn csv_stream_reads_what_the_loader_reads_and_checks_the_file_at_open() {
    use ngmnn::data::{CsvOptions, CsvStream, load_csv};
    let dir = std::env::temp_dir().join(format!("ngmnn-csv-stream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = String::from("\nf1,f2,f3,kind\n");
    for i in 0..37 {
        let kind = ["cat", "dog", "emu"][i % 3];
        text.push_str(&format!("{},{}.5,{},{kind}\n", i, i * 2, 100 - i));
        if i == 10 {
            text.push('\n'); // blank lines are skipped
        }
    }
    let path = dir.join("animals.csv");
    std::fs::write(&path, &text).unwrap();
    let options = CsvOptions::default();
    let loaded = load_csv(&path, &options).unwrap();
    let mut stream = CsvStream::open(&path, &options, 8).unwrap();
    assert_eq!((stream.n(), stream.n_features()), (37, 3));
    assert_eq!(stream.classes(), loaded.classes());
    for _pass in 0..2 {
        stream.reset().unwrap();
        let (mut x, mut y) = (Vec::new(), Vec::new());
        while let Some(b) = stream.next_batch().unwrap() {
            assert!(b.rows() <= 8);
            x.extend(b.features);
            y.extend(b.labels);
        }
        assert_eq!(x, loaded.features());
        assert_eq!(y, loaded.labels());
    }
    // A bad cell anywhere in the file fails at open, naming its line.
    std::fs::write(&path, text.replace("20,40.5", "20,oops")).unwrap();
    let err = CsvStream::open(&path, &options, 8).unwrap_err();
    assert!(
        matches!(err, NgmnnError::InvalidData { .. }) && err.to_string().contains("line"),
        "{err}"
    );
    std::fs::write(&path, text.replace("30,60.5,70,", "30,60.5,")).unwrap();
    let err = CsvStream::open(&path, &options, 8).unwrap_err();
    assert!(err.to_string().contains("ragged"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A source that grows, reorders its rows between passes, or holds fewer classes than the
/// model: typed errors for the first two (a panic and a silently wrong fit before), a fit for
/// the third (a shape panic before).
#[test]
fn streamed_sources_that_grow_reorder_or_hold_fewer_classes() {
    let device = device();
    let data = digits();
    let model = NgmnnConfig::new(64, vec![16], 10).init(&device).unwrap();
    let trainer = f64_config(2).init().unwrap();
    let cases: [(Edit, &str); 2] = [
        // Pass 2 (the first decision round's moments) has one more row than pass 1.
        (
            |pass, first, mut b| {
                if pass >= 2 && first == 0 {
                    let d = b.features.len() / b.rows();
                    let row = b.features[..d].to_vec();
                    b.features.extend(row);
                    b.labels.push(b.labels[0]);
                }
                Some(b)
            },
            "more than",
        ),
        // From pass 2 on every batch comes reversed: same rows and counts, another order.
        (
            |pass, _, mut b| {
                if pass >= 2 {
                    let d = b.features.len() / b.rows();
                    let rows: Vec<Vec<f32>> =
                        b.features.chunks(d).rev().map(<[f32]>::to_vec).collect();
                    b.features = rows.concat();
                    b.labels.reverse();
                }
                Some(b)
            },
            "another order",
        ),
    ];
    for (edit, needle) in cases {
        assert_edited_source_fails(&trainer, &model, &data, edit, needle);
    }
    // Five of the model's ten classes.
    let keep: Vec<usize> = (0..data.n()).filter(|&i| data.labels()[i] < 5).collect();
    let five = data.subset(&keep, "five");
    let five = LabeledData::new(
        "five",
        five.features().to_vec(),
        five.labels().to_vec(),
        64,
        data.classes()[..5].to_vec(),
    )
    .unwrap();
    let (_, history) = trainer
        .fit(
            model,
            Training::stream(DatasetBatches::new(five, 300)),
            None,
        )
        .unwrap();
    let acc = history.last().unwrap().train_acc;
    assert!(acc > 0.6, "{acc}");
}
