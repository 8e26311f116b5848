//! `steplog completions SHELL` and `steplog man`: generated from the clap definitions, so
//! they never drift from `--help`.

use crate::cli::Cli;
use anyhow::{Context, Result};
use clap::CommandFactory;
use std::io::{self, Write};
use std::path::Path;

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

/// Prints the man page: the top-level page, then one section per subcommand; or, with
/// `dir`, writes each as a page of its own there (`steplog.1`, `steplog-summary.1`, …),
/// atomically. Each page's closing text (exit codes, `--fail-if` metrics) goes in a
/// section of its own, set as written: clap_mangen's "EXTRA" section refills it into one
/// paragraph.
pub fn man(dir: Option<&Path>) -> Result<()> {
    let cmd = Cli::command();
    let mut pages = vec![("steplog".to_string(), Vec::new())];
    render(&cmd, None, &mut pages[0].1)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("steplog-{}", sub.get_name());
        // A one-shot command: leaking the title is how clap takes a non-static one.
        let title: &'static str = Box::leak(name.clone().into_boxed_str());
        let mut page = Vec::new();
        // Named steplog-summary, invoked as `steplog summary`.
        let sub = sub
            .clone()
            .display_name(title)
            .bin_name(format!("steplog {}", sub.get_name()));
        render(&sub, Some(title), &mut page)?;
        pages.push((name, page));
    }
    let Some(dir) = dir else {
        let all: Vec<u8> = pages.iter().flat_map(|(_, p)| p.iter().copied()).collect();
        return print(&all, "the man page");
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot make {}", dir.display()))?;
    for (name, page) in &pages {
        let path = dir.join(format!("{name}.1"));
        steplog::output::write(&path, |out| out.write_all(page))?;
    }
    Ok(())
}

fn render(cmd: &clap::Command, title: Option<&'static str>, page: &mut Vec<u8>) -> Result<()> {
    let mut man = clap_mangen::Man::new(cmd.clone());
    if let Some(t) = title {
        man = man.title(t);
    }
    man.render_title(page)?;
    man.render_name_section(page)?;
    man.render_synopsis_section(page)?;
    man.render_description_section(page)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(page)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(page)?;
    }
    if let Some(after) = cmd.get_after_long_help().or(cmd.get_after_help()) {
        for part in after.to_string().split("\n\n") {
            // "Heading: text…", the text on the same line or the next.
            let (heading, body) = part.split_once(':').unwrap_or(("Notes", part));
            let body = body
                .strip_prefix('\n')
                .unwrap_or(body.trim_start_matches(' '));
            let heading = heading.to_uppercase();
            let heading = if heading == "EXIT CODES" {
                "EXIT STATUS".to_string()
            } else {
                heading
            };
            writeln!(page, ".SH \"{}\"", roff(&heading))?;
            writeln!(page, ".nf")?;
            for line in body.lines() {
                writeln!(page, "{}", roff(line))?;
            }
            writeln!(page, ".fi")?;
        }
    }
    if cmd.get_version().is_some() {
        man.render_version_section(page)?;
    }
    Ok(())
}

/// Text set in roff as it reads: backslashes escaped, and no line taken for a request.
fn roff(line: &str) -> String {
    let line = line.replace('\\', "\\e");
    if line.starts_with(['.', '\'']) {
        format!("\\&{line}")
    } else {
        line
    }
}
