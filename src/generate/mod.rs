//! A seeded generator of realistic run-step JSONL, for tests, benchmarks and peer
//! comparisons (`steplog generate`).
//!
//! The steps have the structure the API gave them: threads of 1 to 6 runs, runs of 1 to 8
//! steps created one after another (each when the one before ended), every step of a run
//! completed but the last, which carries the run's outcome; the steps of a run share its
//! `run_id`, `thread_id` and assistant, and three threads in ten tag their steps with
//! `metadata` (`team`, `env`). Lines look like real list-steps exports (see
//! `testdata/samples/`): every status, both
//! step types, all four tool kinds (with kilobyte code-interpreter inputs and logs holding
//! `\n`, `\r\n` and unicode escapes), the known error codes, `usage` with and without token
//! details, occasional `total_tokens` mismatches, `expires_at` on stream-style records and
//! `expired_at` on some expired ones, and one line in ten with its keys re-serialised in
//! alphabetical order. The same seed gives the same bytes on every platform.
//!
//! With [`Generator::with_runs`] it also writes the `thread.run` object of each run (as a
//! list-runs export holds them): each assistant has a model (the Assistants API's
//! models of early 2024, dated snapshots, and one fine-tune no price table knows), one
//! run in ten overrides it, and one run in twenty has no object (its export was lost), so
//! that costs have every case to price. The runs come from their own random stream: the
//! steps are the same bytes with or without them.

mod content;
mod order;
mod responses;

pub use order::{write_corpus, Order, DEFAULT_IN_FLIGHT};
pub use responses::{write_responses, Responses};

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

/// The thread being written.
#[derive(Debug, Clone, Default)]
struct Thread {
    id: String,
    runs_left: u32,
    /// Index into the assistants.
    assistant: usize,
    /// The `metadata` its steps carry, as JSON.
    metadata: Option<String>,
}

/// The run being written.
#[derive(Debug, Clone, Default)]
struct Run {
    id: String,
    steps_left: u32,
    /// The status of its last step.
    outcome: &'static str,
    /// When its next step starts.
    clock: i64,
    /// Its deadline.
    expires: i64,
}

/// Generates lines from a seed.
#[derive(Debug, Clone)]
pub struct Generator {
    rng: Rng,
    clock: i64,
    assistants: Vec<String>,
    thread: Thread,
    run: Run,
    line: String,
    members: Vec<(&'static str, String)>,
    /// Event-stream mode: each step as an `in_progress` snapshot, a delta, then its
    /// final snapshot.
    stream: bool,
    /// Lines of the current step still to write (event-stream mode).
    pending: Vec<String>,
    /// With runs: their own random stream, each assistant's model, and the run objects
    /// not yet written.
    runs: Option<Runs>,
    /// Every run has one step (exporters that write one step per run).
    one_step_runs: bool,
    /// The `created_at` of the step written last.
    created: i64,
    /// Each run starts after the one before ended, never late: one writer of several
    /// concurrent ones, whose lines are then in `created_at` order.
    sequential: bool,
}

/// What [`Generator::with_runs`] keeps.
#[derive(Debug, Clone)]
struct Runs {
    rng: Rng,
    models: Vec<&'static str>,
    lines: Vec<String>,
}

/// The models runs are on (the generated steps start on 2024-01-01): what the Assistants
/// API served then, two dated snapshots (one the bundled table lacks, priced as its base
/// model), and a fine-tune no table knows.
const MODELS: [(u64, &str); 7] = [
    (300, "gpt-4-1106-preview"),
    (250, "gpt-3.5-turbo-1106"),
    (150, "gpt-3.5-turbo"),
    (100, "gpt-4"),
    (60, "gpt-4-0613"),
    (60, "gpt-3.5-turbo-0613"),
    (30, "ft:gpt-3.5-turbo-1106:acme::b1"),
];

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
            thread: Thread::default(),
            run: Run::default(),
            line: String::new(),
            members: Vec::new(),
            stream: false,
            pending: Vec::new(),
            runs: None,
            one_step_runs: false,
            created: 0,
            sequential: false,
        }
    }

    /// Every run has a single step.
    pub fn one_step_runs(mut self) -> Generator {
        self.one_step_runs = true;
        self
    }

    /// The same assistants (and, with runs, the same models per assistant) and clock, but
    /// an independent random stream for ids, runs and steps: one of several concurrent
    /// writers.
    fn lane(&self, lane: u64) -> Generator {
        let mix = lane.wrapping_add(1).wrapping_mul(0xA076_1D64_78BD_642F);
        let mut g = self.clone();
        g.rng = Rng(self.rng.0 ^ mix);
        g.sequential = true;
        if let Some(r) = &mut g.runs {
            r.rng = Rng(r.rng.0 ^ mix.rotate_left(17));
        }
        g
    }

    /// The `created_at` of the step written last.
    fn created(&self) -> i64 {
        self.created
    }

    /// Also writes the `thread.run` object of each run (see [`Generator::write_with_runs`]).
    pub fn with_runs(mut self, seed: u64) -> Generator {
        let mut rng = Rng(seed ^ 0x00C0_57ED_0F12_0B5A);
        let models = (0..self.assistants.len())
            .map(|_| rng.weighted(&MODELS))
            .collect();
        self.runs = Some(Runs {
            rng,
            models,
            lines: Vec::new(),
        });
        self
    }

    /// Writes `lines` step lines to `out` and the objects of their runs to `runs` (each
    /// before the run's first step is written); returns the bytes of each.
    pub fn write_with_runs<W: Write, R: Write>(
        &mut self,
        lines: u64,
        out: W,
        runs: R,
    ) -> io::Result<(u64, u64)> {
        let mut out = io::BufWriter::with_capacity(1 << 20, out);
        let mut runs = io::BufWriter::with_capacity(1 << 20, runs);
        let mut buf = Vec::with_capacity(4096);
        let (mut bytes, mut run_bytes) = (0, 0);
        for _ in 0..lines {
            buf.clear();
            self.line(&mut buf);
            bytes += buf.len() as u64;
            out.write_all(&buf)?;
            run_bytes += self.write_runs(&mut runs)?;
        }
        out.flush()?;
        runs.flush()?;
        Ok((bytes, run_bytes))
    }

    /// Writes the run objects made since the last call, a line each; returns their bytes.
    fn write_runs(&mut self, runs: &mut dyn Write) -> io::Result<u64> {
        let mut bytes = 0;
        for l in self.runs.iter_mut().flat_map(|r| r.lines.drain(..)) {
            bytes += l.len() as u64 + 1;
            runs.write_all(l.as_bytes())?;
            runs.write_all(b"\n")?;
        }
        Ok(bytes)
    }

    /// The current run's object, when runs are written.
    fn run_object(&mut self) {
        let Some(runs) = &mut self.runs else { return };
        let r = &mut runs.rng;
        if r.permille(50) {
            return;
        }
        let model = if r.permille(100) {
            r.weighted(&MODELS)
        } else {
            runs.models[self.thread.assistant]
        };
        let run = &self.run;
        runs.lines.push(format!(
            r#"{{"id":"{}","object":"thread.run","created_at":{},"assistant_id":"{}","thread_id":"{}","status":"{}","expires_at":{},"model":"{model}","instructions":"","tools":[],"metadata":{{}},"usage":null}}"#,
            run.id,
            run.clock,
            self.assistants[self.thread.assistant],
            self.thread.id,
            run.outcome,
            run.expires
        ));
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

    /// Starts the next run (and, when the thread has had its runs, the next thread).
    fn next_run(&mut self) {
        let r = &mut self.rng;
        if self.thread.runs_left == 0 {
            let mut id = String::new();
            r.id("thread_", &mut id);
            let assistant = (r.below(40) * r.below(40) / 40) as usize;
            // Some applications tag their steps: a team and an environment per thread.
            let metadata = r.permille(300).then(|| {
                format!(
                    "{{\"team\":\"{}\",\"env\":\"{}\"}}",
                    r.pick(content::TEAMS),
                    if r.permille(800) { "prod" } else { "staging" }
                )
            });
            self.thread = Thread {
                id,
                runs_left: 1 + r.below(6) as u32,
                assistant,
                metadata,
            };
        }
        self.thread.runs_left -= 1;
        let mut id = String::new();
        r.id("run_", &mut id);
        // Runs start a few seconds apart, now and then late in an export (a sequential
        // writer's when the one before ended).
        if self.sequential {
            self.clock = self.clock.max(self.run.clock);
        }
        self.clock += r.below(40) as i64;
        let late = if r.permille(20) {
            r.below(3600) as i64
        } else {
            0
        };
        let start = self.clock - if self.sequential { 0 } else { late };
        self.run = Run {
            id,
            steps_left: if self.one_step_runs {
                1
            } else {
                1 + r.below(8) as u32
            },
            outcome: r.weighted(&[
                (850, "completed"),
                (70, "failed"),
                (30, "cancelled"),
                (20, "expired"),
                (30, "in_progress"),
            ]),
            clock: start,
            expires: start + 600,
        };
        self.run_object();
    }

    fn build(&mut self) {
        if self.run.steps_left == 0 {
            self.next_run();
        }
        self.run.steps_left -= 1;
        let last = self.run.steps_left == 0;
        let r = &mut self.rng;
        // Every step but the last completed; the last carries the run's outcome.
        let status = if last { self.run.outcome } else { "completed" };
        let tool_step = if last {
            r.permille(300)
        } else {
            r.permille(650)
        };
        let assistant = self.assistants[self.thread.assistant].clone();
        let stream_style = r.permille(300);
        let expires = self.run.expires;
        // Steps of a run follow one another: each starts when the one before ended.
        let created = self.run.clock + r.below(3) as i64;
        self.created = created;

        let mut s = String::new();
        r.id("step_", &mut s);
        let id = s;
        let (run, thread) = (self.run.id.clone(), self.thread.id.clone());

        // Terminal timestamps.
        let dur = match status {
            "completed" => r.duration(10),
            "failed" => r.duration(5),
            "cancelled" => r.duration(8),
            _ => 0,
        };
        self.run.clock = created + dur;
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
                let e = r.weighted(
                    &content::ERRORS
                        .iter()
                        .map(|e| (e.0, (e.1, e.2)))
                        .collect::<Vec<_>>(),
                );
                e
            };
            format!("{{\"code\":\"{code}\",\"message\":\"{msg}\"}}")
        } else {
            "null".to_string()
        };

        let details = if tool_step {
            let n = 1 + r.weighted(&[(70, 0u64), (22, 1), (8, 2)]);
            let calls: Vec<String> = (0..n).map(|_| content::tool_call(&mut self.rng)).collect();
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
        match &self.thread.metadata {
            Some(m) => self.push("metadata", m.clone()),
            None if self.rng.permille(50) => self.push("metadata", "{}".to_string()),
            None => {}
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
