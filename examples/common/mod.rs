//! Command-line options shared by the benchmark examples: `--key value` pairs and the
//! `--header` flag (print the Markdown table header first).

use std::collections::HashMap;
use std::error::Error;
use std::str::FromStr;

/// The full MNIST directory for the examples that need all 60000 images: `NGMNN_MNIST`, else
/// `../shared/data/mnist` (the crate ships only a slice, `data/mnist-slice`; the four files are
/// the standard `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`, `t10k-...`).
#[allow(dead_code)] // not every example reads MNIST
pub fn mnist_dir() -> String {
    std::env::var("NGMNN_MNIST").unwrap_or_else(|_| "../shared/data/mnist".into())
}

/// The parsed options.
pub struct Options {
    /// `--header` was given.
    pub header: bool,
    values: HashMap<String, String>,
}

impl Options {
    /// Parse the process arguments.
    pub fn parse() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let header = args.iter().any(|a| a == "--header");
        let values = args
            .iter()
            .filter(|a| *a != "--header")
            .collect::<Vec<_>>()
            .chunks(2)
            .filter_map(|kv| Some((kv[0].strip_prefix("--")?.to_owned(), kv.get(1)?.to_string())))
            .collect();
        Self { header, values }
    }

    /// The value of `--key` as text, or `default`.
    pub fn text<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.values.get(key).map_or(default, String::as_str)
    }

    /// The value of `--key` parsed, or `default`.
    pub fn get<T: FromStr>(&self, key: &str, default: T) -> Result<T, Box<dyn Error>>
    where
        T::Err: Error + 'static,
    {
        Ok(self.values.get(key).map_or(Ok(default), |v| v.parse())?)
    }
}
