//! The `strata` binary: no subcommand opens the demo project; subcommands run headless.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = strata::cli::Cli::parse();
    // Headless commands end quietly when their reader stops early (`strata sweep ... | head`), as
    // Unix tools do; the window keeps Rust's default (a closed socket is an error, not a kill).
    #[cfg(unix)]
    if cli.command.is_some() {
        // SAFETY: called before any other thread exists; SIG_DFL is a valid disposition for SIGPIPE.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    match strata::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
