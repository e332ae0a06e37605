//! Data: the in-memory classification dataset, loaders for the common formats (MATLAB v5
//! `.mat`, MNIST-style IDX, CSV), the built-in demo set, seeded stratified splits and
//! standardisation; re-readable batch sources for streamed fits.

mod builtin;
mod csv;
mod dataset;
mod features;
mod format;
mod idx;
mod input;
mod load;
mod mat;
mod mat_scan;
mod records;
mod standardize;
mod stream;

pub use builtin::{BUILTIN_NAME, digits};
pub use csv::{CsvOptions, LabelColumn, load_csv, parse_csv};
pub use dataset::LabeledData;
pub use features::{CsvFeatureStream, Features, load_features, parse_csv_features};
pub use format::DataFormat;
pub use idx::{labels_path_for, load_idx, load_idx_dir, parse_idx, parse_idx_within};
pub use load::{LoadedData, StreamedData, load, open_stream};
pub use mat::{load_mat, parse_mat, parse_mat_within};
pub use standardize::Standardizer;
pub use stream::{Batch, BatchSource, CsvStream, DatasetBatches, IdxStream, SyntheticSource};
