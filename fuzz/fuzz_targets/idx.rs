//! IDX parser: any bytes give an array whose size matches its header, or a typed error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = ngmnn::data::parse_idx(data, Path::new("fuzz")) {
        assert_eq!(a.data.len(), a.dims.iter().product::<usize>());
    }
});
