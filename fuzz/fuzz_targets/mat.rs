//! MATLAB v5 loader: any bytes give a dataset or a typed error, never a panic; within a small
//! input budget, compressed variables (used or not) inflate no further than it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(ds) = ngmnn::data::parse_mat(data, Path::new("fuzz.mat")) {
        assert_eq!(ds.features().len(), ds.n() * ds.d());
    }
    let _ = ngmnn::data::parse_mat_within(data, Path::new("fuzz.mat"), 1 << 16);
});
