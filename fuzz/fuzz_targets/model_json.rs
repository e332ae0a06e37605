//! The model description (`model.json`): any bytes parse to a validated description or an
//! error; a description that parses and validates can build its network.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ngmnn::model::SavedModel;

fuzz_target!(|data: &[u8]| {
    if let Ok(saved) = serde_json::from_slice::<SavedModel>(data) {
        let _ = saved.validate();
    }
});
