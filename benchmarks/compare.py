"""Compare jaxsnn's own cases before and after a change, side by side in one run.

    python benchmarks/compare.py --base 4178ad7 [--cases W1:jaxsnn:single,W2:jaxsnn]
                                 [--rounds 2] [--out benchmarks/results/compare.md]

The base commit is checked out into a temporary git worktree. Every case of run.py runs
in a fresh process per tree (`run.py --worker CASE`, with that tree's `benchmarks/` and
its `jaxsnn` on PYTHONPATH), the two trees alternating (base, head, head, base, ...) so
that slow phases of a shared machine hit both alike. Per case and tree the median over
rounds of run_s and compile_s is reported, with the ratio head / base (< 1: the change is
faster). Only ratios from one run compare; do not run anything else on the machine
meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

from run import machine_info

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_CASES = [
    "W1:jaxsnn:single",
    "W1:jaxsnn-1thread:single",
    "W1:jaxsnn:vmap256",
    "W2:jaxsnn",
    "W2:jaxsnn-1thread",
    "W3:N=40000",
    "W3:batch16",
    "W3:batch1024",
    "T1",
]


def _worker(tree: str, case: str, quick: bool) -> list[dict]:
    cmd = [sys.executable, os.path.join(tree, "benchmarks", "run.py"), "--worker", case]
    cmd += ["--quick"] if quick else []
    env = dict(os.environ, PYTHONPATH=tree)
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tree, env=env, timeout=1800)
    if proc.returncode:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"{case} failed in {tree}: {tail}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _key(rec: dict) -> str:
    return f"{rec['workload']} {rec['mode']} {rec['tool']}"


def _fmt(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}g}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the commit to compare with")
    parser.add_argument("--cases", default=",".join(DEFAULT_CASES), help="run.py case names")
    parser.add_argument("--rounds", type=int, default=2, help="processes per case and tree")
    parser.add_argument("--quick", action="store_true", help="run.py's quick mode")
    parser.add_argument("--out", help="also write the table (Markdown) to this file")
    args = parser.parse_args(argv)
    cases = [c for c in args.cases.split(",") if c]
    base_dir = tempfile.mkdtemp(prefix="jaxsnn-base-")
    subprocess.run(
        ["git", "worktree", "add", "--detach", base_dir, args.base],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    trees = {"base": base_dir, "head": ROOT}
    results: dict[str, dict[str, list[dict]]] = {}
    try:
        for r in range(args.rounds):
            for case in cases:
                order = ("base", "head") if (r + cases.index(case)) % 2 == 0 else ("head", "base")
                for name in order:
                    for rec in _worker(trees[name], case, args.quick):
                        results.setdefault(_key(rec), {}).setdefault(name, []).append(rec)
                    print(f"  round {r + 1} {case:26s} {name}", flush=True)
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", base_dir], cwd=ROOT, capture_output=True
        )
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    cpu = machine_info()["cpu"]
    lines = [
        f"# {args.base} (base) against {head} + working tree (head)",
        "",
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"median over {args.rounds} process(es) per tree, trees alternating",
        "",
        "| case | base run_s | head run_s | head/base | base compile_s | head compile_s "
        "| head/base | rate Hz base / head |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, by_tree in results.items():
        cols = []
        for field in ("run_s", "compile_s"):
            med = {}
            for name in ("base", "head"):
                vals = [rec.get(field) for rec in by_tree.get(name, [])]
                vals = [v for v in vals if v is not None]
                med[name] = statistics.median(vals) if vals else None
            ratio = med["head"] / med["base"] if med["base"] and med["head"] else None
            cols += [_fmt(med["base"]), _fmt(med["head"]), _fmt(ratio)]
        rates = [by_tree.get(n, [{}])[0].get("rate_hz") for n in ("base", "head")]
        lines.append(f"| {key} | {' | '.join(cols)} | {_fmt(rates[0])} / {_fmt(rates[1])} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
