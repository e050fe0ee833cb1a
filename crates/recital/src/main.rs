//! The `recital` command-line tool: glue between the library crates and the user.
//!
//! Each subcommand lives in its own module under `cmd/`; argument definitions are
//! in `cli.rs`. Errors are reported in one place (here): one line on stderr,
//! exit status 1 (2 for usage errors, from clap). `recital filter` and
//! `recital scan` have statuses of their own for their decisions (3, 4: see
//! `cmd/filter.rs`).

mod cli;
mod cmd;
mod output;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`recital … | head`), like other Unix tools,
    // instead of panicking on the failed write.
    #[cfg(unix)]
    // SAFETY: resetting a signal disposition to its default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Before any HTTP client: reqwest (rustls) panics without a provider.
    recital_serve::tls::install_crypto_provider();
    let args = cli::Cli::parse();
    let filter = if args.verbose { "info" } else { "warn" };
    let env = tracing_subscriber::EnvFilter::try_from_env("RECITAL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    tracing_subscriber::fmt()
        .with_env_filter(env)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never in a log file or a pipe.
        .with_ansi(
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        )
        .with_target(false)
        .without_time()
        .init();
    // Returned, not `process::exit`: stdout is flushed on the way out.
    let e = match cmd::run(args.command) {
        Ok(status) => return ExitCode::from(status),
        Err(e) => e,
    };
    // Library errors already name their cause ("path: source"); skip a cause
    // that the message before it already ends with.
    let mut msg = String::new();
    for c in e.chain().map(|c| c.to_string()) {
        if msg.is_empty() {
            msg = c;
        } else if !msg.ends_with(&c) {
            msg = format!("{msg}: {c}");
        }
    }
    eprintln!("error: {msg}");
    ExitCode::FAILURE
}
