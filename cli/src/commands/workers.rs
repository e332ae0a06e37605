//! `ngmnn worker` (serve a device to other machines) and `ngmnn train --workers` (shard a fit
//! over workers), on Burn's remote backend (feature `remote`).

use std::path::PathBuf;

use burn::tensor::Device;
use clap::Args;
use ngmnn::train::{ClosedFormFit, Workers};

use super::common::BackendArgs;

/// `ngmnn worker`: serve one device of this machine to a fit on another.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Address to listen on: ADDR:PORT, or a port (on 127.0.0.1). Listening on every
    /// interface must be asked for (0.0.0.0:PORT); port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:4000")]
    listen: String,
    #[command(flatten)]
    backend: BackendArgs,
    /// Accept only clients that present the token in this file (the same file as the fit's
    /// --token-file). The transport is unencrypted: a token stops stray clients, not someone
    /// reading the network.
    #[arg(long)]
    token_file: Option<PathBuf>,
}

/// The workers of `ngmnn train`.
#[derive(Debug, Clone, Args)]
pub struct WorkersArgs {
    /// Shard the training rows over these workers (`ngmnn worker` on other machines, comma-
    /// separated ws://HOST:PORT): each holds its rows resident, every pass runs on all of them
    /// and the moments are merged here. A lost worker's rows move to the others (or to
    /// --spare) and the interrupted epoch is redone. Needs the `remote` feature.
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["shards", "stream_rows"])]
    pub(super) workers: Vec<String>,
    /// Workers that hold nothing until a worker is lost, then take over its rows.
    #[arg(long, value_delimiter = ',', requires = "workers")]
    pub(super) spare: Vec<String>,
    /// Present the token in this file to the workers.
    #[arg(long, requires = "workers")]
    pub(super) token_file: Option<PathBuf>,
    /// A worker that has not finished its part of a pass after this many seconds is taken for
    /// lost (a frozen process keeps its connection open): its connection is cut and its rows
    /// move. Set it well above a pass's time.
    #[arg(long, default_value_t = 120.0, requires = "workers")]
    pub(super) worker_timeout: f64,
}

/// The devices of a fit: `shards` threads on `device`, or the workers asked for.
pub(super) fn workers(args: &WorkersArgs, device: &Device, shards: u16) -> anyhow::Result<Workers> {
    if args.workers.is_empty() {
        return Ok(Workers::local(&vec![device.clone(); usize::from(shards)]));
    }
    remote_workers(args)
}

#[cfg(feature = "remote")]
fn remote_workers(args: &WorkersArgs) -> anyhow::Result<Workers> {
    if !(args.worker_timeout.is_finite() && args.worker_timeout > 0.0) {
        anyhow::bail!("--worker-timeout must be a positive number of seconds");
    }
    let token = args
        .token_file
        .as_deref()
        .map(ngmnn::remote::read_token)
        .transpose()?;
    // A lost worker is reported in one line by the fit, not by Burn's panic message.
    ngmnn::train::quiet_worker_panics();
    let workers = ngmnn::remote::connect_workers(&args.workers, &args.spare, token.as_deref())?;
    Ok(workers.with_timeout(std::time::Duration::from_secs_f64(args.worker_timeout)))
}

#[cfg(not(feature = "remote"))]
fn remote_workers(_: &WorkersArgs) -> anyhow::Result<Workers> {
    anyhow::bail!(
        "--workers needs the `remote` feature: build ngmnn with `--features remote` (here and on \
         the workers)"
    )
}

/// Say what the setup exchanged with remote workers (the rows' upload).
pub(super) fn say_setup(fit: &ClosedFormFit, chatty: bool) {
    let traffic = fit.traffic();
    if chatty && !traffic.is_empty() {
        for (name, t) in traffic {
            println!(
                "worker {name}: setup (rows uploaded, first pass) {:.1} MB sent, {:.3} MB received",
                t.sent as f64 * 1e-6,
                t.received as f64 * 1e-6
            );
        }
    }
}

/// Run `ngmnn worker`.
#[cfg(feature = "remote")]
pub fn run(args: WorkerArgs) -> anyhow::Result<()> {
    use std::io::Write;
    let addr = ngmnn::remote::listen_address(&args.listen)?;
    let device = args.backend.device()?;
    let token = args
        .token_file
        .as_deref()
        .map(ngmnn::remote::read_token)
        .transpose()?;
    let secured = if token.is_some() {
        "token required"
    } else {
        "no token"
    };
    let server = ngmnn::remote::WorkerServer::bind(addr, device, token)?;
    // The first line names the URL (scripts and tests read it to learn a port picked by 0).
    println!(
        "ngmnn worker: serving {} on {} ({secured}; unencrypted; Ctrl-C stops it)",
        args.backend.backend,
        server.url()?
    );
    std::io::stdout().flush()?;
    server.serve()?;
    Ok(())
}

/// Run `ngmnn worker` without the `remote` feature: say how to get it.
#[cfg(not(feature = "remote"))]
pub fn run(_: WorkerArgs) -> anyhow::Result<()> {
    anyhow::bail!("`ngmnn worker` needs the `remote` feature: build ngmnn with `--features remote`")
}
