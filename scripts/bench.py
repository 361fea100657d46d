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
    if done.returncode not in (0, 1, 3):  # 1: a policy violation, 3: diff predicts data loss; both ran fully
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}")
    return elapsed


def paired(a: list[str], b: list[str], repeat: int, env_a: dict[str, str] | None = None,
           env_b: dict[str, str] | None = None) -> tuple[float, float]:
    """Medians of a and of b, run alternately (a, b, a, b, ...) so that a busy machine weighs on
    both sides of the ratio alike."""
    ta, tb = [], []
    for _ in range(repeat):
        ta.append(timed(a, env_a))
        tb.append(timed(b, env_b))
    return statistics.median(ta), statistics.median(tb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stack", default="multi-zone-ha")
    args = parser.parse_args()
    r = args.repeat
    stacks = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))

    imports = [sys.executable, "-c", IMPORTS]
    print(f"medians of {r} runs, each pair of sides run alternately")
    print("\n1. one stack per command, fresh interpreter, / importing the SDK modules the plan needs")
    print(f"   {'command':<40} {'s':>7} {'import s':>9} {'ratio':>7}")
    for label, argv in (("plan --format json", ["plan", args.stack, "--format", "json"]),
                        ("check", ["check", args.stack]),
                        ("diff --base HEAD (plans twice)", ["diff", args.stack, "--base", "HEAD"]),
                        ("failures", ["failures", args.stack])):
        t, baseline = paired([*CLI, *argv], imports, r)
        print(f"   {label + ' ' + args.stack:<40} {t:>7.2f} {baseline:>9.2f} {t / baseline:>7.2f}")

    print(f"\n2. {len(stacks)} stacks: one process / one process per stack")
    one, each = paired([*CLI, "check", "--all"],
                       [sys.executable, "-c", "import subprocess\n"
                        f"for s in {stacks!r}: subprocess.run({CLI!r} + ['check', s], stdout=subprocess.DEVNULL)"], r)
    print(f"   check --all {one:.2f} s, {len(stacks)} x check STACK {each:.2f} s: ratio {one / each:.2f}")

    print("\n3. per-process shortcuts, same command (check " + args.stack + "), on / off")
    for label, off in (("os._exit after flushing (no teardown)", {"MILVUS_ZONES_FULL_EXIT": "1"}),
                       ("collector off while importing, then gc.freeze", {"MILVUS_ZONES_GC": "default"}),
                       ("both", {"MILVUS_ZONES_FULL_EXIT": "1", "MILVUS_ZONES_GC": "default"})):
        on_t, off_t = paired([*CLI, "check", args.stack], [*CLI, "check", args.stack], r, None, off)
        print(f"   {label:<48} on {on_t:.2f} s, off {off_t:.2f} s: ratio {on_t / off_t:.2f}")


if __name__ == "__main__":
    main()
