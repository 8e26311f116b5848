use super::select::Values;
use super::Spill;
use crate::agg::runs::spread;
use crate::agg::testutil::batch;
use crate::agg::{Aggregates, Dim, Groups, Ledger, Runs};
use crate::summary::Summary;

/// A deterministic stream of numbers (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn percentiles_selected_from_a_file_are_those_selected_in_memory() {
    let mut rng = Rng(7);
    let sets: Vec<Vec<u64>> = vec![
        vec![5],
        vec![0, 0, 0],
        vec![u64::MAX, 0, 1 << 63, u64::MAX - 1],
        (0..1000).map(|i| i % 7).collect(),
        (0..5000).map(|_| rng.next()).collect(),
        (0..5000).map(|_| rng.next() >> 40).collect(),
        (0..3001)
            .map(|_| (rng.next() % 3) << 32 | (rng.next() % 5))
            .collect(),
        (0..777).map(|i| 1u64 << (i % 64)).collect(),
    ];
    for values in sets {
        let mut file = Values::new().unwrap();
        for &v in &values {
            file.push(v).unwrap();
        }
        let mut copy = values.clone();
        assert_eq!(file.spread().unwrap(), spread(&mut copy), "{values:?}");
    }
    assert_eq!(
        Values::new().unwrap().spread().unwrap(),
        spread(&mut Vec::new())
    );
}

/// Steps of `runs` runs in a shuffled order, with usage, several threads and assistants
/// and run objects naming models (two of them disagreeing), as JSON lines.
fn lines(runs: u64, seed: u64) -> Vec<String> {
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    let models = ["gpt-4o", "gpt-4o-mini", "gpt-4.1"];
    for r in 0..runs {
        let steps = 1 + r % 4;
        for s in 0..steps {
            let created = 1_700_000_000 + (r * 37 % 500) as i64 * 600 + s as i64 * 30;
            let status = ["completed", "failed", "cancelled", "in_progress"][(r + s) as usize % 4];
            let end = match status {
                "completed" => format!(r#","completed_at":{}"#, created + (r % 13) as i64),
                "failed" => format!(r#","failed_at":{}"#, created + 2),
                _ => String::new(),
            };
            // A few runs have a step in a second thread (a stitched log).
            let thread = if r % 50 == 0 && s == 1 { r + 1 } else { r } % 37;
            let usage = match (r + s) % 3 {
                0 => String::new(),
                _ => format!(
                    r#","usage":{{"prompt_tokens":{},"completion_tokens":{},"total_tokens":{}}}"#,
                    100 + r,
                    10 + s,
                    110 + r + s
                ),
            };
            out.push(format!(
                r#"{{"id":"step_{r}_{s}","object":"thread.run.step","created_at":{created},"run_id":"run_{r}","thread_id":"thread_{thread}","assistant_id":"asst_{}","type":"message_creation","status":"{status}"{end}{usage}}}"#,
                r % 5
            ));
        }
        if r % 3 != 0 {
            let model = models[(r % 3) as usize];
            out.push(format!(
                r#"{{"id":"run_{r}","object":"thread.run","created_at":1700000000,"thread_id":"thread_{}","status":"completed","model":"{model}"}}"#,
                r % 37
            ));
        }
        if r % 41 == 0 {
            out.push(format!(
                r#"{{"id":"run_{r}","object":"thread.run","created_at":1700000000,"status":"completed","model":"gpt-3.5-turbo"}}"#
            ));
        }
    }
    // A step without a run, with usage.
    out.push(r#"{"id":"lone","created_at":1700000100,"status":"completed","completed_at":1700000101,"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}"#.into());
    for i in (1..out.len()).rev() {
        out.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }
    out
}

fn aggregates(runs: bool, cost: bool) -> Aggregates {
    Aggregates::new(
        Groups::new(&[Dim::Assistant], 1000),
        Runs::new(runs, 1000),
        Ledger::new(cost),
        3,
    )
}

fn report(aggregates: Aggregates) -> String {
    let summary = Summary {
        aggregates,
        ..Summary::default()
    };
    serde_json::to_string_pretty(&summary.report()).unwrap()
}

/// Tables spilled after every few batches (so that most runs are spread over several
/// spills) give the report the tables kept whole give.
#[test]
fn spilled_tables_give_the_report_of_tables_kept_whole() {
    for (runs, cost) in [(true, true), (false, true), (true, false)] {
        let lines = lines(300, 11);
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let mut whole = aggregates(runs, cost);
        let mut spilled = aggregates(runs, cost);
        let mut spill = Spill::new().unwrap();
        for (i, chunk) in refs.chunks(7).enumerate() {
            whole.update(&batch(chunk)).unwrap();
            spilled.update(&batch(chunk)).unwrap();
            if i % 3 == 0 {
                spilled.spill(&mut spill).unwrap();
                assert_eq!(spilled.table.len(), 0);
            }
        }
        assert!(spill.times > 30);
        let pricing = crate::cost::Pricing::default();
        let price =
            |t: &crate::agg::RunTable, l: &Ledger, n: usize| pricing.costliest_runs(l, t, n).ok();
        spilled.finish_spill(spill, &price).unwrap();
        let finished = spilled.spilled.as_ref().unwrap();
        assert_eq!(finished.runs.is_some(), runs);
        if runs {
            assert_eq!(finished.slowest.len(), 3);
            assert_eq!(finished.priciest.len(), if cost { 3 } else { 0 });
        }
        let (whole, spilled) = (report(whole), report(spilled));
        assert!(whole.contains("gpt-4o-mini") == cost, "{whole}");
        assert_eq!(whole, spilled, "runs {runs}, cost {cost}");
    }
}

/// A spill past the limit of runs says so, as the tables would.
#[test]
fn more_runs_than_allowed_are_refused_after_a_spill_too() {
    let lines = lines(40, 3);
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut a = Aggregates::new(
        Groups::new(&[], 10),
        Runs::new(true, 30),
        Ledger::new(true),
        0,
    );
    let mut spill = Spill::new().unwrap();
    for chunk in refs.chunks(5) {
        a.update(&batch(chunk)).unwrap();
        a.spill(&mut spill).unwrap();
    }
    let e = a.finish_spill(spill, &|_, _, _| None).unwrap_err();
    assert_eq!(e.to_string(), "more than 30 runs");
}

/// Two workers spilling to files of their own (as they do once the merged tables have
/// spilled), one file taking the other's over at the end: the report of tables kept whole.
#[test]
fn spills_of_two_workers_absorbed_into_one_give_the_report_of_tables_kept_whole() {
    let lines = lines(400, 13);
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut whole = aggregates(true, true);
    let (mut a, mut b) = (aggregates(true, true), aggregates(true, true));
    let (mut sa, mut sb) = (Spill::new().unwrap(), Spill::new().unwrap());
    for (i, chunk) in refs.chunks(9).enumerate() {
        whole.update(&batch(chunk)).unwrap();
        let (part, spill) = if i % 2 == 0 {
            (&mut a, &mut sa)
        } else {
            (&mut b, &mut sb)
        };
        part.update(&batch(chunk)).unwrap();
        if i % 5 < 2 {
            part.spill(spill).unwrap();
        }
    }
    let (times, bytes) = (sa.times + sb.times, sa.bytes() + sb.bytes());
    // And a third file, itself holding one taken over: files within files are found.
    let mut sc = Spill::new().unwrap();
    sc.absorb(sb).unwrap();
    sa.absorb(sc).unwrap();
    assert_eq!((sa.times, sa.bytes()), (times, bytes));
    a.merge(b).unwrap();
    let pricing = crate::cost::Pricing::default();
    let price =
        |t: &crate::agg::RunTable, l: &Ledger, n: usize| pricing.costliest_runs(l, t, n).ok();
    a.finish_spill(sa, &price).unwrap();
    assert_eq!(report(whole), report(a));
}
