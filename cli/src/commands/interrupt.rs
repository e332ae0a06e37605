//! Ctrl-C handling for long runs: the first interrupt asks the training loop to stop after
//! the epoch in progress (so every file it writes is complete); a second one exits at once
//! (files are written by rename, so even then none is left half-written).

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

/// Exit status of an interrupted run (128 + SIGINT).
pub const INTERRUPTED_EXIT: i32 = 130;

/// Install the handler (once per process).
pub fn install() -> anyhow::Result<()> {
    ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            eprintln!("\nsecond interrupt: exiting now");
            std::process::exit(INTERRUPTED_EXIT);
        }
        eprintln!("\ninterrupt: stopping after the current epoch (press Ctrl-C again to exit now)");
    })?;
    Ok(())
}

/// Whether an interrupt was received.
pub fn requested() -> bool {
    STOP.load(Ordering::SeqCst)
}
