//! What the benchmark examples share (their options are parsed with clap).

/// The full MNIST directory for the examples that need all 60000 images: `--data DIR` if given,
/// else the environment variable `NGMNN_MNIST`. There is no default: the crate ships only a
/// slice (`data/mnist-slice`), and without either the example stops with a message saying
/// what it needs.
#[allow(dead_code)] // not every example reads MNIST
pub fn mnist_dir(flag: Option<String>) -> Result<String, String> {
    flag.or_else(|| std::env::var("NGMNN_MNIST").ok())
        .filter(|dir| !dir.is_empty())
        .ok_or_else(|| {
            "this example needs the full MNIST: pass --data DIR or set NGMNN_MNIST to a folder \
             with the four MNIST IDX files (train-images-idx3-ubyte[.gz], \
             train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], \
             t10k-labels-idx1-ubyte[.gz]); the crate ships only a slice, data/mnist-slice"
                .to_string()
        })
}
