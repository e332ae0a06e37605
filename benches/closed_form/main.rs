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

mod epochs;
mod solvers;

use epochs::{closed_form_epoch, closed_form_epoch_stream, gram_fraction, reference_epochs};
use solvers::{head_vs_ridge_readout, matmul, sgd_epoch, solvers};

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

/// One group of benches.
type Group = fn(BackendKind, &Device);

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
