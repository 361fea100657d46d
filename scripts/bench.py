"""Ratios, each against a baseline measured in the same run (seconds differ between machines; ratios
are what to compare between commits):

1. each command on one stack (fresh interpreter, as a user runs it) / importing the SDK modules
   the plan needs;
2. N stacks in one process (`check --all`) / N processes (`check STACK` once per stack);
3. the per-process shortcuts, side by side on the same command: leaving with os._exit after
   flushing (no interpreter teardown) / the normal exit; the collector off while importing
   (gc.freeze after) / its default schedule.

Each figure is the median of --repeat runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMPORTS = "import pulumi, pulumi_alicloud, pulumi_kubernetes, pulumi_policy, pydantic"
CLI = [sys.executable, "-c", "from milvus_zones.cli import main; main()"]


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                          env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}")
    return elapsed


def median(cmd: list[str], repeat: int, env: dict[str, str] | None = None) -> float:
    return statistics.median(timed(cmd, env) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stack", default="multi-zone-ha")
    args = parser.parse_args()
    r = args.repeat
    stacks = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))

    baseline = median([sys.executable, "-c", IMPORTS], r)
    print(f"baseline: importing the SDK modules the plan needs takes {baseline:.2f} s (median of {r})")
    print("\n1. one stack per command, fresh interpreter, / the import baseline")
    print(f"   {'command':<40} {'s':>7} {'ratio':>7}")
    for label, argv in (("plan --format json", ["plan", args.stack, "--format", "json"]),
                        ("check", ["check", args.stack]),
                        ("failures", ["failures", args.stack])):
        t = median([*CLI, *argv], r)
        print(f"   {label + ' ' + args.stack:<40} {t:>7.2f} {t / baseline:>7.2f}")

    print(f"\n2. {len(stacks)} stacks: one process / one process per stack")
    one = median([*CLI, "check", "--all"], r)
    each = median([sys.executable, "-c", "import subprocess, sys\n"
                   f"for s in {stacks!r}: subprocess.run({CLI!r} + ['check', s], stdout=subprocess.DEVNULL)"], r)
    print(f"   check --all {one:.2f} s, {len(stacks)} x check STACK {each:.2f} s: ratio {one / each:.2f}")

    print("\n3. per-process shortcuts, same command (check " + args.stack + "), on / off")
    for label, off in (("os._exit after flushing (no teardown)", {"MILVUS_ZONES_FULL_EXIT": "1"}),
                       ("collector off while importing, then gc.freeze", {"MILVUS_ZONES_GC": "default"}),
                       ("both", {"MILVUS_ZONES_FULL_EXIT": "1", "MILVUS_ZONES_GC": "default"})):
        on_t = median([*CLI, "check", args.stack], r)
        off_t = median([*CLI, "check", args.stack], r, off)
        print(f"   {label:<48} on {on_t:.2f} s, off {off_t:.2f} s: ratio {on_t / off_t:.2f}")


if __name__ == "__main__":
    main()
