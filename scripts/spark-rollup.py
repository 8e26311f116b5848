#!/usr/bin/env python3
"""Runs steplog on Apache Spark: Spark runs one task per input file, each task runs the
steplog binary on its shard of the files (`steplog partial --shard-count N --shard-index I`,
files assigned by a hash of their path) to turn them into a state, the states are merged
pairwise on the executors (`steplog merge`; merging is associative and commutative, so a
tree reduction is exact), and the driver renders the final state (`steplog report`).

    scripts/spark-rollup.py [--master local[2]] [--format json] [--out DIR] [--check] INPUT...

INPUTs are files or directories (expanded to their files, recursively, hidden entries
skipped) that every executor can read at the same path: a shared file system or a mount
of the object store. The steplog binary is shipped to the executors with the job
(`SparkContext.addFile`), so they need nothing installed. `--check` also runs
`steplog summary` on one machine over the same files and fails unless the two JSON
reports are byte-identical. Needs `pip install pyspark` and Java 17.
"""
import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def expand(inputs):
    files = []
    for item in inputs:
        if os.path.isdir(item):
            for dirpath, dirnames, names in os.walk(item):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                files.extend(os.path.join(dirpath, n) for n in sorted(names) if not n.startswith("."))
        else:
            files.append(item)
    return sorted(os.path.abspath(f) for f in files)


def executor_binary():
    from pyspark import SparkFiles

    path = SparkFiles.get("steplog")
    if not os.access(path, os.X_OK):
        os.chmod(path, 0o755)
    return path


def partial(inputs, shards):
    """The task of shard `index`: the input files steplog assigns it (by a hash of their
    path, as Kubernetes Indexed Jobs shard them) to one state (JSON text). steplog expands
    the directories itself, so a file found in one that holds no step (a README) is a
    note, as it is to `steplog summary DIR`, not an error."""

    def run(index):
        exe = executor_binary()
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "part.state")
            shard = ["--shard-count", str(shards), "--shard-index", str(index)]
            subprocess.run([exe, "partial", "--quiet", "-r", *shard, *inputs, "-o", out], check=True)
            with open(out) as f:
                return f.read()

    return run


def merge(a, b):
    """Runs on an executor: two states to one."""
    exe = executor_binary()
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, text in enumerate((a, b)):
            p = os.path.join(tmp, f"{i}.state")
            with open(p, "w") as f:
                f.write(text)
            paths.append(p)
        out = os.path.join(tmp, "merged.state")
        subprocess.run([exe, "merge", *paths, "-o", out], check=True)
        with open(out) as f:
            return f.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--master", default="local[2]", help="Spark master URL (default local[2])")
    ap.add_argument("--steplog", default=os.path.join(ROOT, "target", "release", "steplog"))
    ap.add_argument("--format", default="json", help="report format (any steplog format)")
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "spark-rollup"))
    ap.add_argument("--check", action="store_true", help="compare with a single-machine run")
    a = ap.parse_args()
    if not os.path.exists(a.steplog):
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    files = expand(a.inputs)
    if not files:
        sys.exit("spark-rollup: no input files")
    os.makedirs(a.out, exist_ok=True)

    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(a.master)
        .appName("steplog-rollup")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    sc = spark.sparkContext
    sc.setLogLevel("ERROR")
    sc.addFile(a.steplog)
    # In path order: merged states list their inputs sorted by path, and the check's
    # single run reads the inputs (each directory's files sorted) in the order given.
    inputs = sorted(os.path.abspath(i) for i in a.inputs)
    states = sc.parallelize(range(len(files)), len(files)).map(partial(inputs, len(files)))
    final = states.treeReduce(merge, depth=2)
    spark.stop()

    state_path = os.path.join(a.out, "rollup.state")
    with open(state_path, "w") as f:
        f.write(final)
    report = subprocess.run(
        [a.steplog, "report", "-f", a.format, state_path], check=True, capture_output=True
    ).stdout
    with open(os.path.join(a.out, f"report.{a.format}"), "wb") as f:
        f.write(report)
    sys.stdout.buffer.write(report)
    print(f"spark-rollup: {len(files)} files on {a.master}; state {state_path}", file=sys.stderr)

    if a.check:
        distributed = subprocess.run(
            [a.steplog, "report", "-f", "json", state_path], check=True, capture_output=True
        ).stdout
        single = subprocess.run(
            [a.steplog, "summary", "-f", "json", "--quiet", "-r", *inputs],
            check=True,
            capture_output=True,
        ).stdout
        with open(os.path.join(a.out, "single.json"), "wb") as f:
            f.write(single)
        if distributed != single:
            sys.exit("spark-rollup: the Spark report differs from the single-machine report")
        print("spark-rollup: identical to the single-machine report", file=sys.stderr)


if __name__ == "__main__":
    main()
