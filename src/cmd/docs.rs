//! `steplog completions SHELL` and `steplog man`: generated from the clap definitions, so
//! they never drift from `--help`.

use crate::cli::Cli;
use anyhow::Result;
use clap::CommandFactory;
use std::io::{self, Write};

/// Prints the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut cmd = Cli::command();
    let mut out = io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "steplog", &mut out);
    out.flush()?;
    Ok(())
}

/// Prints the man page: the top-level page, then one section per subcommand.
pub fn man() -> Result<()> {
    let cmd = Cli::command();
    let mut out = io::stdout().lock();
    clap_mangen::Man::new(cmd.clone()).render(&mut out)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        // A one-shot command: leaking the title is how clap takes a non-static one.
        let title: &'static str = Box::leak(format!("steplog-{}", sub.get_name()).into_boxed_str());
        clap_mangen::Man::new(sub.clone())
            .title(title)
            .render(&mut out)?;
    }
    out.flush()?;
    Ok(())
}
