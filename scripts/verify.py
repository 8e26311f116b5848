#!/usr/bin/env python3
"""Independent check of `steplog summary --format json` against Python's json module.

Recomputes every count and token sum from scratch and the duration percentiles by exact
sorting, then compares: counts and sums must be equal, percentiles within HDR precision
(3 significant digits). Handles files of records only (what `steplog generate` writes).

    scripts/verify.py FILE [STEPLOG_BINARY]
"""
import json
import math
import subprocess
import sys
from collections import Counter, defaultdict

path = sys.argv[1]
binary = sys.argv[2] if len(sys.argv) > 2 else "target/release/steplog"

status, types, kinds, functions = Counter(), Counter(), Counter(), Counter()
fail_code, fail_asst, fail_type, fail_tool, messages = Counter(), Counter(), Counter(), Counter(), Counter()
durations = defaultdict(list)
missing = Counter()
tokens = Counter()
by_asst = defaultdict(Counter)
with_usage = mismatch = terminal = lines = 0
first = last = None
TERMINAL = {"completed": "completed_at", "failed": "failed_at", "cancelled": "cancelled_at", "expired": "expired_at"}

with open(path, "rb") as f:
    for raw in f:
        lines += 1
        v = json.loads(raw)
        st = v["status"]
        status[st] += 1
        ty = v.get("type") or (v.get("step_details") or {}).get("type") or "(none)"
        types[ty] += 1
        created = v["created_at"]
        first = created if first is None else min(first, created)
        last = created if last is None else max(last, created)
        calls = (v.get("step_details") or {}).get("tool_calls") or []
        seen = set()
        for c in calls:
            k = c.get("type")
            k = k if k in ("code_interpreter", "file_search", "function", "retrieval") else "other"
            kinds[k] += 1
            seen.add(k)
            if k == "function":
                functions[(c.get("function") or {}).get("name") or "(none)"] += 1
        if st in TERMINAL:
            terminal += 1
            at = v.get(TERMINAL[st])
            if st == "expired" and at is None:
                at = v.get("expires_at")
            d = None if at is None else at - created
            if d is None or d < 0:
                missing[st] += 1
            else:
                durations[st].append(d)
        if st == "failed":
            err = v.get("last_error") or {}
            fail_code[err.get("code") or "(none)"] += 1
            fail_asst[v.get("assistant_id") or "(none)"] += 1
            fail_type[ty] += 1
            for k in seen or {"(none)"}:
                fail_tool[k] += 1
            if err.get("message") is not None:
                messages[err["message"]] += 1
        u = v.get("usage")
        if isinstance(u, dict):
            with_usage += 1
            t = {
                "prompt_tokens": u.get("prompt_tokens") or 0,
                "completion_tokens": u.get("completion_tokens") or 0,
                "total_tokens": u.get("total_tokens") or 0,
                "cached_tokens": (u.get("prompt_token_details") or {}).get("cached_tokens") or 0,
                "reasoning_tokens": (u.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0,
            }
            tokens.update(t)
            if t["prompt_tokens"] + t["completion_tokens"] != t["total_tokens"]:
                mismatch += 1
            a = by_asst[v.get("assistant_id") or "(none)"]
            a.update(t)
            a["steps_with_usage"] += 1

report = json.loads(subprocess.run([binary, "summary", "--format", "json", path], check=True, capture_output=True).stdout)
failures = []


def same(name, got, want):
    if got != want:
        failures.append(f"{name}: steplog {got!r} != python {want!r}")


nz = lambda m: {k: v for k, v in m.items() if v}
same("lines", report["input"]["lines"], lines)
same("records", report["input"]["records"], lines)
same("by_status", report["steps"]["by_status"], dict(status))
same("by_type", report["steps"]["by_type"], dict(types))
same("tool kinds", nz(report["tool_calls"]["by_kind"]), dict(kinds))
same("functions", report["tool_calls"]["functions"], dict(functions))
same("failures.by_code", report["failures"]["by_code"], dict(fail_code))
same("failures.by_assistant", report["failures"]["by_assistant"], dict(fail_asst))
same("failures.by_step_type", report["failures"]["by_step_type"], dict(fail_type))
same("failures.by_tool", report["failures"]["by_tool"], dict(fail_tool))
same("failures.terminal_steps", report["failures"]["terminal_steps"], terminal)
top = sorted(messages.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
same("failures.top_messages", [(m["message"], m["count"]) for m in report["failures"]["top_messages"]], top)
for k, want in tokens.items():
    same(f"usage.{k}", report["usage"][k], want)
same("usage.steps_with_usage", report["usage"]["steps_with_usage"], with_usage)
same("usage.total_mismatch", report["usage"]["total_mismatch"], mismatch)
same("usage.by_assistant", report["usage"]["by_assistant"], {a: {**{k: 0 for k in ("steps_with_usage", "prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens", "reasoning_tokens")}, **c} for a, c in by_asst.items()})
same("time_range", (report["time_range"]["first_created_at"], report["time_range"]["last_created_at"]), (first, last))

worst = 0.0
for st in TERMINAL:
    ds = sorted(durations[st])
    got = report["durations_seconds"][st]
    same(f"{st}.count", got["count"], len(ds))
    same(f"{st}.missing", got["missing"], missing[st])
    if not ds:
        continue
    same(f"{st}.min", got["min"], ds[0])
    same(f"{st}.max", got["max"], ds[-1])
    if abs(got["mean"] - sum(ds) / len(ds)) > 1e-9 * max(1, got["mean"]):
        failures.append(f"{st}.mean: {got['mean']} vs {sum(ds) / len(ds)}")
    for key, q in (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99), ("p999", 0.999)):
        exact = ds[min(len(ds), max(1, math.ceil(q * len(ds)))) - 1]
        err = abs(got[key] - exact)
        worst = max(worst, err / max(exact, 1))
        if err > max(1, exact * 1e-3):
            failures.append(f"{st}.{key}: steplog {got[key]} vs exact {exact}")

print(f"{lines} lines checked: counts, token sums and per-assistant sums compared exactly; "
      f"worst percentile relative error {worst:.2e} (HDR precision 1e-3)")
if failures:
    print("\n".join(failures))
    sys.exit(1)
print("OK: steplog agrees with the independent computation")
