//! A seeded generator of Responses API records (`steplog generate --api responses`): the
//! bodies a service logs, one `response` a line, shaped as the samples are
//! (`testdata/samples/responses.jsonl`).
//!
//! A session is a chain of 1 to 6 responses linked by `previous_response_id`: a response
//! that calls a function (or a computer) is answered by the next, which continues its
//! run; a follow-up question names the one before but starts a new run. One session in
//! eight is held in a `conversation`. Every status appears (completed, failed with an
//! error code, incomplete with a reason, cancelled background responses without usage,
//! in progress, queued), every common output item (messages, reasoning, function,
//! web search, file search, code interpreter, MCP, image generation and computer calls),
//! reasoning tokens on reasoning models, cached input, service tiers, prompt templates,
//! and one model no price table knows. With `--stream`, each response is a stream's
//! `data:` payloads: `response.created`, text deltas, and the terminal event that carries
//! it. The same seed gives the same bytes on every platform.

use super::content::FUNCTIONS;
use super::{Order, Rng};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

/// Models, with whether they reason.
const MODELS: &[(u64, &str, bool)] = &[
    (30, "gpt-4o-mini-2024-07-18", false),
    (20, "gpt-4.1-mini-2025-04-14", false),
    (20, "gpt-5-2025-08-07", true),
    (12, "gpt-5-mini-2025-08-07", true),
    (8, "o3-mini-2025-01-31", true),
    (6, "gpt-4.1-2025-04-14", false),
    (4, "acme-ft-gpt-4o-mini", false),
];

const TEXTS: &[&str] = &[
    "Arr, matey! How can I assist ye today?",
    "The order shipped on Tuesday and should arrive by Friday; the tracking number is in your account.",
    "Here is a summary of the quarterly figures:\\n\\n- revenue up 12%\\n- churn down to 2.1%\\n- support tickets flat.",
    "Il fait 18\\u00b0C \\u00e0 Paris, avec un ciel d\\u00e9gag\\u00e9.",
    "I could not find a customer with that e-mail address. Could you check the spelling?",
    "The function returned three matching rows; the newest is from 2026-03-02.",
];

const QUESTIONS: &[&str] = &[
    "What's the weather in Paris?",
    "Summarise last quarter's numbers.",
    "Where is my order #4411?",
    "Find the customer ana@example.com.",
];

/// One session under way.
#[derive(Debug, Clone, Default)]
struct Session {
    /// When its next response is created.
    clock: i64,
    left: u32,
    previous: Option<String>,
    /// Whether the previous response asked for the next.
    asked: bool,
    conversation: Option<String>,
    model: usize,
}

/// Generates response lines from a seed.
#[derive(Debug, Clone)]
pub struct Responses {
    rng: Rng,
    clock: i64,
    stream: bool,
    /// Every response its own run: no chains.
    single: bool,
    session: Session,
    /// Stream lines still to write for the current response, last first.
    pending: Vec<String>,
    /// The `created_at` of the response last begun.
    current: i64,
    /// Sessions start on average every `gap / 2` seconds (per lane: lanes together keep
    /// the rate of one), whatever the order lines are written in, so a corpus spans the
    /// same weeks in every order.
    gap: u64,
    /// Whether a session starts only once the one before it ended (one lane of a log
    /// written in `created_at` order).
    ordered: bool,
}

impl Responses {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Responses {
        Responses {
            rng: Rng(seed ^ 0x0A11_CE5E_5510_0005),
            clock: 1_760_000_000,
            stream: false,
            single: false,
            session: Session::default(),
            pending: Vec::new(),
            current: 0,
            gap: 40,
            ordered: false,
        }
    }

    /// Each response as a stream's `data:` payloads.
    pub fn streaming(mut self) -> Responses {
        self.stream = true;
        self
    }

    /// The `lane`-th of several writers merged by time: its own random stream.
    fn lane(&self, lane: u64, lanes: u64) -> Responses {
        let mut g = self.clone();
        g.rng = Rng(self.rng.0 ^ lane.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        g.clock += g.rng.below(600) as i64;
        g.gap = self.gap.saturating_mul(lanes.max(1));
        g
    }

    fn start_session(&mut self) {
        // Sessions start at their own pace, not when the one before ended: sessions
        // overlap, as users' do.
        self.clock += self.rng.below(self.gap) as i64;
        if self.ordered {
            self.clock = self.clock.max(self.session.clock);
        }
        let r = &mut self.rng;
        let mut s = Session {
            clock: self.clock,
            left: if self.single {
                1
            } else {
                1 + r.below(6) as u32
            },
            model: {
                let total: u64 = MODELS.iter().map(|m| m.0).sum();
                let mut x = r.below(total);
                MODELS
                    .iter()
                    .position(|m| {
                        let hit = x < m.0;
                        x = x.saturating_sub(m.0);
                        hit
                    })
                    .unwrap_or(0)
            },
            ..Session::default()
        };
        if !self.single && r.permille(125) {
            let mut id = String::new();
            r.id("conv_", &mut id);
            s.conversation = Some(id);
        }
        self.session = s;
    }

    /// The `created_at` of the line last written (of its response, for a stream).
    fn created(&self) -> i64 {
        self.current
    }

    /// Appends one line (with its `\n`) to `out`.
    pub fn line(&mut self, out: &mut Vec<u8>) {
        if self.pending.is_empty() {
            if self.session.left == 0 {
                self.start_session();
            }
            self.current = self.session.clock;
            let body = self.response();
            if self.stream {
                self.stream_lines(&body);
            } else {
                self.pending.push(body);
            }
        }
        out.extend_from_slice(self.pending.pop().unwrap_or_default().as_bytes());
        out.push(b'\n');
    }

    fn stream_lines(&mut self, body: &str) {
        let id_at = body.find("\"id\":\"").map_or(0, |i| i + 6);
        let id = &body[id_at..id_at + body[id_at..].find('"').unwrap_or(0)];
        let status = ["completed", "failed", "incomplete", "cancelled"]
            .into_iter()
            .find(|s| body.contains(&format!("\"status\":\"{s}\",\"background\"")));
        let mut lines = vec![format!(
            r#"{{"type":"response.created","sequence_number":0,"response":{{"id":"{id}","object":"response","status":"in_progress"}}}}"#
        )];
        let deltas = 1 + self.rng.below(4);
        for n in 0..deltas {
            lines.push(format!(
                r#"{{"type":"response.output_text.delta","sequence_number":{},"item_id":"msg_{id}","output_index":0,"content_index":0,"delta":"word{n} "}}"#,
                n + 1
            ));
        }
        // A response still under way has no terminal event yet.
        if let Some(s) = status {
            lines.push(format!(
                r#"{{"type":"response.{s}","sequence_number":{},"response":{body}}}"#,
                deltas + 1
            ));
        }
        lines.reverse();
        self.pending = lines;
    }

    /// One response of the current session, as JSON.
    fn response(&mut self) -> String {
        let r = &mut self.rng;
        let s = &mut self.session;
        let (_, model, reasons) = MODELS[s.model];
        let mut id = String::new();
        r.id("resp_", &mut id);
        let created = s.clock;
        let status = match r.below(1000) {
            0..=19 => "failed",
            20..=39 => "incomplete",
            40..=49 => "cancelled",
            50..=54 => "in_progress",
            55..=59 => "queued",
            _ => "completed",
        };
        let last = s.left == 1;
        let duration = 1 + r.duration(10);
        let ended = matches!(status, "completed" | "failed" | "incomplete" | "cancelled");
        let completed_at = match ended && r.permille(800) {
            true => (created + duration).to_string(),
            false => "null".into(),
        };
        // What it did: a call the caller answers, a hosted tool, or a plain answer.
        let mut output = Vec::new();
        let mut asks = false;
        if reasons && status != "queued" {
            output.push(format!(
                r#"{{"id":"rs_{}","type":"reasoning","summary":[]}}"#,
                r.next() >> 24
            ));
        }
        let message = |r: &mut Rng| {
            format!(
                r#"{{"id":"msg_{}","type":"message","status":"completed","content":[{{"type":"output_text","annotations":[],"logprobs":[],"text":"{}"}}],"role":"assistant"}}"#,
                r.next() >> 24,
                r.pick(TEXTS)
            )
        };
        if matches!(status, "completed" | "incomplete") {
            match r.below(100) {
                0..=29 if !last => {
                    asks = true;
                    output.push(format!(
                        r#"{{"id":"fc_{}","type":"function_call","status":"completed","arguments":"{{\"location\":\"Paris, France\",\"unit\":\"celsius\"}}","call_id":"call_{}","name":"{}"}}"#,
                        r.next() >> 24,
                        r.next() >> 24,
                        r.pick(FUNCTIONS)
                    ));
                }
                30..=31 if !last => {
                    asks = true;
                    output.push(format!(
                        r#"{{"id":"cu_{}","type":"computer_call","status":"completed","action":{{"type":"click","button":"left","x":156,"y":50}},"call_id":"call_{}","pending_safety_checks":[]}}"#,
                        r.next() >> 24,
                        r.next() >> 24
                    ));
                }
                32..=41 => output.push(format!(
                    r#"{{"id":"ws_{}","type":"web_search_call","status":"completed","action":{{"type":"search","query":"weather paris today"}}}}"#,
                    r.next() >> 24
                )),
                42..=46 => output.push(format!(
                    r#"{{"id":"fs_{}","type":"file_search_call","status":"completed","queries":["quarterly revenue"],"results":null}}"#,
                    r.next() >> 24
                )),
                47..=50 => output.push(format!(
                    r#"{{"id":"ci_{}","type":"code_interpreter_call","status":"completed","code":"import pandas as pd\ndf = pd.read_csv('/mnt/data/q3.csv')\nprint(df.describe())","container_id":"cntr_{}","outputs":null}}"#,
                    r.next() >> 24,
                    r.next() >> 24
                )),
                51..=53 => output.push(format!(
                    r#"{{"id":"mcp_{}","type":"mcp_call","status":"completed","approval_request_id":null,"arguments":"{{\"sides\":6}}","error":null,"name":"roll","output":"4","server_label":"dmcp"}}"#,
                    r.next() >> 24
                )),
                54..=55 => output.push(format!(
                    r#"{{"id":"ig_{}","type":"image_generation_call","status":"completed","result":"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="}}"#,
                    r.next() >> 24
                )),
                _ => {}
            }
            if !asks {
                output.push(message(r));
            }
        }
        let (error, incomplete) = match status {
            "failed" => (
                match r.below(3) {
                    0 => {
                        r#"{"code":"rate_limit_exceeded","message":"Rate limit reached for requests"}"#
                    }
                    _ => {
                        r#"{"code":"server_error","message":"The server had an error while processing your request."}"#
                    }
                },
                "null",
            ),
            "incomplete" => (
                "null",
                match r.below(4) {
                    0 => r#"{"reason":"content_filter"}"#,
                    _ => r#"{"reason":"max_output_tokens"}"#,
                },
            ),
            _ => ("null", "null"),
        };
        let usage = match status {
            "completed" | "incomplete" | "failed"
                if r.permille(if status == "failed" { 200 } else { 1000 }) =>
            {
                let input = 20 + r.below(4000);
                let cached = if r.permille(300) { input / 2 } else { 0 };
                let reasoning = if reasons { r.below(1500) } else { 0 };
                let output_tokens = reasoning + 5 + r.below(600);
                format!(
                    r#"{{"input_tokens":{input},"input_tokens_details":{{"cached_tokens":{cached}}},"output_tokens":{output_tokens},"output_tokens_details":{{"reasoning_tokens":{reasoning}}},"total_tokens":{}}}"#,
                    input + output_tokens
                )
            }
            _ => "null".into(),
        };
        let previous = match &s.previous {
            Some(p) if !self.single => format!("\"{p}\""),
            _ => "null".into(),
        };
        let conversation = match &s.conversation {
            Some(c) => format!(r#"{{"id":"{c}"}}"#),
            None => "null".into(),
        };
        let tier = *r.pick(&["default", "default", "default", "auto", "flex", "priority"]);
        let prompt = match r.permille(150) {
            true => format!(
                r#"{{"id":"pmpt_{}","variables":{{}},"version":"2"}}"#,
                r.below(8)
            ),
            false => "null".into(),
        };
        let background = status == "cancelled" || status == "queued";
        let reasoning = match reasons {
            true => r#"{"effort":"medium","summary":null}"#,
            false => r#"{"effort":null,"summary":null}"#,
        };
        let body = format!(
            r#"{{"id":"{id}","object":"response","created_at":{created},"status":"{status}","background":{background},"completed_at":{completed_at},"conversation":{conversation},"error":{error},"incomplete_details":{incomplete},"instructions":"You are a helpful assistant for {q}","max_output_tokens":null,"max_tool_calls":null,"model":"{model}","output":[{output}],"parallel_tool_calls":true,"previous_response_id":{previous},"prompt":{prompt},"prompt_cache_key":null,"reasoning":{reasoning},"safety_identifier":null,"service_tier":"{tier}","store":true,"temperature":1.0,"text":{{"format":{{"type":"text"}},"verbosity":"medium"}},"tool_choice":"auto","tools":[{{"type":"function","name":"{f}","description":"Look it up.","parameters":{{"type":"object","properties":{{"location":{{"type":"string"}}}},"required":["location"]}},"strict":true}}],"top_logprobs":0,"top_p":1.0,"truncation":"disabled","usage":{usage},"user":null,"metadata":{{}}}}"#,
            q = r.pick(QUESTIONS),
            output = output.join(","),
            f = r.pick(FUNCTIONS),
        );
        // The next response of the session: an answer to a call comes seconds later, a
        // follow-up question minutes later.
        s.left -= 1;
        s.previous = Some(id);
        s.asked = asks;
        s.clock = created + duration + if asks { 1 } else { 30 + r.below(900) as i64 };
        body
    }
}

/// Writes `lines` lines of responses in `order` (each session's together, `in_flight`
/// sessions interleaved by `created_at`, shuffled, or every response alone); the bytes.
pub fn write_responses<W: Write>(
    mut generator: Responses,
    lines: u64,
    order: Order,
    out: W,
) -> io::Result<u64> {
    match order {
        Order::Grouped => interleaved(&generator, lines, 1, out),
        Order::Interleaved { in_flight } => {
            generator.ordered = true;
            interleaved(&generator, lines, in_flight, out)
        }
        Order::Single => {
            generator.single = true;
            interleaved(&generator, lines, 1, out)
        }
        Order::Shuffled => {
            let mut all = Vec::new();
            interleaved(&generator, lines, 1, &mut all)?;
            super::order::shuffled(&all, generator.rng.0, out)
        }
    }
}

/// `in_flight` session writers merged by the `created_at` of each one's next line.
fn interleaved<W: Write>(
    base: &Responses,
    lines: u64,
    in_flight: usize,
    out: W,
) -> io::Result<u64> {
    let mut out = io::BufWriter::with_capacity(1 << 20, out);
    let lanes = in_flight.clamp(1, usize::try_from(lines).unwrap_or(usize::MAX).max(1));
    let mut writers: Vec<Responses> = (0..lanes as u64)
        .map(|l| base.lane(l, lanes as u64))
        .collect();
    let mut next: Vec<Vec<u8>> = vec![Vec::new(); lanes];
    let mut heap = BinaryHeap::with_capacity(lanes);
    let mut bytes = 0u64;
    for (lane, (g, buf)) in writers.iter_mut().zip(&mut next).enumerate() {
        g.line(buf);
        heap.push(Reverse((g.created(), lane)));
    }
    for _ in 0..lines {
        let Some(Reverse((_, lane))) = heap.pop() else {
            break;
        };
        bytes += next[lane].len() as u64;
        out.write_all(&next[lane])?;
        next[lane].clear();
        let g = &mut writers[lane];
        g.line(&mut next[lane]);
        heap.push(Reverse((g.created(), lane)));
    }
    out.flush()?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::{BTreeMap, HashMap};

    fn corpus(n: u64, order: Order, stream: bool) -> Vec<Value> {
        let mut g = Responses::new(9);
        if stream {
            g = g.streaming();
        }
        let mut out = Vec::new();
        write_responses(g, n, order, &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes() {
        let write = |seed| {
            let mut out = Vec::new();
            write_responses(
                Responses::new(seed),
                500,
                Order::Interleaved { in_flight: 40 },
                &mut out,
            )
            .unwrap();
            out
        };
        assert_eq!(write(3), write(3));
        assert_ne!(write(3), write(4));
    }

    #[test]
    fn every_status_and_item_is_there_and_chains_link_to_earlier_responses() {
        let all = corpus(4000, Order::Interleaved { in_flight: 40 }, false);
        let mut statuses: BTreeMap<&str, u64> = BTreeMap::new();
        let mut items: BTreeMap<&str, u64> = BTreeMap::new();
        let mut seen: HashMap<&str, i64> = HashMap::new();
        let mut last = 0;
        for r in &all {
            *statuses.entry(r["status"].as_str().unwrap()).or_default() += 1;
            for i in r["output"].as_array().unwrap() {
                *items.entry(i["type"].as_str().unwrap()).or_default() += 1;
            }
            let created = r["created_at"].as_i64().unwrap();
            assert!(created >= last, "written in created_at order");
            last = created;
            if let Some(p) = r["previous_response_id"].as_str() {
                assert!(seen[p] <= created, "a response follows the one it names");
            }
            seen.insert(r["id"].as_str().unwrap(), created);
        }
        for s in [
            "completed",
            "failed",
            "incomplete",
            "cancelled",
            "in_progress",
            "queued",
        ] {
            assert!(statuses.get(s).is_some_and(|&n| n > 0), "{s}: {statuses:?}");
        }
        for i in [
            "message",
            "reasoning",
            "function_call",
            "computer_call",
            "web_search_call",
            "file_search_call",
            "code_interpreter_call",
            "mcp_call",
            "image_generation_call",
        ] {
            assert!(items.get(i).is_some_and(|&n| n > 0), "{i}: {items:?}");
        }
        let chained = all
            .iter()
            .filter(|r| r["previous_response_id"].is_string())
            .count();
        assert!(chained > all.len() / 4, "{chained} of {}", all.len());
        let single = corpus(500, Order::Single, false);
        assert!(single.iter().all(|r| r["previous_response_id"].is_null()));
        assert_eq!(corpus(300, Order::Shuffled, false).len(), 300);
    }

    #[test]
    fn streams_end_each_finished_response_with_its_terminal_event() {
        let lines = corpus(2000, Order::Grouped, true);
        let terminal: Vec<&Value> = lines
            .iter()
            .filter(|l| {
                matches!(
                    l["type"].as_str().unwrap(),
                    "response.completed"
                        | "response.failed"
                        | "response.incomplete"
                        | "response.cancelled"
                )
            })
            .collect();
        assert!(terminal.len() > 300, "{}", terminal.len());
        for t in terminal {
            let status = t["type"]
                .as_str()
                .unwrap()
                .strip_prefix("response.")
                .unwrap();
            assert_eq!(t["response"]["status"], status);
        }
    }
}
