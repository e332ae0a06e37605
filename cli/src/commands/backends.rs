//! `ngmnn backends`: which Burn backends this build has, and which work on this machine.

use clap::Args;
use ngmnn::BackendKind;

#[derive(Debug, Args)]
pub struct BackendsArgs {
    /// Device index to probe on backends with several devices.
    #[arg(long)]
    device: Option<usize>,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: BackendsArgs) -> anyhow::Result<()> {
    // A backend that cannot start (no GPU adapter, no driver) may panic inside Burn; the probe
    // catches it, and the default hook's message would only repeat the table's.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let probes: Vec<_> = BackendKind::ALL
        .into_iter()
        .map(|b| {
            let index = args.device.filter(|_| b.has_device_index());
            if b.is_compiled() {
                b.probe(index)
            } else {
                ngmnn::backend::BackendProbe {
                    backend: b,
                    compiled: false,
                    usable: false,
                    detail: format!("not compiled in: build with --features {}", b.feature()),
                }
            }
        })
        .collect();
    std::panic::set_hook(hook);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&probes)?);
        return Ok(());
    }
    println!("| backend | compiled | usable here | device / reason |");
    println!("|---|---|---|---|");
    let yes = |b: bool| if b { "yes" } else { "no" };
    for p in &probes {
        println!(
            "| {} | {} | {} | {} |",
            p.backend,
            yes(p.compiled),
            yes(p.usable),
            p.detail.replace('|', "/")
        );
    }
    Ok(())
}
