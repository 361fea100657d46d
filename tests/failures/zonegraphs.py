"""Recorded graphs for the zone-failure tests: each (program, stack) runs once per session."""

from __future__ import annotations

import functools
from pathlib import Path

from milvus_zones.engine.offline import Graph, read_stack_config, run_program
from milvus_zones.engine.stacks import resolve_stack

PROJECT_DIR = Path(__file__).resolve().parents[2]

ZONE_LOSS = Path(__file__).resolve().parents[1] / "programs" / "zone-loss"


@functools.cache
def stack(name: str) -> Graph:
    """A stack of this project (stacks/), run under the mock engine."""
    return run_program(PROJECT_DIR, resolve_stack(name))


@functools.cache
def hand_written(name: str) -> Graph:
    """A stack of the hand-written program in tests/programs/zone-loss."""
    return run_program(ZONE_LOSS, read_stack_config(ZONE_LOSS / f"Pulumi.{name}.yaml"))
