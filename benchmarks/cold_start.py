"""Cold-start benchmark: what each function's handler costs to import, against a bare-framework floor.

Every sample is a fresh interpreter, because a Lambda cold start is one. The child records its own
clock from the start of its work to "handler ready", then to "first DynamoDB client made" (what the
first request does, since the functions create clients lazily). The parent also times the whole
process, spawn to exit, because Lambda's init duration includes interpreter start-up.

The floor is the same measurement for a process that only imports fastapi, mangum and boto3 and
makes one DynamoDB client: the part no function can avoid.

    python benchmarks/cold_start.py [--runs N] [--json] [--check]

Budgets per function: import+client median <= 1.25 x the floor's, peak RSS <= 90 MiB.
With --check the exit status is 1 when any budget is exceeded (or a child fails); otherwise 0.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "layers" / "core" / "python"  # what the core layer mounts at /opt/python
FLOOR = "(floor)"

TIME_BUDGET = 1.25  # times the floor's median
RSS_BUDGET_MIB = 90.0

# Runs in the child. The clock starts before anything else so the stdlib imports it needs are charged
# to it, exactly as they would be to a handler.
CHILD = """
import time
_t0 = time.perf_counter()
import importlib, json, resource, sys

task_root, core = sys.argv[1], sys.argv[2]
if task_root:
    # Lambda puts the task root first, then /opt/python where the layers are.
    sys.path[:0] = [task_root, core]
    module = importlib.import_module("app")
    module.handler
    t_import = time.perf_counter() - _t0
    try:
        from flowless.store.aws import client
    except ImportError:
        import boto3
        client = boto3.client
    client("dynamodb")
else:
    import fastapi, mangum, boto3
    t_import = time.perf_counter() - _t0
    boto3.client("dynamodb")
t_ready = time.perf_counter() - _t0

peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
peak_mib = peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes there, KiB on Linux
print(json.dumps({"import": t_import, "ready": t_ready, "rss_mib": peak_mib}))
"""


def lambda_env(task_root: Path | None) -> dict[str, str]:
    """A Lambda-like environment: template.yaml's Globals with dummy values, and no network lookups."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        # Keep the developer's ~/.aws out of it and never wait on instance metadata.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": "flowless-bench",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "_HANDLER": "app.handler",
        "FLOWLESS_TABLE_NAME": "flowless-bench",
        "FLOWLESS_BUCKET_NAME": "flowless-bench-files",
        "FLOWLESS_RUN_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/000000000000/flowless-bench-runs",
        "FLOWLESS_AUTO_LOGIN": "false",
        "POWERTOOLS_SERVICE_NAME": "flowless",
    }
    if task_root is not None:
        env["LAMBDA_TASK_ROOT"] = str(task_root)
    return env


def sample(task_root: Path | None) -> dict[str, float]:
    """One cold start in a fresh process: the child's own timings plus the parent's spawn-to-exit time."""
    args = [sys.executable, "-c", CHILD, str(task_root or ""), str(CORE)]
    started = time.perf_counter()
    done = subprocess.run(args, cwd=task_root or ROOT, env=lambda_env(task_root),
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{task_root or FLOOR} failed to start:\n{done.stderr.strip()}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process"] = wall
    return result


def p90(values: list[float]) -> float:
    """Nearest-rank 90th percentile: with few runs, an observed value beats an interpolated one."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def summarise(samples: list[dict[str, float]]) -> dict[str, float]:
    ready = [s["ready"] for s in samples]
    return {
        "import_median_s": statistics.median(s["import"] for s in samples),
        "median_s": statistics.median(ready),
        "p90_s": p90(ready),
        "process_median_s": statistics.median(s["process"] for s in samples),
        "peak_rss_mib": max(s["rss_mib"] for s in samples),
        "runs": len(samples),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="rounds over the floor and every function")
    parser.add_argument("--json", action="store_true", help="print machine-readable results instead")
    parser.add_argument("--check", action="store_true", help="exit 1 if any budget is exceeded")
    opts = parser.parse_args()

    functions = {p.parent.name: p.parent for p in sorted(ROOT.glob("functions/*/app.py"))}
    subjects: dict[str, Path | None] = {FLOOR: None, **functions}

    # One untimed pass writes the bytecode caches and warms the page cache, so the first round is not
    # charged for compiling what every later round (and a deployed layer) gets precompiled.
    failures: dict[str, str] = {}
    for name, task_root in subjects.items():
        try:
            sample(task_root)
        except RuntimeError as exc:
            failures[name] = str(exc)
    if FLOOR in failures:
        print(failures[FLOOR], file=sys.stderr)
        return 1

    # Round-robin, so drift in machine load lands on every subject alike rather than on one.
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in subjects if name not in failures}
    for _ in range(max(1, opts.runs)):
        for name in samples:
            samples[name].append(sample(subjects[name]))

    results = {name: summarise(runs) for name, runs in samples.items()}
    floor = results[FLOOR]
    for name, row in results.items():
        row["ratio"] = row["median_s"] / floor["median_s"]
        if name != FLOOR:
            row["ok"] = row["ratio"] <= TIME_BUDGET and row["peak_rss_mib"] <= RSS_BUDGET_MIB
    over = [name for name, row in results.items() if name != FLOOR and not row["ok"]] + sorted(failures)

    if opts.json:
        print(json.dumps({
            "budgets": {"time_ratio": TIME_BUDGET, "peak_rss_mib": RSS_BUDGET_MIB},
            "results": results,
            "failures": failures,
            "over_budget": over,
        }, indent=2))
    else:
        print_table(results, failures, opts.runs)

    return 1 if opts.check and over else 0


def print_table(results: dict[str, dict[str, float]], failures: dict[str, str], runs: int) -> None:
    print(f"Cold start, {runs} fresh processes per row; times are import+first DynamoDB client "
          f"unless noted. Budget: <= {TIME_BUDGET}x floor median, <= {RSS_BUDGET_MIB:g} MiB peak RSS.")
    header = (f"{'function':<12} {'median s':>9} {'p90 s':>7} {'x floor':>8} {'import s':>9} "
              f"{'process s':>10} {'peak MiB':>9}  verdict")
    print(header)
    print("-" * len(header))
    for name, row in results.items():
        verdict = "-" if name == FLOOR else ("OK" if row["ok"] else "OVER")
        print(f"{name:<12} {row['median_s']:>9.3f} {row['p90_s']:>7.3f} {row['ratio']:>7.2f}x "
              f"{row['import_median_s']:>9.3f} {row['process_median_s']:>10.3f} "
              f"{row['peak_rss_mib']:>9.1f}  {verdict}")
    for name, error in failures.items():
        print(f"{name:<12} {'':>9} {'':>7} {'':>8} {'':>9} {'':>10} {'':>9}  ERROR")
        print(error, file=sys.stderr)
    print("import s: median of handler import alone; process s: median spawn-to-exit seen by the parent.")


if __name__ == "__main__":
    sys.exit(main())
