//! Price tables: the bundled OpenAI list prices (`prices.json`, dated, with a source for
//! each entry) and LiteLLM's `model_prices_and_context_window.json` read over them.
//!
//! Prices are kept as whole picodollars per token. The bundled table writes them as
//! decimal strings in dollars per million tokens and is read digit by digit (exact);
//! LiteLLM writes floats in dollars per token (`2.5e-06`), which are rounded to the
//! nearest picodollar: every list price has at most 12 decimals in dollars per token, and
//! an f64 holds those to far better than half a picodollar.

use jiff::civil::Date;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The bundled table.
pub const BUNDLED: &str = include_str!("prices.json");

/// What a model's tokens cost, in picodollars per token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    /// An uncached prompt token.
    pub input: u128,
    /// A cached prompt token; the input price when the model had no caching discount.
    pub cached_input: Option<u128>,
    /// A completion token.
    pub output: u128,
    /// A reasoning token, when the table prices them apart from output.
    pub reasoning: Option<u128>,
}

impl Price {
    /// The Batch API's price: half of every rate. A rate of an odd number of
    /// picodollars per token (none in the bundled table, which is in whole cents per
    /// million) is rounded down to the picodollar.
    pub fn batch(self) -> Price {
        Price {
            input: self.input / 2,
            cached_input: self.cached_input.map(|c| c / 2),
            output: self.output / 2,
            reasoning: self.reasoning.map(|r| r / 2),
        }
    }
}

/// A price and when it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dated {
    /// From this instant (Unix seconds; `None`: always), until the next entry's.
    pub from: Option<i64>,
    /// The price.
    pub price: Price,
    /// Where it comes from.
    pub source: String,
}

/// Prices by model name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Each model's prices, oldest first.
    pub models: BTreeMap<String, Vec<Dated>>,
    /// Fees per tool call by kind (`web_search`, `file_search`): picodollars a call from
    /// a date (Unix seconds), oldest first.
    pub fees: BTreeMap<String, Vec<(i64, u128)>>,
    /// What the table is, for reports: the bundled prices as of a date, and any file read
    /// over them.
    pub description: String,
}

/// Why a price table cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {why}")]
pub struct TableError {
    /// The table (a path, or "the bundled price table").
    pub what: String,
    /// What is wrong, and where.
    pub why: String,
}

#[derive(Deserialize)]
struct BundledFile {
    format: String,
    as_of: String,
    models: BTreeMap<String, Vec<BundledEntry>>,
    #[serde(default)]
    tool_fees: BTreeMap<String, Vec<BundledFee>>,
}

/// A fee per tool call: dollars per thousand calls, from a date.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BundledFee {
    from: String,
    per_1k_calls: String,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BundledEntry {
    from: Option<String>,
    input: Option<String>,
    cached_input: Option<String>,
    output: Option<String>,
    reasoning: Option<String>,
    source: Option<String>,
    same_as: Option<String>,
}

/// `"2.50"` dollars per million tokens as picodollars per token (`2_500_000`): at most
/// six decimals, so the result is exact.
pub fn per_million(s: &str) -> Result<u128, String> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(frac) || frac.len() > 6 || whole.len() > 12 {
        return Err(format!(
            "{s:?} is not a price in dollars per million tokens (digits, at most 6 decimals)"
        ));
    }
    let w: u128 = whole.parse().map_err(|_| format!("{s:?}"))?;
    let f = frac.parse::<u128>().map_err(|_| format!("{s:?}"))? * 10u128.pow(6 - frac.len() as u32);
    Ok(w * 1_000_000 + f)
}

/// Dollars per token as a float (LiteLLM's unit) → picodollars per token.
pub fn per_token(v: f64) -> Result<u128, String> {
    // A dollar per token is a thousand times the dearest list price there has been.
    if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
        return Err(format!("{v} is not a price in dollars per token (0 to 1)"));
    }
    Ok((v * 1e12).round() as u128)
}

fn day(s: &str) -> Result<i64, String> {
    let d: Date = s
        .parse()
        .map_err(|e| format!("{s:?} is not a date (YYYY-MM-DD): {e}"))?;
    let t = d
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|e| format!("{s:?}: {e}"))?;
    Ok(t.timestamp().as_second())
}

impl Table {
    /// The bundled table (read once per process).
    pub fn bundled() -> Table {
        static TABLE: std::sync::OnceLock<Table> = std::sync::OnceLock::new();
        TABLE
            .get_or_init(|| {
                // Checked by a test, so this cannot fail in a build that passed them.
                Table::parse_bundled(BUNDLED).unwrap_or_else(|e| Table {
                    models: BTreeMap::new(),
                    fees: BTreeMap::new(),
                    description: format!("no prices (the bundled table is damaged: {e})"),
                })
            })
            .clone()
    }

    /// Reads a table in the bundled layout.
    pub fn parse_bundled(text: &str) -> Result<Table, TableError> {
        let err = |why: String| TableError {
            what: "the bundled price table".into(),
            why,
        };
        let f: BundledFile = serde_json::from_str(text).map_err(|e| err(e.to_string()))?;
        if f.format != "steplog-prices" {
            return Err(err(format!("format {:?}", f.format)));
        }
        day(&f.as_of).map_err(err)?;
        let mut models = BTreeMap::new();
        for (name, entries) in &f.models {
            if entries.iter().any(|e| e.same_as.is_some()) {
                continue;
            }
            let mut dated: Vec<Dated> = Vec::new();
            for e in entries {
                let at = |why: String| err(format!("{name}: {why}"));
                let price = |v: &Option<String>, field: &str| -> Result<u128, TableError> {
                    let v = v.as_deref().ok_or_else(|| at(format!("no {field}")))?;
                    per_million(v).map_err(at)
                };
                let opt =
                    |v: &Option<String>| v.as_deref().map(per_million).transpose().map_err(at);
                let from =
                    day(e.from.as_deref().ok_or_else(|| at("no from date".into()))?).map_err(at)?;
                if dated.last().is_some_and(|d| d.from >= Some(from)) {
                    return Err(at("entries are not in date order".into()));
                }
                let source = e.source.clone().filter(|s| s.starts_with("https://"));
                dated.push(Dated {
                    from: Some(from),
                    price: Price {
                        input: price(&e.input, "input")?,
                        cached_input: opt(&e.cached_input)?,
                        output: price(&e.output, "output")?,
                        reasoning: opt(&e.reasoning)?,
                    },
                    source: source.ok_or_else(|| at("no https source".into()))?,
                });
            }
            if dated.is_empty() {
                return Err(err(format!("{name}: no prices")));
            }
            models.insert(name.clone(), dated);
        }
        for (name, entries) in &f.models {
            let Some(base) = entries.iter().find_map(|e| e.same_as.as_ref()) else {
                continue;
            };
            let Some(d) = models.get(base).cloned() else {
                return Err(err(format!(
                    "{name}: same_as {base:?}, which has no prices"
                )));
            };
            if entries.len() != 1 {
                return Err(err(format!("{name}: same_as and prices")));
            }
            models.insert(name.clone(), d);
        }
        let mut fees = BTreeMap::new();
        for (kind, entries) in &f.tool_fees {
            let mut dated: Vec<(i64, u128)> = Vec::new();
            for e in entries {
                let at = |why: String| err(format!("tool_fees.{kind}: {why}"));
                let from = day(&e.from).map_err(at)?;
                if dated.last().is_some_and(|d| d.0 >= from) {
                    return Err(at("entries are not in date order".into()));
                }
                if !e.source.starts_with("https://") {
                    return Err(at("no https source".into()));
                }
                // Dollars per thousand calls, as picodollars per million, is picodollars
                // per call over a thousand.
                dated.push((from, per_million(&e.per_1k_calls).map_err(at)? * 1000));
            }
            fees.insert(kind.clone(), dated);
        }
        Ok(Table {
            models,
            fees,
            description: format!("OpenAI list prices as of {} (bundled)", f.as_of),
        })
    }

    /// Reads LiteLLM's `model_prices_and_context_window.json` layout over this table: its
    /// models replace this table's entries of the same name (undated: in force always).
    /// Entries without both an input and an output price per token are skipped (images,
    /// audio, embeddings priced otherwise); unknown fields are ignored.
    pub fn read_litellm(&mut self, path: &str, text: &str) -> Result<usize, TableError> {
        let err = |why: String| TableError {
            what: path.to_string(),
            why,
        };
        let v: Value = serde_json::from_str(text).map_err(|e| err(format!("not JSON: {e}")))?;
        let Value::Object(map) = v else {
            return Err(err("not a JSON object of models".into()));
        };
        let mut read = 0;
        for (name, entry) in &map {
            if name == "sample_spec" {
                continue;
            }
            let Value::Object(e) = entry else {
                continue;
            };
            let field = |k: &str| -> Result<Option<u128>, TableError> {
                match e.get(k) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::Number(n)) => n
                        .as_f64()
                        .ok_or_else(|| err(format!("{name}.{k}: {n}")))
                        .and_then(|f| per_token(f).map_err(|w| err(format!("{name}.{k}: {w}"))))
                        .map(Some),
                    Some(other) => Err(err(format!("{name}.{k} is {other}, not a number"))),
                }
            };
            let (Some(input), Some(output)) = (
                field("input_cost_per_token")?,
                field("output_cost_per_token")?,
            ) else {
                continue;
            };
            let price = Price {
                input,
                cached_input: field("cache_read_input_token_cost")?,
                output,
                reasoning: field("output_cost_per_reasoning_token")?,
            };
            self.models.insert(
                name.clone(),
                vec![Dated {
                    from: None,
                    price,
                    source: path.to_string(),
                }],
            );
            read += 1;
        }
        if read == 0 {
            return Err(err(
                "no model with input_cost_per_token and output_cost_per_token".into(),
            ));
        }
        self.description = format!("{path} ({read} models), over {}", self.description);
        Ok(read)
    }

    /// The fee of one tool call of `kind` made at `at`: `None` before the first dated fee,
    /// or for a kind the table has no fee for.
    pub fn fee(&self, kind: &str, at: i64) -> Option<u128> {
        let entries = self.fees.get(kind)?;
        entries
            .iter()
            .rev()
            .find(|(from, _)| *from <= at)
            .map(|e| e.1)
    }

    /// The price of `model` at `at` (Unix seconds): the entry in force then (the first
    /// one for earlier times), by the exact name or, for a dated snapshot the table lacks
    /// (`gpt-4o-2024-08-06`, `gpt-4-0613`), by its base name — then also that name.
    pub fn price<'a>(&'a self, model: &'a str, at: i64) -> Option<(&'a Dated, Option<&'a str>)> {
        let (entries, base) = self.schedule(model)?;
        Some((in_force(entries, at), base))
    }

    /// Every dated price of `model` (oldest first), and the base model they are listed
    /// under when the table lacks the snapshot; `None` for a model it does not price.
    pub fn schedule<'a>(&'a self, model: &'a str) -> Option<(&'a [Dated], Option<&'a str>)> {
        match self.models.get(model) {
            Some(e) => Some((e, None)),
            None => {
                let base = base_name(model)?;
                Some((self.models.get(base)?, Some(base)))
            }
        }
    }
}

/// The price of a schedule (oldest first, never empty) in force at `at`: the latest
/// from on or before it, else the first.
pub fn in_force(entries: &[Dated], at: i64) -> &Dated {
    let i = entries
        .iter()
        .rposition(|d| d.from.is_none_or(|f| f <= at))
        .unwrap_or(0);
    &entries[i]
}

/// The base name of a dated snapshot: without a `-YYYY-MM-DD` or `-MMDD` suffix.
pub fn base_name(model: &str) -> Option<&str> {
    let b = model.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    if b.len() > 11 {
        let (head, tail) = b.split_at(b.len() - 11);
        if tail[0] == b'-'
            && digits(&tail[1..5])
            && tail[5] == b'-'
            && digits(&tail[6..8])
            && tail[8] == b'-'
            && digits(&tail[9..])
            && !head.is_empty()
        {
            return Some(&model[..head.len()]);
        }
    }
    if b.len() > 5 {
        let (head, tail) = b.split_at(b.len() - 5);
        if tail[0] == b'-' && digits(&tail[1..]) && !head.is_empty() {
            return Some(&model[..head.len()]);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_read_exactly() {
        assert_eq!(per_million("2.50"), Ok(2_500_000));
        assert_eq!(per_million("0.075"), Ok(75_000));
        assert_eq!(per_million("0.000001"), Ok(1));
        assert_eq!(per_million("150"), Ok(150_000_000));
        for bad in ["", ".5", "1.", "1.0000001", "-1", "1e3", "x"] {
            assert!(per_million(bad).is_err(), "{bad}");
        }
        assert_eq!(per_token(2.5e-06), Ok(2_500_000));
        assert_eq!(per_token(7.5e-8), Ok(75_000));
        assert_eq!(per_token(1.1e-6), Ok(1_100_000));
        assert!(
            per_token(f64::NAN).is_err() && per_token(-1e-6).is_err() && per_token(2.0).is_err()
        );
    }

    #[test]
    fn snapshots_fall_back_to_their_base_name() {
        assert_eq!(base_name("gpt-4o-2024-08-06"), Some("gpt-4o"));
        assert_eq!(base_name("gpt-4-0613"), Some("gpt-4"));
        assert_eq!(base_name("gpt-4o"), None);
        assert_eq!(base_name("o1"), None);
        assert_eq!(base_name("gpt-4.1-nano"), None);
        let t = Table::bundled();
        let at = day("2025-01-01").unwrap();
        let (d, base) = t.price("gpt-4o-2099-01-01", at).unwrap();
        assert_eq!((d.price.input, base), (2_500_000, Some("gpt-4o")));
        assert!(t.price("gpt-9", at).is_none());
    }

    #[test]
    fn the_price_in_force_is_the_one_of_the_step_s_date() {
        let t = Table::bundled();
        let o3 = |s: &str| t.price("o3", day(s).unwrap()).unwrap().0.price;
        assert_eq!(o3("2025-05-01").input, 10_000_000);
        assert_eq!(o3("2025-06-09").output, 40_000_000);
        assert_eq!(o3("2025-06-10").input, 2_000_000);
        let mini = |s: &str| t.price("gpt-4o-mini", day(s).unwrap()).unwrap().0.price;
        assert_eq!(mini("2024-09-30").cached_input, None);
        assert_eq!(mini("2024-10-01").cached_input, Some(75_000));
    }

    #[test]
    fn litellm_entries_replace_bundled_ones_and_the_rest_is_skipped() {
        let mut t = Table::bundled();
        let text = r#"{
            "sample_spec": {"input_cost_per_token": 0},
            "gpt-4o": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
                       "cache_read_input_token_cost": 5e-7, "litellm_provider": "openai",
                       "max_tokens": 16384},
            "my-model": {"input_cost_per_token": 3e-6, "output_cost_per_token": 4e-6,
                         "output_cost_per_reasoning_token": 8e-6},
            "dall-e-3": {"output_cost_per_image": 0.04}
        }"#;
        assert_eq!(t.read_litellm("p.json", text).unwrap(), 2);
        let (d, _) = t.price("gpt-4o", 0).unwrap();
        assert_eq!(d.price.input, 1_000_000);
        assert_eq!(d.price.cached_input, Some(500_000));
        assert_eq!(
            t.price("my-model", 0).unwrap().0.price.reasoning,
            Some(8_000_000)
        );
        assert!(t.price("dall-e-3", 0).is_none());
        assert!(t.price("o3", 0).is_some(), "the bundled entries stay");
        for bad in [
            "[]",
            "{}",
            r#"{"m": {"input_cost_per_token": "1", "output_cost_per_token": 1e-6}}"#,
            r#"{"m": {"input_cost_per_token": -1, "output_cost_per_token": 1e-6}}"#,
        ] {
            assert!(Table::bundled().read_litellm("p", bad).is_err(), "{bad}");
        }
    }
}
