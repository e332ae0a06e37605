//! Benchmarks (plain harness, no extra dependencies): a closed-form epoch for n x d synthetic
//! problems, each solver alone, the backend's matmul rate (the Gram product an epoch is made
//! of) and the share of it the epoch's Gram work reaches, a streamed epoch and a 2-shard epoch,
//! one SGD epoch on the same model, and the broad preset's whole fit against the ridge
//! read-out baseline on the same random layer. Each case reports the median of several runs;
//! ids carry the backend and the sizes, e.g. `closed_form_epoch/flex/n10000_d784`.
//!
//! ```text
//! cargo bench --bench closed_form                          # flex, n up to 10k
//! NGMNN_BENCH_FULL=1 cargo bench --bench closed_form       # also n = 60k
//! NGMNN_BENCH_BACKEND=ndarray cargo bench --bench closed_form
//! ```

use std::time::Instant;

use burn::tensor::{DType, Device, Tensor, TensorData};
use ngmnn::BackendKind;
use ngmnn::data::{DatasetBatches, LabeledData};
use ngmnn::learner::{GradientConfig, OptimizerKind};
use ngmnn::model::{LayerParams, NgmnnConfig};
use ngmnn::solve::{
    backward_targets::{TargetMap, backward_step},
    decision_layer::{DecisionOptions, decision_layer},
    ridge::ridge,
};
use ngmnn::train::{ClosedFormConfig, EpochRecord, RidgeReadoutConfig, Training};
use ngmnn::{Precision, model::Activation};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CLASSES: usize = 10;
const HIDDEN: usize = 256;
const RUNS: usize = 5;

/// Run `f` once to warm up, then `RUNS` times; print the median (and a rate if `work` > 0)
/// and return it.
fn bench(id: &str, work: f64, unit: &str, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let median = times[RUNS / 2];
    if work > 0.0 {
        println!("{id:<50} {median:>10.4} s   {:>10.2} {unit}", work / median);
    } else {
        println!("{id:<50} {median:>10.4} s");
    }
    median
}

fn backend() -> BackendKind {
    std::env::var("NGMNN_BENCH_BACKEND")
        .ok()
        .map(|b| b.parse().expect("NGMNN_BENCH_BACKEND"))
        .or_else(BackendKind::default_compiled)
        .expect("a backend")
}

/// A synthetic classification problem: class means plus noise (learnable, not trivial).
fn synthetic(n: usize, d: usize, seed: u64) -> LabeledData {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let means: Vec<f32> = (0..CLASSES * d)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let mut x = Vec::with_capacity(n * d);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % CLASSES;
        y.push(c);
        x.extend((0..d).map(|j| means[c * d + j] + rng.random_range(-2.0..2.0)));
    }
    let classes = (0..CLASSES).map(|c| c.to_string()).collect();
    LabeledData::new(format!("synthetic-{n}x{d}"), x, y, d, classes).expect("valid data")
}

fn random(rows: usize, cols: usize, seed: u64, device: &Device, dtype: DType) -> Tensor<2> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let v: Vec<f32> = (0..rows * cols)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    Tensor::<2>::from_data(TensorData::new(v, [rows, cols]), (device, dtype))
}

fn sync(t: Tensor<2>) {
    let _ = t.sum().into_data();
}

fn sizes() -> Vec<(usize, usize)> {
    let full = std::env::var("NGMNN_BENCH_FULL").is_ok();
    let ns: &[usize] = if full {
        &[1_000, 10_000, 60_000]
    } else {
        &[1_000, 10_000]
    };
    ns.iter().flat_map(|&n| [(n, 64), (n, 784)]).collect()
}

fn epoch_config() -> ClosedFormConfig {
    // NGMNN_BENCH_CHUNK_ROWS: rows per chunk (default: the trainer's choice).
    let chunk = std::env::var("NGMNN_BENCH_CHUNK_ROWS")
        .ok()
        .map(|v| v.parse().expect("NGMNN_BENCH_CHUNK_ROWS"));
    ClosedFormConfig::paper()
        .with_targets(TargetMap::ColumnMinMax)
        .with_precision(Precision::F32)
        .with_chunk_rows(chunk)
}

fn closed_form_epoch(kind: BackendKind, device: &Device) {
    for (n, d) in sizes() {
        let data = synthetic(n, d, 1);
        let model = NgmnnConfig::new(d, vec![HIDDEN], CLASSES)
            .init(device)
            .unwrap();
        for shards in [1, 2] {
            if shards > 1 && n < 10_000 {
                continue;
            }
            let devices = vec![device.clone(); shards];
            let mut fit = (epoch_config().init().unwrap())
                .start(&model, Training::sharded(&data, &devices), None)
                .unwrap();
            let suffix = if shards > 1 {
                format!("_shards{shards}")
            } else {
                String::new()
            };
            let id = format!("closed_form_epoch/{kind}/n{n}_d{d}_h{HIDDEN}_f32{suffix}");
            // Every epoch has the same cost only up to the number of decision rounds: report
            // the median and the account of the last one.
            let mut last = None;
            let median = bench(&id, n as f64, "samples/s", || {
                last = Some(fit.epoch().unwrap());
            });
            let r = last.expect("ran");
            account(&id, n, &r, median, device);
        }
    }
}

/// The account of a closed-form epoch of the paper preset with one hidden layer of `HIDDEN`
/// units (resident rows; the hidden layer through its class projection, spec §1), by step:
/// flops, seconds (the last epoch's record: its steps and the moments' cost), achieved
/// GFLOP/s and share of the backend's matmul rate measured now on the moments' shape; the
/// FLOP floor of the epoch (its flops at that rate) and how far the median epoch is from it.
fn account(id: &str, n: usize, r: &EpochRecord, median: f64, device: &Device) {
    let steps = r.steps;
    let (h, c) = (HIDDEN as f64, CLASSES as f64);
    // Every decision-layer pass after the first evaluates the outputs again (losses, slack
    // targets): 2 n h c each, inside the loss and moments passes.
    let losses = 2.0 * n as f64 * h * c * r.passes.saturating_sub(1) as f64;
    let total = steps.forward_flops + losses + r.gram_flops;
    let m = HIDDEN + CLASSES;
    let rows = 2048.min(n);
    let probe = random(rows, m, 11, device, DType::F32);
    let per = (2 * rows * m * m) as f64;
    let start = Instant::now();
    let reps = 20;
    for _ in 0..reps {
        sync(probe.clone().transpose().matmul(probe.clone()));
    }
    let rate = per * reps as f64 / start.elapsed().as_secs_f64();
    let step = |name: &str, flops: f64, seconds: f64| {
        let achieved = flops / seconds.max(1e-12);
        println!(
            "{:<50} {name:<8} {:>7.3} GF {:>8.4} s {:>7.1} GFLOP/s {:>4.0}% of matmul",
            "",
            flops * 1e-9,
            seconds,
            achieved * 1e-9,
            100.0 * achieved / rate
        );
    };
    println!(
        "{:<50} matmul rate on [{m}, {rows}] x [{rows}, {m}]: {:.1} GFLOP/s",
        format!("  account {}", id.rsplit('/').next().unwrap_or(id)),
        rate * 1e-9
    );
    step("forward", steps.forward_flops, steps.forward_seconds);
    step("moments", r.gram_flops, r.gram_seconds);
    println!(
        "{:<50} {:<8} {:>7.3} GF (decision outputs re-evaluated; timed in the rest)",
        "",
        "losses",
        losses * 1e-9
    );
    println!(
        "{:<50} {:<8} {:>19.4} s (host solves)",
        "", "host", steps.host_seconds
    );
    let rest = r.seconds - steps.forward_seconds - r.gram_seconds - steps.host_seconds;
    println!(
        "{:<50} {:<8} {:>19.4} s (losses, sort, slack targets, transfers, dispatch)",
        "", "rest", rest
    );
    let floor = total / rate;
    println!(
        "{:<50} floor {:.4} s = {:.2} GF / matmul rate; epoch {:.4} s = {:.1}x the floor ({} passes)",
        "",
        floor,
        total * 1e-9,
        median,
        median / floor,
        r.passes
    );
}

/// Epochs of the reference problems (paper preset, f64, as `ngmnn train --preset paper`),
/// and one SGD epoch of the same model on the built-in digits.
fn reference_epochs(kind: BackendKind, device: &Device) {
    // As `ngmnn train` runs them: faer on one thread (every host system is small).
    let parallelism = faer::get_global_parallelism();
    faer::set_global_parallelism(faer::Par::Seq);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let sets: Vec<(&str, LabeledData, Vec<usize>)> = vec![
        (
            "att40",
            ngmnn::data::load_mat(&dir.join("att40.mat")).unwrap(),
            vec![64],
        ),
        (
            "umist",
            ngmnn::data::load_mat(&dir.join("umist.mat")).unwrap(),
            vec![64, 32],
        ),
        (
            "waveform",
            ngmnn::data::load_mat(&dir.join("waveform.mat")).unwrap(),
            vec![10, 4],
        ),
        ("digits", ngmnn::data::digits(), vec![64]),
    ];
    for (name, data, hidden) in sets {
        let (train, test) = data.stratified_split(0.3, 0).unwrap();
        let model = NgmnnConfig::new(train.d(), hidden.clone(), train.n_classes())
            .init(device)
            .unwrap();
        let mut fit = (ClosedFormConfig::paper().init().unwrap())
            .start(&model, &train, Some(&test))
            .unwrap();
        let id = format!(
            "reference_epoch/{kind}/{name}_{}x{}_h{hidden:?}_f64",
            train.n(),
            train.d()
        );
        // Ten epochs per run (one epoch is a few milliseconds: too short to time alone).
        let ten = bench(&format!("{id} x10"), 0.0, "", || {
            for _ in 0..10 {
                fit.epoch().unwrap();
            }
        });
        println!("{:<50} {:>10.2} ms per epoch", "", ten * 100.0);
        if name == "digits" {
            let trainer = GradientConfig::new()
                .with_optimizer(OptimizerKind::Sgd)
                .with_epochs(10)
                .init()
                .unwrap();
            let id = format!("reference_epoch/{kind}/{name}_sgd_batch64_f32 x10");
            let ten = bench(&id, 0.0, "", || {
                trainer.fit(model.clone(), &train, None).unwrap();
            });
            println!("{:<50} {:>10.2} ms per epoch", "", ten * 100.0);
        }
    }
    faer::set_global_parallelism(parallelism);
}

/// A streamed epoch: the same data read from a `DatasetBatches` source in every pass.
fn closed_form_epoch_stream(kind: BackendKind, device: &Device) {
    for (n, d) in sizes().into_iter().filter(|&(n, _)| n >= 10_000) {
        let data = synthetic(n, d, 1);
        let model = NgmnnConfig::new(d, vec![HIDDEN], CLASSES)
            .init(device)
            .unwrap();
        let source = Training::stream(DatasetBatches::new(data, 10_000));
        let mut fit = (epoch_config().init().unwrap())
            .start(&model, source, None)
            .unwrap();
        let id = format!("closed_form_epoch_stream/{kind}/n{n}_d{d}_h{HIDDEN}_f32_batch10000");
        bench(&id, n as f64, "samples/s", || {
            fit.epoch().unwrap();
        });
    }
}

/// The Gram work inside a closed-form epoch against the backend's matmul rate for the same
/// products, measured in the same run: each of `RUNS` rounds times one epoch (its Gram work from
/// `EpochRecord::gram_seconds`) and then the same flops as plain products of the same shape
/// (one chunk of rows); the ratio is taken per round and the median reported.
fn gram_fraction(kind: BackendKind, device: &Device) {
    let n = if std::env::var("NGMNN_BENCH_FULL").is_ok() {
        60_000
    } else {
        10_000
    };
    let d = 784;
    let data = synthetic(n, d, 1);
    let model = NgmnnConfig::new(d, vec![HIDDEN], CLASSES)
        .init(device)
        .unwrap();
    let mut fit = (epoch_config().init().unwrap())
        .start(&model, &data, None)
        .unwrap();
    fit.epoch().unwrap();
    // The epoch's products: [m, rows] x [rows, m], m = hidden + classes, rows = one chunk.
    let m = HIDDEN + CLASSES;
    let rows = (1usize << 21) / (d + CLASSES);
    let h = random(rows, m, 9, device, DType::F32);
    let per_product = (2 * rows * m * m) as f64;
    sync(h.clone().transpose().matmul(h.clone()));
    let mut rounds: Vec<(f64, f64, f64, f64)> = (0..RUNS)
        .map(|_| {
            let r = fit.epoch().unwrap();
            let in_epoch = r.gram_flops / r.gram_seconds;
            let reps = (r.gram_flops / per_product).round().max(1.0) as usize;
            let start = Instant::now();
            for _ in 0..reps {
                sync(h.clone().transpose().matmul(h.clone()));
            }
            let plain = (reps as f64 * per_product) / start.elapsed().as_secs_f64();
            (
                in_epoch / plain,
                in_epoch,
                plain,
                r.gram_seconds / r.seconds,
            )
        })
        .collect();
    rounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (ratio, in_epoch, plain, share) = rounds[RUNS / 2];
    println!(
        "{:<50} {:>10.2} GFLOP/s",
        format!("gram_fraction/{kind}/epoch_n{n}_d{d}_h{HIDDEN}_gram_work"),
        in_epoch * 1e-9
    );
    println!(
        "{:<50} {:>10.2} GFLOP/s",
        format!("gram_fraction/{kind}/matmul_{m}x{rows}x{m}_same_flops"),
        plain * 1e-9
    );
    println!(
        "{:<50} {:>10.1} %   (median of {RUNS} paired rounds; Gram work {:.0}% of the epoch)",
        format!("gram_fraction/{kind}/fraction_of_matmul_rate"),
        100.0 * ratio,
        100.0 * share
    );
}

fn matmul(kind: BackendKind, device: &Device) {
    for (n, d) in [(10_000, 64), (10_000, 256), (10_000, 784)] {
        let h = random(n, d, 2, device, DType::F32);
        // H^T H: 2 n d^2 flops.
        let flops = (2 * n * d * d) as f64;
        bench(
            &format!("gram_matmul/{kind}/n{n}_d{d}_f32"),
            flops / 1e9,
            "GFLOP/s",
            || sync(h.clone().transpose().matmul(h.clone())),
        );
    }
}

fn solvers(kind: BackendKind, device: &Device) {
    let (n, d, k) = (10_000, 784, HIDDEN);
    let x = random(n, d, 3, device, DType::F32);
    let t = random(n, k, 4, device, DType::F32)
        .abs()
        .clamp(1e-4, 1.0 - 1e-4);
    bench(
        &format!("solvers/{kind}/ridge_n{n}_d{d}_k{k}"),
        0.0,
        "",
        || {
            ridge(&x, t.clone(), 0.3).unwrap();
        },
    );
    let h = ngmnn::model::row_normalize(random(n, k, 5, device, DType::F32).abs());
    let labels: Vec<f32> = (0..n * CLASSES)
        .map(|i| {
            if i % CLASSES == (i / CLASSES) % CLASSES {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let y = Tensor::<2>::from_data(TensorData::new(labels, [n, CLASSES]), (device, DType::F32));
    let init = LayerParams {
        w: random(k, CLASSES, 6, device, DType::F32) * 0.05,
        b: Tensor::zeros([CLASSES], device),
    };
    let opts: DecisionOptions = ClosedFormConfig::paper().decision_options();
    bench(
        &format!("solvers/{kind}/decision_layer_n{n}_k{k}_c{CLASSES}"),
        0.0,
        "",
        || {
            decision_layer(&h, &y, &init, &opts).unwrap();
        },
    );
    bench(
        &format!("solvers/{kind}/backward_step_n{n}_k{k}_c{CLASSES}"),
        0.0,
        "",
        || {
            sync(backward_step(
                y.clone(),
                &init,
                Activation::Sigmoid,
                TargetMap::ColumnMinMax,
                1e-4,
            ))
        },
    );
}

fn sgd_epoch(kind: BackendKind, device: &Device) {
    for (n, d) in [(10_000, 64), (10_000, 784)] {
        let data = synthetic(n, d, 7);
        let model = NgmnnConfig::new(d, vec![HIDDEN], CLASSES)
            .init(device)
            .unwrap();
        let trainer = GradientConfig::new()
            .with_optimizer(OptimizerKind::Sgd)
            .with_epochs(1)
            .init()
            .unwrap();
        let id = format!("sgd_epoch/{kind}/n{n}_d{d}_h{HIDDEN}_batch64");
        bench(&id, n as f64, "samples/s", || {
            trainer.fit(model.clone(), &data, None).unwrap();
        });
    }
}

/// One group of benches.
type Group = fn(BackendKind, &Device);

/// The broad preset's learned layers against the ridge read-out on the same random layer
/// (the baseline they must beat, docs/beyond-the-paper.md): a whole fit each (set-up included,
/// f32), seconds and test accuracy on a 30% split of the synthetic problem.
fn head_vs_ridge_readout(kind: BackendKind, device: &Device) {
    for (n, d) in sizes() {
        let (train, test) = synthetic(n, d, 3).stratified_split(0.3, 0).unwrap();
        let model = NgmnnConfig::new(d, vec![2048, 64], CLASSES);
        let config = ClosedFormConfig::new()
            .with_precision(Precision::F32)
            .with_epochs(20);
        let acc = |m: &ngmnn::model::Ngmnn| {
            ngmnn::metrics::accuracy(&m.predict_dataset(&test).unwrap(), test.labels())
        };
        let id = format!("head_vs_ridge_readout/{kind}/n{n}_d{d}/broad_20_epochs");
        let mut head = 0.0;
        bench(&id, 0.0, "", || {
            let fitted = config.init().unwrap();
            let (m, _) = fitted
                .fit(model.init(device).unwrap(), &train, None)
                .unwrap();
            head = acc(&m);
        });
        println!("{:<50} test acc {head:.4}", "");
        let id = format!("head_vs_ridge_readout/{kind}/n{n}_d{d}/ridge_readout");
        let mut readout = 0.0;
        bench(&id, 0.0, "", || {
            let (m, _) = RidgeReadoutConfig::new(config.clone())
                .fit(&model, &train, device)
                .unwrap();
            readout = acc(&m);
        });
        println!("{:<50} test acc {readout:.4}", "");
    }
}

fn main() {
    let kind = backend();
    let device = kind.device().unwrap();
    // `cargo bench -- NAME` runs the groups whose name contains NAME.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let groups: [(&str, Group); 8] = [
        ("reference_epoch", reference_epochs),
        ("gram_matmul", matmul),
        ("gram_fraction", gram_fraction),
        ("closed_form_epoch", closed_form_epoch),
        ("closed_form_epoch_stream", closed_form_epoch_stream),
        ("solvers", solvers),
        ("sgd_epoch", sgd_epoch),
        ("head_vs_ridge_readout", head_vs_ridge_readout),
    ];
    println!(
        "{:<50} {:>12}   {:>10}",
        "bench (median of 5)", "time", "rate"
    );
    for (name, run) in groups {
        if filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str())) {
            run(kind, &device);
        }
    }
}
