//! The `shezu` binary: parse the command line and run it.

use clap::Parser;

fn main() -> std::process::ExitCode {
    shezu::cli::run(shezu::cli::Cli::parse())
}
