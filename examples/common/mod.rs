//! What the benchmark examples share (their options are parsed with clap).

/// The full MNIST directory for the examples that need all 60000 images: `NGMNN_MNIST`, else
/// `../shared/data/mnist` (the crate ships only a slice, `data/mnist-slice`; the four files are
/// the standard `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`, `t10k-...`).
#[allow(dead_code)] // not every example reads MNIST
pub fn mnist_dir() -> String {
    std::env::var("NGMNN_MNIST").unwrap_or_else(|_| "../shared/data/mnist".into())
}
