//! A model directory (`model.json` + `model.bpk`) loaded onto the flex CPU backend: any bytes
//! give a model or an error, never a panic or an allocation abort. The input is
//! `[json length: u16 LE][model.json][model.bpk]`. The `model.json` part is also read as the
//! folder's `CURRENT` and `manifest.json` would be: a short name or an error, quoting at most
//! one short line.
#![no_main]
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use ngmnn::BackendKind;
use ngmnn::model::SavedModel;
use ngmnn::model::outdir::read::{manifest_is_valid, parse_current};

fuzz_target!(|data: &[u8]| {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
    let (meta, record) = rest.split_at(len);
    match parse_current(meta) {
        Ok(name) => assert!(name.len() <= 32 && !name.contains(['/', '.'])),
        Err(why) => assert!(why.len() < 200 && !why.contains('\n'), "{why}"),
    }
    let _ = manifest_is_valid(meta);
    let device = BackendKind::Flex.device().expect("flex is compiled in");
    let _ = SavedModel::from_bytes(meta, record.to_vec(), Path::new("fuzz"), &device);
});
