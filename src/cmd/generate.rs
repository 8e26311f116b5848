//! `steplog generate`: write a seeded corpus (and, with `--runs`, the objects of its runs).

use crate::cli::GenerateArgs;
use anyhow::{Context, Result};
use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use steplog::generate::{write_corpus, write_responses, Generator, Order, Responses};

fn create(path: &Path) -> Result<File> {
    File::create(path).with_context(|| format!("cannot create {}", path.display()))
}

/// Writes `args.lines` generated lines to the output.
pub fn run(args: &GenerateArgs) -> Result<()> {
    if args.output.is_none() && io::stdout().is_terminal() {
        anyhow::bail!(
            "not writing {} lines of JSONL (about {} MB) to a terminal: give -o FILE, or pipe \
             it (`steplog generate -n 5 | jq .`)",
            args.lines,
            (args.lines * 870).div_ceil(1_000_000)
        );
    }
    if args.api == "responses" && args.runs.is_some() {
        anyhow::bail!(
            "--runs writes run objects, which responses do not have (each names its own model)"
        );
    }
    super::deliver::check_outputs(&[args.output.as_deref(), args.runs.as_deref()], &[], false)?;
    let mut generator = Generator::new(args.seed);
    if args.stream {
        generator = generator.streaming();
    }
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(create(path)?),
        None => Box::new(io::stdout().lock()),
    };
    let name = args.output.as_ref().map_or_else(
        || "standard output".to_string(),
        |p| p.display().to_string(),
    );
    let order = Order::parse(&args.order, args.in_flight)
        .with_context(|| format!("unknown order `{}`", args.order))?;
    if args.api == "responses" {
        let mut g = Responses::new(args.seed);
        if args.stream {
            g = g.streaming();
        }
        write_responses(g, args.lines, order, out)
            .with_context(|| format!("cannot write {name}"))?;
        return Ok(());
    }
    match &args.runs {
        Some(runs) => {
            let file = create(runs)?;
            write_corpus(generator.with_runs(args.seed), args.lines, order, out, file)
                .with_context(|| format!("cannot write {name} or {}", runs.display()))?;
        }
        None => {
            write_corpus(generator, args.lines, order, out, io::sink())
                .with_context(|| format!("cannot write {name}"))?;
        }
    }
    Ok(())
}
