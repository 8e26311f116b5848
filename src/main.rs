//! The `steplog` binary: parse arguments, run a subcommand, map errors to exit codes.

mod cli;
mod cmd;

use clap::Parser;
use std::io;
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
    let broken_pipe = err.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
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

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match &cli.command {
        cli::Command::Summary(args) => cmd::summary::run(args),
        cli::Command::Bench(args) => cmd::bench::run(args),
        cli::Command::Partial(args) => cmd::state::partial(args),
        cli::Command::Merge(args) => cmd::state::merge(args),
        cli::Command::Report(args) => cmd::state::report(args),
        cli::Command::Export(args) => cmd::export::export(args),
        cli::Command::Generate(args) => cmd::generate::run(args),
        cli::Command::Completions { shell } => cmd::docs::completions(*shell),
        cli::Command::Man => cmd::docs::man(),
    };
    let exit = match result {
        Ok(()) => Exit::Success,
        Err(err) => {
            let exit = exit_for(&err);
            if exit != Exit::Success {
                eprintln!("steplog: {err:#}");
            }
            exit
        }
    };
    ExitCode::from(exit as u8)
}
