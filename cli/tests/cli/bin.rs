//! Running the `ngmnn` binary of this package.
#![allow(dead_code)]

use std::path::PathBuf;

/// Run the `ngmnn` binary.
pub fn ngmnn(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ngmnn"))
        .args(args)
        .output()
        .expect("run ngmnn")
}

/// Run the binary and require success (its stderr is the failure message).
pub fn ngmnn_ok(args: &[&str]) -> std::process::Output {
    let out = ngmnn(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A one-epoch model of the built-in data (`--hidden 64,16`) saved by `ngmnn train --out` into
/// `dir/NAME`.
pub fn one_epoch_model(dir: &std::path::Path, name: &str) -> PathBuf {
    let model = dir.join(name);
    ngmnn_ok(&[
        "train",
        "--epochs",
        "1",
        "--hidden",
        "64,16",
        "--quiet",
        "--out",
        model.to_str().unwrap(),
    ]);
    model
}
