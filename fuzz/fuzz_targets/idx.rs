//! IDX parser: any bytes give an array whose size matches its header, or a typed error; within
//! a small input budget an array larger than it is refused before it is allocated.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = ngmnn::data::parse_idx(data, Path::new("fuzz")) {
        assert_eq!(a.data.len(), a.dims.iter().product::<usize>());
    }
    let limit = 1 << 16;
    if let Ok(a) = ngmnn::data::parse_idx_within(data, Path::new("fuzz"), limit) {
        assert!(4 * a.data.len() as u64 <= limit);
    }
});
