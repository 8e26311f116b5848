//! `steplog generate`: write a seeded corpus.

use crate::cli::GenerateArgs;
use anyhow::{Context, Result};
use std::fs::File;
use std::io;
use steplog::generate::Generator;

/// Writes `args.lines` generated lines to the output.
pub fn run(args: &GenerateArgs) -> Result<()> {
    let mut generator = Generator::new(args.seed);
    if args.stream {
        generator = generator.streaming();
    }
    match &args.output {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            generator
                .write(args.lines, file)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => {
            generator.write(args.lines, io::stdout().lock())?;
        }
    }
    Ok(())
}
