//! The `strata` binary: no subcommand opens the demo project; subcommands run headless.
//!
//! Exit codes: 0 success, 1 an error the message explains, 70 (EX_SOFTWARE,
//! [`strata::engine::jobs::PANIC_EXIT_CODE`]) an internal error: a panic, which is a bug. A panic
//! prints one line, `error: internal error (a bug; please report it): MESSAGE at FILE:LINE`, and
//! the backtrace after it when `RUST_BACKTRACE` is set.

use std::process::ExitCode;

use clap::Parser;
use strata::engine::jobs::{GuardedError, PANIC_EXIT_CODE, install_panic_hook, run_guarded};

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
    install_panic_hook();
    match run_guarded(|| strata::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(GuardedError::Failed(e)) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
        Err(GuardedError::Panicked(report)) => {
            eprintln!("error: {}", report.line());
            if let Some(backtrace) = &report.backtrace {
                eprintln!("{backtrace}");
            }
            ExitCode::from(PANIC_EXIT_CODE)
        }
    }
}
