//! The diff as JSON: the stable contract (`doc/diff.md`).

use super::super::Diff;
use super::DiffFormat;
use std::io;

/// Pretty-printed JSON, one document.
pub struct Json;

impl DiffFormat for Json {
    fn render(&self, diff: &Diff, out: &mut dyn io::Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, diff).map_err(io::Error::other)?;
        writeln!(out)
    }
}
