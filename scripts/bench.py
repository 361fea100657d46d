"""Plan time per stack, as a ratio to the time of importing the SDKs, both measured in this run.

Each measurement runs in a fresh interpreter (as a user's command does), repeated; the median is
reported. Ratios, not seconds, are what to compare between machines and commits.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMPORTS = "import pulumi, pulumi_alicloud, pulumi_kubernetes, pulumi_policy, pydantic"


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def median(cmd: list[str], repeat: int) -> float:
    return statistics.median(timed(cmd) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    stacks = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))
    baseline = median([sys.executable, "-c", IMPORTS], args.repeat)
    print(f"baseline: importing the SDKs takes {baseline:.2f} s (median of {args.repeat})")
    print(f"{'stack':<24} {'plan s':>8} {'ratio':>7}")
    for stack in stacks:
        t = median([sys.executable, "-m", "milvus_zones.cli", "plan", stack, "--format", "json"], args.repeat)
        print(f"{stack:<24} {t:>8.2f} {t / baseline:>7.2f}")


if __name__ == "__main__":
    main()
