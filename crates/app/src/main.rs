//! Entry point of the `caredesk` binary; everything else lives in the library.

/// mimalloc rather than the system allocator, for Rust and (the `override` feature) for the
/// bundled SQLite's C allocations too: batch writers allocate row values on one thread and the
/// database driver's worker thread frees them, which glibc's malloc serialises on an arena lock,
/// and SQLite allocates and frees a record per row. About 10% off a million-account bill run
/// (BENCHMARKS.md, "Bill run").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    caredesk::cli::main()
}
