//! `steplog completions SHELL` and `steplog man`: generated from the clap definitions, so
//! they never drift from `--help`.

use crate::cli::Cli;
use anyhow::{Context, Result};
use clap::CommandFactory;
use std::io::{self, Write};

/// Prints the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut cmd = Cli::command();
    // Made in memory first: clap_complete panics when its writer fails.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "steplog", &mut script);
    print(&script, "the completion script")
}

/// Writes `text` to standard output; a failure says what could not be written where.
fn print(text: &[u8], what: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text)
        .and_then(|()| out.flush())
        .with_context(|| format!("cannot write {what} to standard output"))
}

/// Prints the man page: the top-level page, then one section per subcommand.
pub fn man() -> Result<()> {
    let cmd = Cli::command();
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        // A one-shot command: leaking the title is how clap takes a non-static one.
        let title: &'static str = Box::leak(format!("steplog-{}", sub.get_name()).into_boxed_str());
        clap_mangen::Man::new(sub.clone())
            .title(title)
            .render(&mut page)?;
    }
    print(&page, "the man page")
}
