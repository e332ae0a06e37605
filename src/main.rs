//! `ngmnn`: train, evaluate and apply Non-Gradient Manifold Neural Networks from the shell.

mod cli;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    if let Err(e) = cli::run(args) {
        eprintln!("error: {}", cli::error_line(&e));
        std::process::exit(1);
    }
}
