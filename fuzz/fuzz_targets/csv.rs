//! CSV loader: any bytes give a dataset or a typed error, never a panic; within a small input
//! budget, a typed error (out of memory, a record too long) rather than an allocation.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ngmnn::data::{CsvOptions, LabelColumn, parse_csv};

fuzz_target!(|data: &[u8]| {
    for label in [LabelColumn::Last, LabelColumn::First, LabelColumn::Index(1)] {
        for memory_limit in [None, Some(1 << 16)] {
            let opts = CsvOptions { label: label.clone(), memory_limit, ..CsvOptions::default() };
            if let Ok(ds) = parse_csv(data, "fuzz", &opts) {
                assert_eq!(ds.features().len(), ds.n() * ds.d());
                assert!(ds.features().iter().all(|v| v.is_finite()));
            }
        }
    }
});
