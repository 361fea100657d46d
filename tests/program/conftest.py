"""Run the real Pulumi program for each stack under the recording mock engine, once per session."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from milvus_zones.offline import Graph, run_program
from milvus_zones.stacks import PROJECT_DIR, available_stacks, resolve_stack

STACKS = ["single-zone", "multi-zone-basic", "multi-zone-ha"]


@functools.cache
def graph_of(stack: str) -> Graph:
    return run_program(PROJECT_DIR, resolve_stack(stack))


def graph_of_config(tmp_path: Path, text: str) -> Graph:
    path = tmp_path / "Pulumi.custom.yaml"
    path.write_text(text)
    return run_program(PROJECT_DIR, resolve_stack(str(path)))


@pytest.fixture(params=STACKS)
def stack_graph(request) -> tuple[str, Graph]:
    return request.param, graph_of(request.param)

