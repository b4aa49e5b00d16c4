//! The `shezu` binary: parse the command line and run it.

use clap::Parser;

/// mimalloc rather than the system allocator: glibc's malloc keeps the memory that start-up work
/// frees (the facet index's slices, the credit sweep's calendar) in per-thread arenas, so a
/// server at a million organizations held twice its live heap; mimalloc returns freed pages.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    shezu::cli::run(shezu::cli::Cli::parse())
}
