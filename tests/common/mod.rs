//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod matv5;

use std::path::PathBuf;

use burn::tensor::{DType, Device, Tensor, TensorData};
use faer::Mat;
use ngmnn::BackendKind;
use ngmnn::model::Ngmnn;
use ngmnn::train::History;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The backend the suite runs on: `NGMNN_TEST_BACKEND` (flex, ndarray, wgpu, tch, cuda), else
/// the `test-on-*` feature of the `cargo test-*` aliases, else the first backend compiled in
/// (flex in the default build).
pub fn device() -> Device {
    backend()
        .device()
        .unwrap_or_else(|e| panic!("test backend {}: {e}", backend()))
}

/// See [`device`].
pub fn backend() -> BackendKind {
    if let Ok(name) = std::env::var("NGMNN_TEST_BACKEND") {
        return name
            .parse::<BackendKind>()
            .unwrap_or_else(|e| panic!("NGMNN_TEST_BACKEND: {e}"));
    }
    let marked = [
        (cfg!(feature = "test-on-wgpu"), BackendKind::Wgpu),
        (cfg!(feature = "test-on-tch"), BackendKind::Tch),
        (cfg!(feature = "test-on-cuda"), BackendKind::Cuda),
        (cfg!(feature = "test-on-ndarray"), BackendKind::Ndarray),
        (cfg!(feature = "test-on-flex"), BackendKind::Flex),
    ];
    marked
        .into_iter()
        .find_map(|(on, kind)| on.then_some(kind))
        .or_else(BackendKind::default_compiled)
        .expect("no backend compiled in")
}

/// The f64 CPU reference the backend suite compares against (the first CPU backend built in).
pub fn reference_device() -> Device {
    [BackendKind::Flex, BackendKind::Ndarray]
        .into_iter()
        .find(|b| b.is_compiled())
        .expect("the backend suite needs a CPU backend (flex or ndarray) as reference")
        .device()
        .unwrap()
}

/// A data file shipped with the crate in `data/` (the three reference `.mat` sets and
/// `mnist-slice/`, the first 12000 MNIST training and 2000 t10k images): the tests need nothing
/// outside the repository.
pub fn crate_data(file: &str) -> PathBuf {
    // The library's tests run in the repository's root, the tool's (`cli/`) one level below.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let p = [root.join("data"), root.join("../data")]
        .into_iter()
        .find(|d| d.is_dir())
        .unwrap_or_else(|| root.join("data"))
        .join(file);
    assert!(p.exists(), "{} is missing from the crate", p.display());
    p
}

/// A seeded uniform(-1, 1) host matrix.
pub fn random_mat(rows: usize, cols: usize, seed: u64) -> Mat<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Mat::from_fn(rows, cols, |_, _| rng.random_range(-1.0..1.0))
}

/// A host matrix on the device.
pub fn tensor(m: &Mat<f64>, device: &Device, dtype: DType) -> Tensor<2> {
    ngmnn::linalg::from_host(m, device, dtype)
}

/// A device matrix on the host.
pub fn host(t: Tensor<2>) -> Mat<f64> {
    ngmnn::linalg::to_host(t, "test").unwrap()
}

/// A device vector on the host.
pub fn host_vec(t: Tensor<1>) -> Vec<f64> {
    ngmnn::linalg::to_host_vec(t, "test").unwrap()
}

/// Seeded one-hot labels, every class present.
pub fn one_hot(n: usize, c: usize, seed: u64) -> (Mat<f64>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let labels: Vec<usize> = (0..n)
        .map(|i| if i < c { i } else { rng.random_range(0..c) })
        .collect();
    (Mat::from_fn(n, c, |i, j| f64::from(labels[i] == j)), labels)
}

/// Rows scaled to unit L2 norm (what a hidden layer emits).
pub fn row_normalized(m: &Mat<f64>) -> Mat<f64> {
    Mat::from_fn(m.nrows(), m.ncols(), |i, j| {
        let norm = (0..m.ncols())
            .map(|k| m[(i, k)].powi(2))
            .sum::<f64>()
            .sqrt();
        m[(i, j)] / norm
    })
}

/// Largest absolute entry of `a - b`.
pub fn max_diff(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    (a - b).norm_max()
}

/// A 1-D host vector on the device.
pub fn tensor_vec(v: &[f64], device: &Device, dtype: DType) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), (device, dtype))
}

/// Every layer's `W` and `b` on the host.
pub fn params(model: &Ngmnn) -> Vec<(faer::Mat<f64>, Vec<f64>)> {
    model
        .layer_params()
        .into_iter()
        .map(|p| (host(p.w), host_vec(p.b)))
        .collect()
}

/// Largest weight or bias difference relative to the layer's largest weight, over all layers.
pub fn rel_diff(a: &Ngmnn, b: &Ngmnn) -> f64 {
    params(a)
        .iter()
        .zip(params(b))
        .map(|((wa, ba), (wb, bb))| {
            let scale = wa.norm_max().max(1e-12);
            let bias = ba
                .iter()
                .zip(&bb)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f64::max);
            max_diff(wa, &wb).max(bias) / scale
        })
        .fold(0.0, f64::max)
}

/// Two fits' histories agree: rounds and objectives (1e-8 relative), accuracies, passes.
pub fn same_history(a: &History, b: &History) {
    assert_eq!(a.epochs.len(), b.epochs.len());
    for (x, y) in a.epochs.iter().zip(&b.epochs) {
        assert_eq!(
            x.decision_objectives.len(),
            y.decision_objectives.len(),
            "rounds"
        );
        for (o, p) in x.decision_objectives.iter().zip(&y.decision_objectives) {
            assert!(
                (o - p).abs() <= 1e-8 * o.abs().max(1.0),
                "objective {o} vs {p}"
            );
        }
        assert_eq!(x.train_acc, y.train_acc);
        assert_eq!(x.valid_acc, y.valid_acc);
        assert_eq!(x.passes, y.passes);
    }
}
