//! The `descent` command line (see `descent --help` and the README's "Command line").

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    descent::cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
