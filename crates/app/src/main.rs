//! Entry point of the `caredesk` binary; everything else lives in the library.

fn main() -> std::process::ExitCode {
    caredesk::cli::main()
}
