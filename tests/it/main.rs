//! The library's integration tests, one binary (one link of Burn): a module per area. The
//! `ngmnn` command's tests are the tool's package's (`cli/tests/cli/`), with the remote-worker
//! suite (`cli/tests/remote.rs`, feature `remote`).

#[path = "../common/mod.rs"]
mod common;

mod activation;
mod backends;
mod broad;
mod config;
mod decision_layer;
mod fuzz_regressions;
mod learner;
mod model_io;
mod numerics;
mod reference;
mod ridge;
mod robustness;
mod streaming;
mod training;
mod wide;
