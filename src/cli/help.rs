//! The closing texts of the help and the man pages: each command's examples (every one
//! run by a test, `checked::every_example_in_the_help_runs`), the `--fail-if` metrics and
//! the exit codes.

pub(super) const EXIT_CODES: &str = "\
Exit codes:
  0  success (also when the reader of our output goes away early)
  1  malformed input under --strict
  2  usage error, or an input that cannot be opened, read or decompressed, or that
     was truncated or changed while steplog read it, or an output that cannot be written
  3  a --fail-if condition held (the report is still written)";

pub(super) const SUMMARY_EXAMPLES: &str = "\
Examples:
  steplog summary logs/                       every file in logs/ (gzip, zstd, JSONL, pages)
  steplog summary -r exports/ -o report.html  a whole tree, as a page (format from -o)
  steplog summary --since 2024-01-01 --group-by assistant --top 10 steps.jsonl.gz
  steplog summary --where 'status == \"failed\"' --exemplars 5 steps.jsonl
  steplog summary steps.jsonl runs.jsonl      runs give the steps their model, for costs
  steplog summary --full steps.jsonl          every section, not one screen
  steplog summary -f json -o day.json --save-state day.state --fail-if 'failure_rate>0.05' logs/";

pub(super) const PARTIAL_EXAMPLES: &str = "\
Examples:
  steplog partial logs/ -o mon.state                  a day's state, to merge later
  steplog partial --since 2024-01-01 --until 2024-01-02 logs/ -o jan1.state
  steplog partial --group-by assistant steps.jsonl runs.jsonl -o grouped.state";

pub(super) const MERGE_EXAMPLES: &str = "\
Examples:
  steplog merge mon.state day.state -o week.state   a week from its days";

pub(super) const REPORT_EXAMPLES: &str = "\
Examples:
  steplog report mon.state day.state                merged, as summary shows logs
  steplog report -f html -o week.html mon.state day.state
  steplog report --fail-if 'p99>300' mon.state";

pub(super) const FIND_EXAMPLES: &str = "\
Examples:
  steplog find --where 'status == \"failed\"' steps.jsonl          the lines, for jq
  steplog find --where 'run == \"run_abc\"' steps.jsonl            a run's steps, as logged
  steplog find --where 'duration > 600' --limit 5 -f table steps.jsonl";

pub(super) const BENCH_EXAMPLES: &str = "\
Examples:
  steplog bench -n 3 steps.jsonl           GB/s and the time in each stage
  steplog bench -n 3 -j 1 --no-mmap steps.jsonl";

pub(super) const GENERATE_EXAMPLES: &str = "\
Examples:
  steplog generate -n 1000 -o steps.jsonl --runs runs.jsonl    steps and their runs
  steplog generate -n 1000 --order shuffled -o shuffled.jsonl  a run's steps apart
  steplog generate -n 1000 --stream -o stream.jsonl            snapshots and deltas";

pub(super) const DIFF_EXAMPLES: &str = "\
Examples:
  steplog diff mon.state day.state                 two periods, from their states
  steplog diff --group-by assistant logs/ steps.jsonl.gz
  steplog diff --base-window 2024-01-01..2024-01-02 --current-window 2024-01-02..2024-01-03 logs/
  steplog diff -f json -o diff.json --base mon.state --current day.state
  steplog diff --fail-if 'failure_rate.delta>0.02@significant' mon.state day.state";

pub(super) const DIFF_FIGURES: &str = "\
Figures (the names --fail-if and -f json use):
  steps, failures, tool_calls, runs               counts
  failure_rate                                    failed / terminal steps (z-test)
  status.NAME                                     a status's share of steps (z-test)
  code.NAME                                       an error code's share of terminal steps (z-test)
  run_failure_rate                                runs whose last step failed (z-test)
  p50, p90, p95, p99, mean, max                   completed-step seconds (chi-square of
                                                  the two histograms)
  tokens, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens
  tokens_per_step, tokens_per_run, steps_per_run, tool_calls_per_step
  cost, cost_per_step, cost_per_run, unpriced_steps
  malformed_rate                                  malformed / lines (z-test)
A condition is FIGURE.FIELD OP NUMBER, FIELD one of delta, ratio, base, current,
p_value; with @significant it holds only for a significant change.";

pub(super) const PRICES_EXAMPLES: &str = "\
Examples:
  steplog prices                           the bundled list prices, per model and date";

pub(super) const FAIL_IF_METRICS: &str = "\
--fail-if metrics: steps, failures, failure_rate, records, malformed, malformed_rate,
  deltas, framing, blank_lines, lines, filtered_out, prompt_tokens, completion_tokens,
  total_tokens, cached_tokens, reasoning_tokens; p50 p90 p95 p99 p999 min mean max
  (completed-step seconds; failed.p99, cancelled.max, ... for other statuses);
  status.NAME (steps with that status); code.NAME (failed steps with that error code);
  cost (dollars), cost.model.NAME, cost.assistant.NAME, unpriced_steps, unpriced_tokens,
  runs_read (thread.run lines).";
