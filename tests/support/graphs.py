"""Recorded resource graphs (each program and stack run once per session) and topology facts read
straight from recorded resource inputs, independent of the library's model."""


from __future__ import annotations

import functools
from pathlib import Path

from milvus_zones.engine.offline import Graph, Resource, read_stack_config, run_program
from milvus_zones.engine.stacks import resolve_stack

PROJECT_DIR = Path(__file__).resolve().parents[2]

SWITCH = "alicloud:vpc/switch:Switch"
NODE_POOL = "alicloud:cs/nodePool:NodePool"
CLUSTER = "alicloud:cs/managedKubernetes:ManagedKubernetes"
BUCKET = "alicloud:oss/bucket:Bucket"
RELEASE = "kubernetes:helm.sh/v3:Release"


def switch_zones(graph: Graph, ids: list[str]) -> list[str]:
    by_id = {s.id: s.inputs["zoneId"] for s in graph.of_type(SWITCH)}
    return [by_id[i] for i in ids]


def labels(pool: Resource) -> dict[str, str]:
    return {l["key"]: l["value"] for l in pool.inputs.get("labels", [])}


def pools(graph: Graph, role: str) -> list[Resource]:
    return [p for p in graph.of_type(NODE_POOL) if labels(p).get("milvus-zones/role") == role]


def pool_zones(graph: Graph, pool: Resource) -> list[str]:
    return switch_zones(graph, pool.inputs["vswitchIds"])


def zones_of(graph: Graph, role: str) -> set[str]:
    return {z for p in pools(graph, role) for z in pool_zones(graph, p)}


def release_values(graph: Graph) -> list[dict]:
    return [r.inputs["values"] for r in graph.of_type(RELEASE)]


STACKS = ["single-zone", "multi-zone-basic", "multi-zone-ha"]


@functools.cache
def graph_of(stack: str) -> Graph:
    """The real program run for a stack under the recording mock engine, once per session."""
    return run_program(PROJECT_DIR, resolve_stack(stack))


ZONE_LOSS = Path(__file__).resolve().parents[1] / "programs" / "zone-loss"


@functools.cache
def hand_written(name: str) -> Graph:
    """A stack of the hand-written program in tests/programs/zone-loss, once per session."""
    return run_program(ZONE_LOSS, read_stack_config(ZONE_LOSS / f"Pulumi.{name}.yaml"))
