//! `steplog prices`, and the pricing flags every report command shares.

use crate::cli::{PriceArgs, PricesArgs, PricesFormat};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use steplog::agg::groups::ModelFlags;
use steplog::cost::{Dated, Pricing, Table};

/// A price file or model list larger than this is refused (LiteLLM's table is ~1 MB).
const MAX_FILE_BYTES: u64 = 64 << 20;

fn read_text(path: &Path, what: &str) -> Result<String> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    if meta.len() > MAX_FILE_BYTES {
        bail!(
            "{what} {} is {} bytes; steplog reads at most {MAX_FILE_BYTES}",
            path.display(),
            meta.len()
        );
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

/// The table: the bundled one, with `prices` read over it.
fn table(prices: Option<&Path>) -> Result<Table> {
    let mut t = Table::bundled();
    if let Some(p) = prices {
        let text = read_text(p, "the price file")?;
        t.read_litellm(&p.display().to_string(), &text)?;
    }
    Ok(t)
}

/// One `ASSISTANT=MODEL`.
fn mapping(s: &str, from: &str) -> Result<(String, String)> {
    match s.split_once('=') {
        Some((a, m)) if !a.trim().is_empty() && !m.trim().is_empty() => {
            Ok((a.trim().to_string(), m.trim().to_string()))
        }
        _ => bail!("--model {from}`{s}` is not ASSISTANT=MODEL"),
    }
}

/// The pricing the flags describe.
pub fn pricing(args: &PriceArgs) -> Result<Pricing> {
    let mut by_assistant = BTreeMap::new();
    let mut add = |a: String, m: String, from: &str| -> Result<()> {
        if let Some(old) = by_assistant.insert(a.clone(), m.clone()) {
            if old != m {
                bail!("--model {from}gives {a} two models: {old} and {m}");
            }
        }
        Ok(())
    };
    for given in &args.models {
        if let Some(file) = given.strip_prefix('@') {
            let text = read_text(Path::new(file), "the model list")?;
            // A byte-order mark (as some editors save) is not part of the first line.
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            for (n, line) in text.lines().enumerate() {
                let line = line.split('#').next().unwrap_or("").trim();
                if line.is_empty() {
                    continue;
                }
                let at = format!("(@{file} line {}) ", n + 1);
                let (a, m) = mapping(line, &at)?;
                add(a, m, &at)?;
            }
        } else {
            let (a, m) = mapping(given, "")?;
            add(a, m, "")?;
        }
    }
    if args
        .default_model
        .as_deref()
        .is_some_and(|m| m.trim().is_empty())
    {
        bail!(
            "--default-model needs a model name (`--default-model gpt-4o`); leave it out for none"
        );
    }
    Ok(Pricing {
        table: table(args.prices.as_deref())?,
        models: ModelFlags {
            by_assistant,
            default: args.default_model.clone(),
        },
    })
}

/// Dollars per million tokens, from picodollars per token.
fn per_million(p: u128) -> String {
    let whole = p / 1_000_000;
    let frac = p % 1_000_000;
    if frac == 0 {
        return format!("{whole}.00");
    }
    let f = format!("{frac:06}");
    let f = f.trim_end_matches('0');
    format!("{whole}.{f:0<2}")
}

fn date(from: Option<i64>) -> String {
    from.map_or_else(
        || "always".to_string(),
        |t| steplog::report::format_utc(t)[..10].to_string(),
    )
}

/// `steplog prices`.
pub fn run(args: &PricesArgs) -> Result<()> {
    let table = table(args.prices.as_deref())?;
    let at = match &args.at {
        None => None,
        Some(s) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            Some(steplog::report::parse_instant(s, now)?)
        }
    };
    let mut rows: Vec<(String, Vec<&Dated>)> = Vec::new();
    let mut note = None;
    let pick = |entries: &'_ [Dated]| -> Vec<usize> {
        match at {
            None => (0..entries.len()).collect(),
            Some(t) => {
                let i = entries
                    .iter()
                    .rposition(|d| d.from.is_none_or(|f| f <= t))
                    .unwrap_or(0);
                vec![i]
            }
        }
    };
    match &args.model {
        Some(m) => {
            let Some((_, base)) = table.price(m, at.unwrap_or(0)) else {
                bail!(
                    "{m} is not in the price table ({}); `steplog prices` lists it, and --prices \
                     FILE adds models",
                    table.description
                );
            };
            let name = base.unwrap_or(m);
            if let Some(b) = base {
                note = Some(format!(
                    "{m} is priced as {b}: the table has no entry for the snapshot"
                ));
            }
            let entries = &table.models[name];
            rows.push((
                name.to_string(),
                pick(entries).into_iter().map(|i| &entries[i]).collect(),
            ));
        }
        None => {
            for (name, entries) in &table.models {
                rows.push((
                    name.clone(),
                    pick(entries).into_iter().map(|i| &entries[i]).collect(),
                ));
            }
        }
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        PricesFormat::Json => {
            let models: serde_json::Map<String, serde_json::Value> = rows
                .iter()
                .map(|(name, entries)| {
                    let list = entries
                        .iter()
                        .map(|d| {
                            let p = &d.price;
                            serde_json::json!({
                                "from": d.from.map(|t| steplog::report::format_utc(t)[..10].to_string()),
                                "input": per_million(p.input),
                                "cached_input": p.cached_input.map(per_million),
                                "output": per_million(p.output),
                                "reasoning": p.reasoning.map(per_million),
                                "source": d.source,
                            })
                        })
                        .collect();
                    (name.clone(), serde_json::Value::Array(list))
                })
                .collect();
            let v = serde_json::json!({
                "table": table.description,
                "unit": "USD per 1M tokens",
                "note": note,
                "models": models,
            });
            serde_json::to_writer_pretty(&mut out, &v)?;
            writeln!(out)?;
        }
        PricesFormat::Table => {
            writeln!(out, "{} — USD per 1M tokens", table.description)?;
            if let Some(n) = &note {
                writeln!(out, "{n}")?;
            }
            // Sources are URLs: left out whole (-f json has them), never cut, when narrow.
            let mut t = steplog::report::Grid::with_text_from(6)
                .optional(&[6, 5])
                .fixed(&[0, 6]);
            t.row(
                [
                    "model",
                    "from",
                    "input",
                    "cached",
                    "output",
                    "reasoning",
                    "source",
                ]
                .map(String::from),
            );
            for (name, entries) in &rows {
                for d in entries {
                    let p = &d.price;
                    t.row([
                        steplog::report::visible(name),
                        date(d.from),
                        per_million(p.input),
                        p.cached_input.map_or_else(|| "–".into(), per_million),
                        per_million(p.output),
                        p.reasoning.map_or_else(|| "as output".into(), per_million),
                        steplog::report::visible(&d.source),
                    ]);
                }
            }
            t.write(&mut out, "", super::deliver::table_width())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_print_as_dollars_per_million() {
        assert_eq!(per_million(2_500_000), "2.50");
        assert_eq!(per_million(75_000), "0.075");
        assert_eq!(per_million(150_000_000), "150.00");
        assert_eq!(per_million(1), "0.000001");
    }
}
