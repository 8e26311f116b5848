//! The `steplog` binary: parse arguments, run a subcommand, map errors to exit codes.

mod cli;
mod cmd;
mod stdio;

use clap::Parser;
use std::io::{self, Write};
use std::process::ExitCode;

/// Every exit status steplog uses (documented in `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    Success = 0,
    Malformed = 1,
    Error = 2,
    Breached = 3,
}

fn exit_for(err: &anyhow::Error) -> Exit {
    // An io::Error anywhere in the chain, or a JSON writer's error, bare or wrapped in an
    // io::Error (whose `source` skips the error it wraps).
    let json_pipe = |e: &serde_json::Error| e.io_error_kind() == Some(io::ErrorKind::BrokenPipe);
    let broken_pipe = err.chain().any(|c| {
        let io = c.downcast_ref::<io::Error>();
        io.is_some_and(|e| {
            e.kind() == io::ErrorKind::BrokenPipe
                || e.get_ref()
                    .and_then(|inner| inner.downcast_ref::<serde_json::Error>())
                    .is_some_and(json_pipe)
        }) || c.downcast_ref::<serde_json::Error>().is_some_and(json_pipe)
    });
    if broken_pipe {
        return Exit::Success;
    }
    if err.downcast_ref::<cmd::deliver::Breached>().is_some() {
        return Exit::Breached;
    }
    match err.downcast_ref::<steplog::engine::Error>() {
        Some(steplog::engine::Error::Malformed { .. }) => Exit::Malformed,
        _ => Exit::Error,
    }
}

/// Parses the arguments. Help and version text that cannot be written (a full disk behind
/// standard output) is an error, not a silent success.
fn parse() -> Result<cli::Cli, ExitCode> {
    match cli::Cli::try_parse() {
        Ok(cli) => Ok(cli),
        Err(e) => {
            let code = e.exit_code();
            if let Err(w) = e.print() {
                if w.kind() != io::ErrorKind::BrokenPipe {
                    let to = if e.use_stderr() {
                        "standard error"
                    } else {
                        "standard output"
                    };
                    let _ = writeln!(io::stderr(), "steplog: cannot write to {to}: {w}");
                    return Err(ExitCode::from(Exit::Error as u8));
                }
            }
            if e.kind() == clap::error::ErrorKind::InvalidSubcommand {
                if let Some(path) = std::env::args().nth(1).filter(|a| looks_like_a_path(a)) {
                    let _ = writeln!(
                        io::stderr(),
                        "\ntip: to summarise files, run `steplog summary {path}`"
                    );
                }
            }
            // Clap's own codes: 0 for help and version, 2 for usage errors.
            Err(ExitCode::from(code as u8))
        }
    }
}

/// Whether a word where a subcommand goes names a file rather than a mistyped command.
fn looks_like_a_path(arg: &str) -> bool {
    arg == "-" || arg.contains(['/', '.']) || std::path::Path::new(arg).exists()
}

fn main() -> ExitCode {
    let cli = match parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let result = match &cli.command {
        cli::Command::Summary(args) => cmd::summary::run(args),
        cli::Command::Bench(args) => cmd::bench::run(args),
        cli::Command::Partial(args) => cmd::state::partial(args),
        cli::Command::Merge(args) => cmd::state::merge(args),
        cli::Command::Report(args) => cmd::state::report(args),
        cli::Command::Export(args) => cmd::export::export(args),
        cli::Command::Find(args) => cmd::find::run(args),
        cli::Command::Generate(args) => cmd::generate::run(args),
        cli::Command::Diff(args) => cmd::diff::run(args),
        cli::Command::Prices(args) => cmd::prices::run(args),
        cli::Command::Completions { shell } => cmd::docs::completions(*shell),
        cli::Command::Man { dir } => cmd::docs::man(dir.as_deref()),
    };
    let exit = match result {
        Ok(()) => Exit::Success,
        Err(err) => {
            let exit = exit_for(&err);
            if exit != Exit::Success {
                // Messages quote paths and log text: shown, never acted on by the terminal.
                let mut text = format!("{err:#}");
                if stdio::stdout_was_closed() {
                    text.push_str(
                        "\nstandard output was closed when steplog started (>&-): \
                         write with -o FILE, or leave it open",
                    );
                }
                let lines: Vec<String> = text.lines().map(steplog::report::visible).collect();
                eprintln!("steplog: {}", lines.join("\n"));
            }
            exit
        }
    };
    ExitCode::from(exit as u8)
}
