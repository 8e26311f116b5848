//! A seeded generator of realistic run-step JSONL, for tests, benchmarks and peer
//! comparisons (`steplog generate`).
//!
//! Lines look like real list-steps exports (see `testdata/samples/`): every status, both
//! step types, all four tool kinds (with kilobyte code-interpreter inputs and logs holding
//! `\n`, `\r\n` and unicode escapes), the known error codes, `usage` with and without token
//! details, occasional `total_tokens` mismatches, `expires_at` on stream-style records and
//! `expired_at` on some expired ones, and one line in ten with its keys re-serialised in
//! alphabetical order. The same seed gives the same bytes on every platform.

use std::io::{self, Write};

/// SplitMix64: tiny, fast, and good enough for synthetic data.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() >> 32) * n) >> 32
    }

    /// True with probability `p` per mille.
    fn permille(&mut self, p: u64) -> bool {
        self.below(1000) < p
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// Picks from `(weight, value)` pairs.
    fn weighted<T: Copy>(&mut self, xs: &[(u64, T)]) -> T {
        let total: u64 = xs.iter().map(|x| x.0).sum();
        let mut r = self.below(total);
        for &(w, v) in xs {
            if r < w {
                return v;
            }
            r -= w;
        }
        xs[xs.len() - 1].1
    }

    /// A heavy-tailed duration in seconds: 0 is common, minutes are rare.
    fn duration(&mut self, scale: u64) -> i64 {
        let bucket = self.weighted(&[(15, 0u64), (45, 4), (25, 20), (10, 90), (4, 400), (1, 3000)]);
        (self.below(bucket * scale / 10 + 1)) as i64
    }

    fn id(&mut self, prefix: &str, out: &mut String) {
        const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        out.push_str(prefix);
        for _ in 0..24 {
            out.push(ALNUM[self.below(ALNUM.len() as u64) as usize] as char);
        }
    }
}

const FUNCTIONS: &[&str] = &[
    "get_current_weather",
    "search_orders",
    "lookup_customer",
    "create_ticket",
    "send_email",
    "get_stock_price",
    "translate_text",
    "schedule_meeting",
    "query_database",
    "fetch_url",
    "calculate_shipping",
    "résumé_parser",
];

/// `(code, message)` of failed steps, JSON-escaped.
const ERRORS: &[(u64, &str, &str)] = &[
    (40, "server_error", "Sorry, something went wrong."),
    (12, "server_error", "The server had an error while processing your request. Sorry about that!"),
    (8, "server_error", "Tool output timed out after 600 seconds."),
    (20, "rate_limit_exceeded", "Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29950."),
    (10, "rate_limit_exceeded", "You exceeded your current quota, please check your plan and billing details."),
    (5, "invalid_prompt", "Invalid prompt: your prompt was flagged as potentially violating our usage policy."),
    (3, "server_error", "Function call arguments were not valid JSON: unexpected \\\"}\\\" at position 41"),
    (2, "server_error", "L'outil a renvoy\\u00e9 une erreur \\u2014 r\\u00e9essayez."),
];

const CODE_LINES: &[&str] = &[
    "import pandas as pd",
    "import numpy as np",
    "import matplotlib.pyplot as plt",
    "df = pd.read_csv('/mnt/data/file-7Qx2.csv')",
    "df.describe()",
    "print(df.head(10))",
    "x = np.linspace(0, 10, 200)",
    "plt.plot(x, np.sin(x), label=\\\"sin\\\")",
    "plt.savefig('/mnt/data/plot.png')",
    "result = df.groupby('region')['revenue'].sum().sort_values(ascending=False)",
    "print(f\\\"total: {result.sum():,.2f} \\u20ac\\\")",
    "for i, row in df.iterrows():\\n    if row['status'] == 'failed':\\n        print(i, row['reason'])",
];

const LOG_LINES: &[&str] = &[
    "       revenue     units\\r\\ncount  120.000  120.0000\\r\\nmean   5231.77   41.2250",
    "region\\nnorth    182233.12\\nsouth    120911.40\\nwest      99120.00",
    "Traceback (most recent call last):\\n  File \\\"<stdin>\\\", line 3, in <module>\\nKeyError: 'reason'",
    "total: 402,264.52 \\u20ac",
    "0 timeout\\n17 upstream 502\\n33 invalid input \\u2014 retry",
];

const SNIPPETS: &[&str] = &[
    "Returns are accepted within 30 days of delivery. Items must be unused and in original packaging.",
    "The Model X200 supports Wi\\u2011Fi 6E and Bluetooth 5.3; battery life is rated at 14 hours.",
    "Section 4.2: All invoices are payable within 45 days. Late payments accrue 1.5% monthly interest.",
    "Onboarding checklist:\\n1. Create accounts\\n2. Ship laptop\\n3. Schedule intro meetings",
];

/// Generates lines from a seed.
#[derive(Debug, Clone)]
pub struct Generator {
    rng: Rng,
    clock: i64,
    assistants: Vec<String>,
    line: String,
    members: Vec<(&'static str, String)>,
    /// Event-stream mode: each step as an `in_progress` snapshot, a delta, then its
    /// final snapshot.
    stream: bool,
    /// Lines of the current step still to write (event-stream mode).
    pending: Vec<String>,
}

impl Generator {
    /// A generator; the same seed gives the same lines.
    pub fn new(seed: u64) -> Generator {
        let mut rng = Rng(seed ^ 0x0005_EED0_F57E_9109);
        let assistants = (0..40)
            .map(|_| {
                let mut s = String::new();
                rng.id("asst_", &mut s);
                s
            })
            .collect();
        Generator {
            rng,
            clock: 1_704_067_200,
            assistants,
            line: String::new(),
            members: Vec::new(),
            stream: false,
            pending: Vec::new(),
        }
    }

    /// An event-stream log instead of an export: every step appears as an `in_progress`
    /// snapshot, a `thread.run.step.delta`, and its final snapshot, in that order.
    pub fn streaming(mut self) -> Generator {
        self.stream = true;
        self
    }

    /// Appends one line (with its `\n`) to `out`.
    pub fn line(&mut self, out: &mut Vec<u8>) {
        if !self.stream {
            self.build();
            out.extend_from_slice(self.line.as_bytes());
        } else {
            if self.pending.is_empty() {
                self.build();
                self.pending.push(self.line.clone());
                self.pending.push(self.delta());
                self.pending.push(self.in_progress());
            }
            let line = self.pending.pop().unwrap_or_default();
            out.extend_from_slice(line.as_bytes());
        }
        out.push(b'\n');
    }

    /// The current step as a `thread.run.step.delta` event.
    fn delta(&self) -> String {
        let id = self.member("id");
        let details = self.member("step_details");
        format!(
            r#"{{"id":{id},"object":"thread.run.step.delta","delta":{{"step_details":{details}}}}}"#
        )
    }

    /// The current step before it finished.
    fn in_progress(&self) -> String {
        let mut line = String::from("{");
        for (i, (k, v)) in self.members.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            let v = match *k {
                "status" => "\"in_progress\"",
                "cancelled_at" | "completed_at" | "expired_at" | "failed_at" | "last_error"
                | "usage" => "null",
                _ => v.as_str(),
            };
            line.push('"');
            line.push_str(k);
            line.push_str("\":");
            line.push_str(v);
        }
        line.push('}');
        line
    }

    fn member(&self, key: &str) -> &str {
        self.members
            .iter()
            .find(|m| m.0 == key)
            .map_or("null", |m| m.1.as_str())
    }

    /// Writes `lines` lines; returns the bytes written.
    pub fn write<W: Write>(&mut self, lines: u64, out: W) -> io::Result<u64> {
        let mut out = io::BufWriter::with_capacity(1 << 20, out);
        let mut buf = Vec::with_capacity(4096);
        let mut bytes = 0;
        for _ in 0..lines {
            buf.clear();
            self.line(&mut buf);
            bytes += buf.len() as u64;
            out.write_all(&buf)?;
        }
        out.flush()?;
        Ok(bytes)
    }

    fn push(&mut self, key: &'static str, value: String) {
        self.members.push((key, value));
    }

    fn str_value(s: &str) -> String {
        format!("\"{s}\"")
    }

    fn build(&mut self) {
        let r = &mut self.rng;
        // Steps arrive a few seconds apart, occasionally out of order.
        self.clock += r.below(12) as i64;
        let created = self.clock
            - if r.permille(20) {
                r.below(3600) as i64
            } else {
                0
            };
        let status = r.weighted(&[
            (860, "completed"),
            (50, "failed"),
            (30, "cancelled"),
            (20, "expired"),
            (40, "in_progress"),
        ]);
        let tool_step = r.permille(550);
        let assistant = self.assistants[(r.below(40) * r.below(40) / 40) as usize].clone();
        let stream_style = r.permille(300);
        let expires = created + 600;

        let mut s = String::new();
        r.id("step_", &mut s);
        let id = s;
        let (mut run, mut thread) = (String::new(), String::new());
        r.id("run_", &mut run);
        r.id("thread_", &mut thread);

        // Terminal timestamps.
        let dur = match status {
            "completed" => r.duration(10),
            "failed" => r.duration(5),
            "cancelled" => r.duration(8),
            _ => 0,
        };
        let at = |st: &str| {
            if status == st {
                (created + dur).to_string()
            } else {
                "null".to_string()
            }
        };
        let (completed_at, failed_at, cancelled_at) =
            (at("completed"), at("failed"), at("cancelled"));
        let expired_at = if status == "expired" && r.permille(300) {
            (expires + r.below(5) as i64).to_string()
        } else {
            "null".into()
        };
        // A few steps carry a terminal time before their creation (clock skew).
        let completed_at = if status == "completed" && r.permille(3) {
            (created - 5).to_string()
        } else {
            completed_at
        };

        let last_error = if status == "failed" {
            let (code, msg) = {
                let e = r.weighted(&ERRORS.iter().map(|e| (e.0, (e.1, e.2))).collect::<Vec<_>>());
                e
            };
            format!("{{\"code\":\"{code}\",\"message\":\"{msg}\"}}")
        } else {
            "null".to_string()
        };

        let details = if tool_step {
            let n = 1 + r.weighted(&[(70, 0u64), (22, 1), (8, 2)]);
            let calls: Vec<String> = (0..n).map(|_| self.tool_call()).collect();
            format!(
                "{{\"type\":\"tool_calls\",\"tool_calls\":[{}]}}",
                calls.join(",")
            )
        } else {
            let mut m = String::new();
            self.rng.id("msg_", &mut m);
            format!(
                "{{\"type\":\"message_creation\",\"message_creation\":{{\"message_id\":\"{m}\"}}}}"
            )
        };
        let r = &mut self.rng;

        let usage = match status {
            "in_progress" => "null".to_string(),
            "cancelled" | "expired" if r.permille(500) => "null".to_string(),
            _ => {
                let prompt = if status == "failed" && r.permille(400) {
                    0
                } else {
                    50 + r.below(8000)
                };
                let completion = r.below(if tool_step { 300 } else { 1200 });
                let total = prompt + completion + u64::from(r.permille(1));
                if r.permille(600) {
                    let cached = if r.permille(300) {
                        r.below(prompt + 1)
                    } else {
                        0
                    };
                    let reasoning = if r.permille(200) {
                        r.below(completion + 1)
                    } else {
                        0
                    };
                    format!(
                        "{{\"prompt_tokens\":{prompt},\"completion_tokens\":{completion},\"total_tokens\":{total},\"prompt_token_details\":{{\"cached_tokens\":{cached}}},\"completion_tokens_details\":{{\"reasoning_tokens\":{reasoning}}}}}"
                    )
                } else {
                    format!("{{\"prompt_tokens\":{prompt},\"completion_tokens\":{completion},\"total_tokens\":{total}}}")
                }
            }
        };

        let step_type = if tool_step {
            "tool_calls"
        } else {
            "message_creation"
        };
        let alphabetical = r.permille(100);
        let expires_key = if stream_style || status == "expired" {
            expires.to_string()
        } else {
            "null".into()
        };
        self.members.clear();
        self.push("id", Self::str_value(&id));
        self.push("object", Self::str_value("thread.run.step"));
        self.push("created_at", created.to_string());
        self.push("run_id", Self::str_value(&run));
        self.push("assistant_id", Self::str_value(&assistant));
        self.push("thread_id", Self::str_value(&thread));
        self.push("type", Self::str_value(step_type));
        self.push("status", Self::str_value(status));
        self.push("cancelled_at", cancelled_at);
        self.push("completed_at", completed_at);
        if expired_at != "null" || !stream_style {
            self.push("expired_at", expired_at);
        }
        self.push("expires_at", expires_key);
        self.push("failed_at", failed_at);
        self.push("last_error", last_error);
        self.push("step_details", details);
        self.push("usage", usage);
        if self.rng.permille(50) {
            self.push("metadata", "{}".to_string());
        }
        if alphabetical {
            self.members.sort_by_key(|m| m.0);
        }
        self.line.clear();
        self.line.push('{');
        for (i, (k, v)) in self.members.iter().enumerate() {
            if i > 0 {
                self.line.push(',');
            }
            self.line.push('"');
            self.line.push_str(k);
            self.line.push_str("\":");
            self.line.push_str(v);
        }
        self.line.push('}');
    }

    fn tool_call(&mut self) -> String {
        let r = &mut self.rng;
        let mut call = String::new();
        r.id("call_", &mut call);
        match r.weighted(&[(45, 0u8), (30, 1), (22, 2), (3, 3)]) {
            0 => {
                let name = r.pick(FUNCTIONS);
                let output = if r.permille(900) {
                    format!("\"{{\\\"ok\\\":true,\\\"items\\\":{}}}\"", r.below(50))
                } else {
                    "null".to_string()
                };
                format!(
                    "{{\"id\":\"{call}\",\"type\":\"function\",\"function\":{{\"name\":\"{name}\",\"arguments\":\"{{\\\"query\\\":\\\"order {}\\\",\\\"limit\\\":{}}}\",\"output\":{output}}}}}",
                    r.below(100_000),
                    r.below(20)
                )
            }
            1 => {
                let lines = 2 + r.below(14);
                let input: Vec<&str> = (0..lines).map(|_| *r.pick(CODE_LINES)).collect();
                let output = if r.permille(150) {
                    let mut f = String::new();
                    r.id("file-", &mut f);
                    format!("{{\"type\":\"image\",\"image\":{{\"file_id\":\"{f}\"}}}}")
                } else {
                    let logs: Vec<&str> = (0..1 + r.below(6)).map(|_| *r.pick(LOG_LINES)).collect();
                    format!("{{\"type\":\"logs\",\"logs\":\"{}\"}}", logs.join("\\n"))
                };
                format!(
                    "{{\"id\":\"{call}\",\"type\":\"code_interpreter\",\"code_interpreter\":{{\"input\":\"{}\",\"outputs\":[{output}]}}}}",
                    input.join("\\n")
                )
            }
            2 => {
                if r.permille(200) {
                    return format!(
                        "{{\"id\":\"{call}\",\"type\":\"file_search\",\"file_search\":{{}}}}"
                    );
                }
                let results: Vec<String> = (0..r.below(4))
                    .map(|i| {
                        let mut f = String::new();
                        r.id("file-", &mut f);
                        format!(
                            "{{\"file_id\":\"{f}\",\"file_name\":\"policy_{i}.pdf\",\"score\":0.{},\"attributes\":{{}},\"content\":[{{\"type\":\"text\",\"text\":\"{}\"}}]}}",
                            100 + r.below(899),
                            r.pick(SNIPPETS)
                        )
                    })
                    .collect();
                format!(
                    "{{\"id\":\"{call}\",\"type\":\"file_search\",\"file_search\":{{\"ranking_options\":{{\"ranker\":\"default_2024_08_21\",\"score_threshold\":0.0}},\"results\":[{}]}}}}",
                    results.join(",")
                )
            }
            _ => format!("{{\"id\":\"{call}\",\"type\":\"retrieval\",\"retrieval\":{{}}}}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_valid_json() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        Generator::new(7).write(500, &mut a).unwrap();
        Generator::new(7).write(500, &mut b).unwrap();
        assert_eq!(a, b);
        let mut c = Vec::new();
        Generator::new(8).write(500, &mut c).unwrap();
        assert_ne!(a, c);
        let text = String::from_utf8(a).unwrap();
        let mut statuses = std::collections::BTreeSet::new();
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect(line);
            statuses.insert(v["status"].as_str().unwrap().to_string());
        }
        assert_eq!(statuses.len(), 5, "{statuses:?}");
    }
}
