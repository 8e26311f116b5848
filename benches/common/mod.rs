//! What the benches share: today's path over a chunk of lines.

use steplog::batch::Batch;
use steplog::parse::{LineIndex, LineParser, PADDING};

/// Parses every line of `data` as the engine does: the chunk copied into `buf` with
/// padding, its lines found, each parsed into `batch` (emptied when full). Returns the
/// lines that were records.
pub fn parse_chunk(
    parser: &mut LineParser,
    batch: &mut Batch,
    buf: &mut Vec<u8>,
    lines: &mut LineIndex,
    data: &[u8],
) -> usize {
    let len = data.len();
    buf.clear();
    buf.extend_from_slice(data);
    buf.extend_from_slice(&[b' '; PADDING]);
    lines.build(&buf[..len], true);
    let mut rows = 0;
    for i in 0..lines.len() {
        let line = lines.line(i, &buf[..len]);
        if parser
            .parse_line(&mut buf[line.start..], line.len, batch)
            .is_ok()
        {
            rows += 1;
        }
        if batch.is_full() {
            batch.clear();
        }
    }
    rows
}
