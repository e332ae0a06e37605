//! The tool's tests, one binary: the `ngmnn` command end to end (train, eval, predict,
//! compare, output folders, interrupts, bad input on the command line). The library's own
//! suite is `tests/it/` at the repository's root; the remote-worker suite is
//! `cli/tests/remote.rs` (feature `remote`).

#[path = "../../../tests/common/mod.rs"]
mod common;

mod bin;

mod bad_input;
mod commands;
mod interrupt;
mod outdir;
mod outputs;
