//! `ngmnn`: train, evaluate and apply Non-Gradient Manifold Neural Networks from the shell.

mod commands;

use clap::Parser;

fn main() {
    let args = commands::Cli::parse();
    if let Err(e) = commands::run(args) {
        eprintln!("error: {}", commands::error_line(&e));
        std::process::exit(1);
    }
}
