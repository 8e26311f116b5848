//! The text table's layout: rows of cells laid out by `comfy-table` (borderless, two
//! spaces between columns, numbers right-aligned), made to fit a width: long ids are
//! shortened in the middle first, then the columns a table marks as optional are left
//! out, least useful first, and a line says so.

use comfy_table::{presets, CellAlignment, ColumnConstraint, ContentArrangement, Table};
use std::io::{self, Write};
use unicode_width::UnicodeWidthStr;

/// The narrowest an id or name is shortened to.
const MIN_TEXT: usize = 14;

/// The narrowest a message is cut to before other columns give way.
const MIN_FLEXIBLE: usize = 24;

/// Rows of cells: the first column left-aligned, the others right-aligned (numbers),
/// except columns from `text_from` on, left-aligned too (ids, text).
#[derive(Default)]
pub struct Grid {
    rows: Vec<Vec<String>>,
    text_from: Option<usize>,
    /// Columns that may be left out to fit, the first to go first.
    optional: Vec<usize>,
    /// A free-text column (a message) cut at its end, first, to fit.
    flexible: Option<usize>,
    /// Columns never shortened (times).
    fixed: Vec<usize>,
    /// Whether the first column is a number (right-aligned) rather than a label.
    number_first: bool,
}

impl Grid {
    /// A grid whose columns from `text_from` on are text (left-aligned).
    pub fn with_text_from(text_from: usize) -> Grid {
        Grid {
            text_from: Some(text_from),
            ..Grid::default()
        }
    }

    /// Columns that may be left out when the table is too wide, the first to go first.
    pub fn optional(mut self, columns: &[usize]) -> Grid {
        self.optional = columns.to_vec();
        self
    }

    /// A free-text column, cut at its end before anything else is shortened.
    pub fn flexible(mut self, column: usize) -> Grid {
        self.flexible = Some(column);
        self
    }

    /// The first column right-aligned: it holds numbers, not labels.
    pub fn number_first(mut self) -> Grid {
        self.number_first = true;
        self
    }

    /// Columns never shortened.
    pub fn fixed(mut self, columns: &[usize]) -> Grid {
        self.fixed = columns.to_vec();
        self
    }

    /// Appends a row.
    pub fn row<I: IntoIterator<Item = String>>(&mut self, cells: I) {
        self.rows.push(cells.into_iter().collect());
    }

    fn is_text(&self, c: usize) -> bool {
        (c == 0 && !self.number_first) || (c > 0 && self.text_from.is_some_and(|t| c >= t))
    }

    /// Writes the rows, each line starting with `indent`, within `width` columns when
    /// given (else as wide as the cells are).
    pub fn write(&self, out: &mut dyn Write, indent: &str, width: Option<usize>) -> io::Result<()> {
        let cols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        if cols == 0 {
            return Ok(());
        }
        let natural = |c: usize| {
            self.rows
                .iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.width())
                .max()
                .unwrap_or(0)
        };
        let mut widths: Vec<usize> = (0..cols).map(natural).collect();
        let mut shown: Vec<bool> = vec![true; cols];
        if let Some(budget) = width {
            let total = |w: &[usize], shown: &[bool]| {
                let visible: Vec<usize> = (0..cols).filter(|&c| shown[c]).map(|c| w[c]).collect();
                indent.width() + visible.iter().sum::<usize>() + 2 * visible.len().saturating_sub(1)
            };
            let over =
                |widths: &[usize], shown: &[bool]| total(widths, shown).saturating_sub(budget);
            // The message column first, down to MIN_FLEXIBLE…
            if let Some(f) = self.flexible.filter(|&f| f < cols) {
                let cut = over(&widths, &shown);
                widths[f] = widths[f]
                    .saturating_sub(cut)
                    .max(MIN_FLEXIBLE.min(widths[f]));
            }
            // …then the optional columns, least useful first…
            for &c in &self.optional {
                if over(&widths, &shown) == 0 {
                    break;
                }
                if c < cols {
                    shown[c] = false;
                }
            }
            // …then ids and names, widest first, down to MIN_TEXT (cut in the middle).
            while over(&widths, &shown) > 0 {
                let widest = (0..cols)
                    .filter(|&c| shown[c] && self.is_text(c) && Some(c) != self.flexible)
                    .filter(|c| !self.fixed.contains(c) && widths[*c] > MIN_TEXT)
                    .max_by_key(|&c| widths[c]);
                let Some(c) = widest else { break };
                let cut = over(&widths, &shown);
                widths[c] = widths[c].saturating_sub(cut).max(MIN_TEXT);
            }
            // …and the message again, as far as it takes.
            if let Some(f) = self.flexible.filter(|&f| f < cols) {
                let cut = over(&widths, &shown);
                widths[f] = widths[f].saturating_sub(cut).max(8.min(widths[f]));
            }
        }
        let mut table = Table::new();
        table
            .load_preset(presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled);
        for r in &self.rows {
            let cells: Vec<String> = r
                .iter()
                .enumerate()
                .filter(|(c, _)| shown[*c])
                .map(|(c, cell)| match Some(c) == self.flexible {
                    true => cut_end(cell, widths[c]),
                    false => shorten(cell, widths[c]),
                })
                .collect();
            table.add_row(cells);
        }
        let visible: Vec<usize> = (0..cols).filter(|&c| shown[c]).collect();
        for (i, column) in table.column_iter_mut().enumerate() {
            let c = visible[i];
            column.set_cell_alignment(if self.is_text(c) {
                CellAlignment::Left
            } else {
                CellAlignment::Right
            });
            // Two spaces between columns, none before the first.
            column.set_padding((u16::from(i > 0) * 2, 0));
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
        for line in table.lines() {
            writeln!(out, "{indent}{}", line.trim_end())?;
        }
        let left_out = shown.iter().filter(|s| !**s).count();
        if left_out > 0 {
            let header: Vec<&str> = (0..cols)
                .filter(|&c| !shown[c])
                .filter_map(|c| self.rows.first().and_then(|r| r.get(c)).map(String::as_str))
                .collect();
            let note = format!("(not shown here: {}; -f json has all)", header.join(", "));
            let options = textwrap::Options::new(width.unwrap_or(usize::MAX))
                .initial_indent(indent)
                .subsequent_indent(indent);
            for line in textwrap::wrap(&note, options) {
                writeln!(out, "{line}")?;
            }
        }
        Ok(())
    }
}

/// `text` within `width` columns, cut at its end with `…`.
pub fn cut_end(text: &str, width: usize) -> String {
    if text.width() <= width || width < 2 {
        return text.to_string();
    }
    let mut s = String::new();
    for ch in text.chars() {
        if (s.clone() + &ch.to_string()).width() + 1 > width {
            break;
        }
        s.push(ch);
    }
    s.push('…');
    s
}

/// `text` within `width` columns: cut in the middle with `…` (ids keep their prefix and
/// their distinguishing tail).
pub fn shorten(text: &str, width: usize) -> String {
    if text.width() <= width || width < 3 {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let keep = width - 1;
    let head = keep.div_ceil(2);
    let tail = keep - head;
    let mut s: String = chars[..head].iter().collect();
    s.push('…');
    s.extend(&chars[chars.len() - tail..]);
    // Wide characters: trim further until it fits.
    while s.width() > width && s.chars().count() > 2 {
        let mut c: Vec<char> = s.chars().collect();
        c.remove(c.len() / 2 - 1);
        s = c.into_iter().collect();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(g: &Grid, width: Option<usize>) -> Vec<String> {
        let mut out = Vec::new();
        g.write(&mut out, "  ", width).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn aligns_numbers_right_and_text_left() {
        let mut g = Grid::default();
        g.row(["status".to_string(), "count".to_string()]);
        g.row(["completed".to_string(), "7".to_string()]);
        g.row(["failed".to_string(), "12,345".to_string()]);
        assert_eq!(
            lines(&g, None),
            [
                "  status      count",
                "  completed       7",
                "  failed     12,345"
            ]
        );
    }

    #[test]
    fn fits_a_width_by_shortening_ids_then_leaving_out_optional_columns() {
        let mut g = Grid::default().optional(&[3, 2]);
        g.row(["assistant", "steps", "cached", "reasoning", "total"].map(String::from));
        g.row(
            [
                "asst_UuUX0rGMo9lJCGuwAOKYt1Ls",
                "480",
                "1,234,567",
                "7,654,321",
                "2,147,136",
            ]
            .map(String::from),
        );
        let wide = lines(&g, None);
        assert!(wide[1].contains("asst_UuUX0rGMo9lJCGuwAOKYt1Ls"));
        for w in [60, 50, 40] {
            let got = lines(&g, Some(w));
            for l in &got {
                assert!(l.width() <= w, "{w}: {l:?} is {} wide", l.width());
            }
            assert!(got[1].starts_with("  asst_Uu"), "{got:?}");
            assert!(got[1].contains('…') || got[1].contains("Yt1Ls"));
        }
        let narrow = lines(&g, Some(40));
        assert!(
            narrow[2].contains("not shown here: cached, reasoning"),
            "{narrow:?}"
        );
        assert!(!narrow[0].contains("reasoning") && !narrow[0].contains("cached"));
    }

    #[test]
    fn a_message_column_gives_way_first_and_is_cut_at_its_end() {
        let mut g = Grid::with_text_from(1).flexible(2).fixed(&[0]);
        g.row(
            [
                "2024-01-01T03:32:36Z",
                "step_yP6B88Z3Epzn1eLCTGikynkd",
                "server_error: Sorry, something went wrong.",
            ]
            .map(String::from),
        );
        let got = lines(&g, Some(80));
        assert!(got[0].width() <= 80, "{got:?}");
        assert!(
            got[0].contains("2024-01-01T03:32:36Z  step_yP6B88Z3Epzn1eLCTGikynkd  server_error"),
            "{got:?}"
        );
        assert!(got[0].ends_with('…'));
        assert_eq!(cut_end("abcdef", 4), "abc…");
    }

    #[test]
    fn shortens_in_the_middle() {
        assert_eq!(
            shorten("asst_UuUX0rGMo9lJCGuwAOKYt1Ls", 14),
            "asst_Uu…KYt1Ls"
        );
        assert_eq!(shorten("short", 14), "short");
        assert_eq!(shorten("ééééééééé", 5), "éé…éé");
    }
}
