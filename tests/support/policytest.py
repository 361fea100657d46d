"""Shared by the policy tests: programs run once per session under the recording mock engine.

The mock engine's state is process-global, so programs run one at a time; `run_cached` is also
patched into the CLI tests, so a CLI invocation runs its program the first time only.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from milvus_zones.analysis.check import Report, check_graph
from milvus_zones.engine.offline import Graph, Resource, read_stack_config, run_program

PROGRAMS = Path(__file__).resolve().parents[1] / "programs"
ON_ACK = PROGRAMS / "milvus-on-ack"
MANAGED = PROGRAMS / "managed-milvus"
REPO = Path(__file__).resolve().parents[2]
# The schema sits in shared/, next to the repository (CI clones it there); tests needing it skip without it.
SARIF_SCHEMA = next((d / "shared" / "reference" / "sarif" / "sarif-schema-2.1.0.json" for d in (REPO.parent, REPO)
                     if (d / "shared" / "reference" / "sarif" / "sarif-schema-2.1.0.json").exists()), None)


_RUNS: dict[tuple[Path, Path, bool], Graph] = {}


def _run(program: Path, stack_path: Path, preview: bool) -> Graph:
    key = (program, stack_path, preview)
    if key not in _RUNS:
        _RUNS[key] = run_program(program, read_stack_config(stack_path), preview=preview)
    return _RUNS[key]


def run_cached(program_dir: Path, stack_cfg, preview: bool = False) -> Graph:
    """Drop-in for milvus_zones.engine.offline.run_program that runs each (program, stack) once."""
    return _run(Path(program_dir).resolve(), Path(stack_cfg.path).resolve(), preview)


def graph(stack: str, program: Path = ON_ACK) -> Graph:
    return _run(program.resolve(), (program / f"Pulumi.{stack}.yaml").resolve(), False)


@functools.cache
def _facts(program: Path, stack_path: Path) -> str:
    """JSON of the `externalResources` a stack's reads need: this project's from its config (as
    `milvus-zones check` builds them), a hand-written program's from external-resources.<stack>.json."""
    import json

    from milvus_zones.analysis.policy_facts import facts_of_config
    from milvus_zones.engine.offline import config_for_program, read_project

    if program.resolve() == REPO.resolve():
        cfg = read_stack_config(stack_path)
        return json.dumps(facts_of_config(config_for_program(read_project(program), cfg)[0]))
    given = program / f"external-resources.{stack_path.name[len('Pulumi.'):-len('.yaml')]}.json"
    return given.read_text() if given.exists() else "{}"


def external_resources(program: Path, stack_path: Path) -> dict[str, Any]:
    import json

    return json.loads(_facts(Path(program).resolve(), Path(stack_path).resolve()))


@functools.cache
def _pristine_report(program: Path, stack_path: Path) -> Report:
    return check_graph(_run(program, stack_path, False), external_resources=external_resources(program, stack_path))


def check(g: Graph, policy_config: Path | None = None, **kw) -> Report:
    """check_graph; a program's own graph (never edited: `edited` copies) is checked once per session."""
    if policy_config is None and not kw:
        for (program, stack_path, preview), cached in _RUNS.items():
            if cached is g and not preview:
                return _pristine_report(program, stack_path)
    return check_graph(g, policy_config, **kw)


def violated(report: Report, level: str | None = "mandatory") -> set[str]:
    return {v.policy for v in report.violations if level is None or v.enforcement_level == level}


def messages(report: Report, policy: str) -> list[str]:
    return [v.message for v in report.violations if v.policy == policy]


def skipped(report: Report) -> set[str]:
    return {na.policy for na in report.not_applicable if not na.urn}


# -- editing a recorded graph: the same resource, one property changed --------------------------------

def resource(g: Graph, name: str, type_suffix: str = "") -> Resource:
    found = [r for r in g.resources if r.name == name and r.type.endswith(type_suffix)]
    assert len(found) == 1, f"{name}: {[r.type for r in found]}"
    return found[0]


def edited(g: Graph, name: str, change: Callable[[dict[str, Any]], None], type_suffix: str = "",
           outputs_only: bool = False) -> Graph:
    """A copy of `g` where `change` was applied to the named resource's inputs and outputs."""
    g2 = copy.deepcopy(g)
    r = resource(g2, name, type_suffix)
    if not outputs_only:
        change(r.inputs_wire)
    change(r.outputs_wire)
    return g2


def with_resource(g: Graph, like: str, name: str, type_: str, props: dict[str, Any],
                  property_dependencies: dict[str, list[str]] | None = None) -> Graph:
    """A copy of `g` with one more resource, registered like `like` (same parent and provider)."""
    g2 = copy.deepcopy(g)
    base = resource(g2, like)
    urn = base.urn.rsplit("$", 1)[0] + f"${type_}::{name}"
    deps = sorted({u for us in (property_dependencies or {}).values() for u in us})
    g2.resources.append(Resource(
        urn=urn, type=type_, name=name, custom=True, parent=base.parent, provider=base.provider if
        type_.startswith("kubernetes:") else "", id=f"{name}-id", inputs_wire=copy.deepcopy(props),
        outputs_wire=copy.deepcopy(props), dependencies=deps, property_dependencies=property_dependencies or {},
    ))
    return g2


def without(g: Graph, name: str) -> Graph:
    g2 = copy.deepcopy(g)
    g2.resources = [r for r in g2.resources if r.name != name]
    return g2
