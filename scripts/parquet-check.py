#!/usr/bin/env python3
"""Exports run steps to Parquet with `steplog export` and reads the file back with DuckDB:
the row count, every status, step type, error code and tool kind count, the token sums,
durations and the per-file records must equal what `steplog summary` reports for the same
inputs, and every line's (file, offset) must be unique.

    scripts/parquet-check.py [--steplog PATH] INPUT...

Builds steplog with `--features parquet` unless --steplog names a binary that has it.
Installs duckdb from PyPI if missing.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--steplog", default=None)
    a = ap.parse_args()
    exe = a.steplog
    if exe is None:
        subprocess.run(["cargo", "build", "--quiet", "--features", "parquet"], cwd=ROOT, check=True)
        exe = os.path.join(ROOT, "target", "debug", "steplog")
    try:
        import duckdb
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "duckdb"], check=True)
        import duckdb

    report = json.loads(subprocess.run([exe, "summary", "-f", "json", "--quiet", *a.inputs],
                                       check=True, capture_output=True).stdout)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "steps.parquet")
        subprocess.run([exe, "export", "--quiet", "--to", "parquet", *a.inputs, "-o", out], check=True)
        con = duckdb.connect()
        con.execute(f"create view steps as select * from read_parquet('{out}')")
        q = lambda sql: con.execute(sql).fetchall()
        failures = []

        def same(what, got, want):
            if got != want:
                failures.append(f"{what}: parquet {got} != summary {want}")

        same("rows", q("select count(*) from steps")[0][0], report["steps"]["total"])
        same("unique (file, offset)", q("select count(distinct (source_file, line_offset)) from steps")[0][0],
             report["steps"]["total"])
        same("by status", dict(q("select status, count(*) from steps group by 1")), report["steps"]["by_status"])
        same("by type", dict(q("select coalesce(type, '(none)'), count(*) from steps group by 1")),
             report["steps"]["by_type"])
        same("failures by code",
             # A failure is a failed step or response, or an incomplete response (by its reason).
             dict(q("select coalesce(error_code, '(none)'), count(*) from steps "
                    "where status in ('failed', 'incomplete') group by 1")),
             report["failures"]["by_code"])
        kinds = dict(q("select k, count(*) from (select unnest(tool_kinds) as k from steps) group by 1"))
        same("tool kinds", kinds, {k: v for k, v in report["tool_calls"]["by_kind"].items() if v})
        for col in ["prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens", "reasoning_tokens"]:
            same(col, int(q(f"select coalesce(sum({col}), 0) from steps where has_usage")[0][0]), report["usage"][col])
        d = report["durations_seconds"]["completed"]
        got = q("select count(duration_seconds), min(duration_seconds), max(duration_seconds) "
                "from steps where status = 'completed'")[0]
        same("completed durations (count, min, max)", tuple(got), (d["count"], d["min"], d["max"]))
        per_file = dict(q("select source_file, count(*) from steps group by 1"))
        same("records per file", per_file,
             {f["path"]: f["records"] for f in report["input"]["files"] if f["records"]})
        first = q("select min(created_at) from steps")[0][0]
        if report["time_range"]["first_created_at"] is not None:
            same("first created_at", int(first.timestamp()), report["time_range"]["first_created_at"])
    if failures:
        sys.exit("parquet-check: " + "; ".join(failures))
    print(f"parquet-check: {report['steps']['total']} rows agree with steplog summary", file=sys.stderr)


if __name__ == "__main__":
    main()
