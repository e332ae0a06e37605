//! The integration tests, one binary (one link of Burn): a module per area. The remote-worker
//! suite is `tests/remote.rs` (feature `remote`).

#[path = "../common/mod.rs"]
mod common;

mod activation;
mod backends;
mod bad_input;
mod broad;
mod cli;
mod config;
mod decision_layer;
mod fuzz_regressions;
mod interrupt;
mod learner;
mod model_io;
mod numerics;
mod outdir;
mod outputs;
mod reference;
mod ridge;
mod robustness;
mod streaming;
mod training;
mod wide;
