//! The page's charts, as inline SVG: horizontal bars for breakdowns, stacked columns over
//! time, and the duration histograms. Colours of text and grid lines come from the page's
//! CSS (so dark mode recolours them); axes get round ticks, and as many bucket labels as
//! fit without touching.

use super::{esc, num};
use std::fmt::Write as _;

pub(super) const PALETTE: [&str; 8] = [
    "#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5",
];

pub(super) fn status_color(status: &str) -> &'static str {
    match status {
        "completed" => "#3ca951",
        "failed" => "#e8453c",
        "cancelled" => "#9c9c9c",
        "expired" => "#efb118",
        "in_progress" => "#4269d0",
        _ => "#a463f2",
    }
}

/// Width of a character of axis text (11px system-ui), rounded up: enough to keep labels
/// apart whatever font the browser picks.
const AXIS_CHAR_W: f64 = 7.0;

/// Characters of a legend entry's label (12px text, about 7.5px a character): an entry
/// is 210 wide, less 18 for the swatch and 8 apart.
const LEGEND_CHARS: usize = 24;

/// `label` in at most `most` characters: whole if it fits, else its start and its end
/// around an ellipsis (names that share a long prefix stay apart); the whole label is the
/// element's tooltip.
fn fit(label: &str, most: usize) -> String {
    let n = label.chars().count();
    if n <= most {
        return label.to_string();
    }
    let head = (most - 1) / 2;
    let tail = most - 1 - head;
    let start: String = label.chars().take(head).collect();
    let end: String = label.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

/// Compact axis numbers: 1.5k, 20k, 3.4M (no `.0`).
fn short(v: u64) -> String {
    let scaled = |d: f64, unit: &str| {
        let x = v as f64 / d;
        let t = format!("{x:.1}");
        format!("{}{unit}", t.strip_suffix(".0").unwrap_or(&t))
    };
    match v {
        v if v >= 1_000_000_000 => scaled(1e9, "G"),
        v if v >= 1_000_000 => scaled(1e6, "M"),
        v if v >= 1_000 => scaled(1e3, "k"),
        v => v.to_string(),
    }
}

/// Round ticks for counts from 0 to `max`: a step of 1, 2 or 5 × 10ᵏ (never a fraction
/// of one) giving at most `most` intervals; returns the axis top and the step.
pub(super) fn ticks(max: u64, most: u64) -> (u64, u64) {
    let max = max.max(1);
    let mut decade = 1u64;
    loop {
        for m in [1, 2, 5] {
            let step = decade.saturating_mul(m);
            let n = max.div_ceil(step);
            if n <= most || step == u64::MAX {
                return (n.saturating_mul(step), step);
            }
        }
        decade = decade.saturating_mul(10);
    }
}

/// Horizontal bars: one labelled bar per entry.
pub(super) fn hbars(title: &str, entries: &[(String, u64, &str)]) -> String {
    let max = entries.iter().map(|e| e.1).max().unwrap_or(0).max(1) as f64;
    let longest = entries
        .iter()
        .map(|e| e.0.chars().count())
        .max()
        .unwrap_or(0);
    let label_w = (longest as f64 * AXIS_CHAR_W + 16.0).clamp(80.0, 320.0);
    let (bar_w, row_h) = (420.0, 26.0);
    let h = 20.0 + row_h * entries.len() as f64;
    let mut s = format!(
        r#"<figure><figcaption>{}</figcaption><svg role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}">"#,
        esc(title),
        w = label_w + bar_w + 110.0,
        h = h
    );
    for (i, (label, v, color)) in entries.iter().enumerate() {
        let y = 8.0 + row_h * i as f64;
        let w = (*v as f64 / max * bar_w).max(if *v > 0 { 1.0 } else { 0.0 });
        let shown = fit(label, 44);
        let _ = write!(
            s,
            r#"<text x="{lx}" y="{ty}" text-anchor="end">{shown}<title>{label}</title></text><rect x="{x}" y="{y}" width="{w:.1}" height="18" fill="{color}"><title>{label}: {n}</title></rect><text x="{vx:.1}" y="{ty}">{n}</text>"#,
            lx = label_w - 8.0,
            ty = y + 14.0,
            shown = esc(&shown),
            label = esc(label),
            x = label_w,
            vx = label_w + w + 6.0,
            n = num(*v),
        );
    }
    if entries.is_empty() {
        s.push_str(r#"<text x="8" y="20">none</text>"#);
    }
    s.push_str("</svg></figure>");
    s
}

/// Vertical (stacked) bars over buckets: one column per bucket, one layer per series.
pub(super) fn columns(
    title: &str,
    labels: &[String],
    layers: &[(String, Vec<u64>, &str)],
    unit: &str,
) -> String {
    let n = labels.len().max(1);
    let totals: Vec<u64> = (0..labels.len())
        .map(|i| layers.iter().map(|l| l.1[i]).sum())
        .collect();
    let (top_value, step) = ticks(totals.iter().copied().max().unwrap_or(0), 5);
    let max = top_value as f64;
    let (left, top, plot_w, plot_h) = (60.0, 16.0, 640.0, 220.0);
    let col_w = plot_w / n as f64;
    let legend_h = if layers.len() > 1 {
        22.0 * layers.len().div_ceil(3) as f64
    } else {
        0.0
    };
    let h = top + plot_h + 44.0 + legend_h;
    let mut s = format!(
        r#"<figure><figcaption>{}</figcaption><svg role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}">"#,
        esc(title),
        w = left + plot_w + 20.0,
    );
    let mut v = 0;
    while v <= top_value {
        let y = top + plot_h - plot_h * v as f64 / max;
        let _ = write!(
            s,
            r#"<line x1="{left}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" class="rule"/><text x="{tx}" y="{ty:.1}" text-anchor="end" class="axis">{v}</text>"#,
            x2 = left + plot_w,
            tx = left - 6.0,
            ty = y + 4.0,
            v = short(v),
        );
        match v.checked_add(step) {
            Some(next) => v = next,
            None => break,
        }
    }
    // As many labels as fit: every `every`-th bucket, so that neighbours stay apart.
    let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let every = ((widest as f64 * AXIS_CHAR_W + 10.0) / col_w)
        .ceil()
        .max(1.0) as usize;
    for (i, label) in labels.iter().enumerate() {
        let x = left + col_w * i as f64;
        let mut y = top + plot_h;
        for (name, values, color) in layers {
            let v = values[i];
            if v == 0 {
                continue;
            }
            let hgt = v as f64 / max * plot_h;
            y -= hgt;
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{hgt:.1}" fill="{color}"><title>{label} {name}: {v} {unit}</title></rect>"#,
                w = (col_w * 0.8).max(1.0),
                label = esc(label),
                name = esc(name),
                v = num(v),
            );
        }
        if i % every == 0 {
            let _ = write!(
                s,
                r#"<text x="{tx:.1}" y="{ty}" class="axis x" text-anchor="middle">{l}</text>"#,
                tx = x + col_w * 0.4,
                // Below the lowest y label's box, not beside it.
                ty = top + plot_h + 22.0,
                l = esc(label),
            );
        }
    }
    if layers.len() > 1 {
        for (k, (name, _, color)) in layers.iter().enumerate() {
            let x = left + 210.0 * (k % 3) as f64;
            let y = top + plot_h + 34.0 + 22.0 * (k / 3) as f64;
            let _ = write!(
                s,
                r#"<rect x="{x}" y="{y}" width="12" height="12" fill="{color}"/><text x="{tx}" y="{ty}">{n}<title>{full}</title></text>"#,
                tx = x + 18.0,
                ty = y + 11.0,
                // An entry is 210 wide: its label in what is left after the swatch.
                n = esc(&fit(name, LEGEND_CHARS)),
                full = esc(name),
            );
        }
    }
    if labels.is_empty() {
        let _ = write!(
            s,
            r#"<text x="{left}" y="{y}">no data</text>"#,
            y = top + 20.0
        );
    }
    s.push_str("</svg></figure>");
    s
}

/// A histogram bucket's upper bound as the table writes it: `≤2s`, `≤5m`, `>1h`.
fn bucket_label(le: Option<u64>, previous: Option<u64>) -> String {
    let text = |s: u64| match s {
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    };
    match (le, previous) {
        (Some(le), _) => format!("≤{}", text(le)),
        (None, Some(p)) => format!(">{}", text(p)),
        (None, None) => "longer".to_string(),
    }
}

/// The duration histogram of each terminal status that has steps, side by side on shared
/// buckets.
pub(super) fn duration_chart(d: &super::super::Durations, say: impl Fn(&str) -> String) -> String {
    let statuses = [
        ("completed", &d.completed),
        ("failed", &d.failed),
        ("cancelled", &d.cancelled),
        ("expired", &d.expired),
    ];
    let bounds: Vec<Option<u64>> = d.completed.histogram.iter().map(|b| b.le).collect();
    let labels: Vec<String> = bounds
        .iter()
        .enumerate()
        .map(|(i, le)| bucket_label(*le, i.checked_sub(1).and_then(|p| bounds[p])))
        .collect();
    let mut s = say(
        r#"<figure><figcaption>Duration distribution per terminal status (steps per bucket; each status scaled to its own largest bucket)</figcaption><div class="grid">"#,
    );
    let mut shown = 0;
    for (name, ds) in statuses.into_iter().filter(|(_, ds)| ds.count > 0) {
        let values: Vec<u64> = ds.histogram.iter().map(|b| b.count).collect();
        let title = say(&format!(
            "{name}: {} steps, p50 {}, p99 {}",
            num(ds.count),
            ds.p50.map_or_else(|| "–".into(), |v| format!("{v}s")),
            ds.p99.map_or_else(|| "–".into(), |v| format!("{v}s"))
        ));
        s.push_str(&columns(
            &title,
            &labels,
            &[(name.to_string(), values, status_color(name))],
            &say("steps"),
        ));
        shown += 1;
    }
    if shown == 0 {
        s.push_str(&say("<p>No step reached a terminal status.</p>"));
    }
    s.push_str("</div></figure>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_labels_keep_their_start_and_end() {
        assert_eq!(fit("lookup", 10), "lookup");
        assert_eq!(
            fit("com.example.tools.lookup_customer", 15),
            "com.exa…ustomer"
        );
        assert_eq!(
            fit("com.example.tools.lookup_customer", 15).chars().count(),
            15
        );
        assert_ne!(
            fit("com.example.tools.lookup_customer", 15),
            fit("com.example.tools.create_ticket", 15)
        );
        assert_eq!(fit("ééééééé", 4), "é…éé");
    }

    #[test]
    fn ticks_are_round_and_never_repeat() {
        assert_eq!(ticks(0, 5), (1, 1));
        assert_eq!(ticks(3, 5), (3, 1));
        assert_eq!(ticks(7, 5), (8, 2));
        assert_eq!(ticks(43_600, 5), (50_000, 10_000));
        assert_eq!(ticks(21_800, 5), (25_000, 5_000));
        let (top, step) = ticks(u64::MAX, 5);
        assert!(step > 0 && top >= step);
        for max in 0..2_000u64 {
            let (top, step) = ticks(max, 5);
            assert!(top >= max && top / step <= 5 && top % step == 0, "{max}");
            let lead = step / 10u64.pow(step.ilog10());
            assert!([1, 2, 5].contains(&lead), "{max}: step {step}");
        }
        assert_eq!(short(25_000), "25k");
        assert_eq!(short(1_500), "1.5k");
        assert_eq!(short(2_000_000), "2M");
    }

    #[test]
    fn bucket_labels_read_like_the_table() {
        assert_eq!(bucket_label(Some(0), None), "≤0s");
        assert_eq!(bucket_label(Some(120), Some(60)), "≤2m");
        assert_eq!(bucket_label(Some(3600), Some(1800)), "≤1h");
        assert_eq!(bucket_label(None, Some(3600)), ">1h");
    }
}
