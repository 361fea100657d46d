"""The real Milvus chart, rendered from the values a stack's program passes to Helm, post-renderer applied.

What Pulumi's `helm.v3.Release` would do with the recorded inputs: load the pinned chart archive
(shared/reference/milvus-helm/charts/milvus-<version>.tgz, beside the repository), render it with
helm-python-sdk (Helm's own Go library) as an install at revision 1, and pipe the manifests through
`milvus_zones.postrender` when the release asks for it. Renders are cached per test session (per
xdist worker), so every test module that looks at rendered pods shares them.

Used through the session fixtures of tests/rendering/conftest.py; tests skip when the chart folder
or helm-python-sdk is absent.
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from milvus_zones.engine.offline import Graph, run_program
from milvus_zones.engine.stacks import resolve_stack
from milvus_zones.rendering.postrender import load, transform

RELEASE = "kubernetes:helm.sh/v3:Release"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
REPO = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO
# shared/ sits next to the repository (a worktree's ../shared, CI's copy beside its clone).
CHARTS_DIR = next((d / "shared" / "reference" / "milvus-helm" / "charts" for d in (REPO.parent, REPO)
                   if (d / "shared" / "reference" / "milvus-helm" / "charts").is_dir()), None)


def available() -> str | None:
    """Why rendering cannot run here, or None when it can."""
    if CHARTS_DIR is None:
        return "the chart archives (shared/reference/milvus-helm/charts) are not beside the repository"
    try:
        import helm_python  # noqa: F401
    except ImportError:
        return "helm-python-sdk is not installed (pip install -e '.[test]')"
    return None


@dataclass(frozen=True)
class Workload:
    kind: str
    name: str
    obj: dict

    @property
    def pod(self) -> dict:
        spec = self.obj["spec"]
        if self.kind == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        return spec["template"]["spec"]

    @property
    def labels(self) -> dict[str, str]:
        return self.obj.get("metadata", {}).get("labels") or {}

    @property
    def replicas(self) -> int:
        return int(self.obj["spec"].get("replicas", 1))

    def containers(self, init: bool = True) -> list[dict]:
        return list(self.pod.get("containers") or []) + (list(self.pod.get("initContainers") or []) if init else [])

    def env(self, container: int = 0) -> dict[str, Any]:
        return {e["name"]: e.get("value", e.get("valueFrom")) for e in self.pod["containers"][container].get("env") or []}


@dataclass(frozen=True)
class RenderedRelease:
    urn: str  # of the recorded helm.v3.Release
    provider: str  # its Kubernetes provider reference (urn::id)
    name: str
    namespace: str
    chart_version: str
    values: dict
    postrendered: bool
    docs: tuple[dict, ...]

    def objects(self, kind: str | None = None) -> list[dict]:
        return [d for d in self.docs if kind is None or d.get("kind") == kind]

    def workloads(self) -> list[Workload]:
        return [Workload(d["kind"], d["metadata"]["name"], d) for d in self.docs if d.get("kind") in WORKLOAD_KINDS]

    def workload(self, name: str) -> Workload:
        found = [w for w in self.workloads() if w.name == name]
        assert len(found) == 1, f"{self.name}: no single workload {name}; have {[w.name for w in self.workloads()]}"
        return found[0]

    def by_component(self, component: str) -> list[Workload]:
        return [w for w in self.workloads() if w.labels.get("component") == component]

    def images(self) -> Iterator[tuple[str, str]]:
        """(workload name, image) of every container and init container that runs."""
        for w in self.workloads():
            if w.kind in ("Deployment", "StatefulSet") and w.replicas == 0:
                continue
            for c in w.containers():
                yield w.name, c["image"]


def render_release(release: Any) -> RenderedRelease:
    """Render one recorded `helm.v3.Release` as Helm, then the post-renderer, would."""
    from helm_python import Chart

    inputs = release.inputs
    assert CHARTS_DIR is not None
    archive = CHARTS_DIR / f"milvus-{inputs['version']}.tgz"
    # A fresh load per render: Helm prunes the disabled subcharts from the loaded chart in place
    # (chartutil.ProcessDependencies), so a reused Chart would render the previous values' subcharts.
    chart = Chart.load(str(archive))
    files = chart.render(inputs["values"], name=inputs["name"], namespace=inputs["namespace"],
                         is_install=True, revision=1)
    text = "".join(f"---\n# Source: {path}\n{body}\n" for path, body in sorted(files.items())
                   if path.endswith((".yaml", ".yml")) and body.strip())
    postrender = bool(inputs.get("postrender"))
    if postrender:
        text = transform(text)
    docs = tuple(d for d in load(text) if isinstance(d, dict))
    return RenderedRelease(release.urn, release.provider, inputs["name"], inputs["namespace"], inputs["version"],
                           inputs["values"], postrender, docs)


@dataclass(frozen=True)
class Pool:
    name: str
    labels: dict[str, str]
    zones: tuple[str, ...]

    def hosts(self, node_selector: dict[str, str]) -> bool:
        return all(self.labels.get(k) == v for k, v in node_selector.items())


def cluster_pools(graph: Graph, rendered: RenderedRelease) -> list[Pool]:
    """The node pools of the ACK cluster a release is installed in (via its provider's kubeconfig)."""
    provider = graph.by_urn(rendered.provider.rsplit("::", 1)[0])
    (cluster_urn,) = provider.property_dependencies["kubeconfig"]
    cluster = graph.by_urn(cluster_urn)
    zone_of = {s.id: s.inputs["zoneId"] for s in graph.of_type("alicloud:vpc/switch:Switch")}
    return [
        Pool(p.name, {lab["key"]: lab["value"] for lab in p.inputs.get("labels", [])},
             tuple(zone_of[v] for v in p.inputs["vswitchIds"]))
        for p in graph.of_type("alicloud:cs/nodePool:NodePool") if p.inputs["clusterId"] == cluster.id
    ]


@functools.cache
def _graph(stack: str, changes: tuple[tuple[str, str], ...]) -> Graph:
    config = resolve_stack(stack, PROJECT_DIR)
    if not changes:
        from support.graphs import graph_of  # the same run the component tests use, once per worker

        return graph_of(stack)
    data = yaml.safe_load(config.path.read_text())
    data["config"].update({f"milvus-zones:{k}": json.loads(v) for k, v in changes})
    path = Path(tempfile.mkdtemp(prefix="render-")) / f"Pulumi.{stack}-variant.yaml"
    path.write_text(yaml.safe_dump(data))
    return run_program(PROJECT_DIR, resolve_stack(str(path), PROJECT_DIR))


def stack_spec(stack: str, **changes: Any):
    """The validated spec of a stack with some `milvus-zones:` settings changed, as its program reads it."""
    from milvus_zones.engine.offline import config_for_program, read_project
    from milvus_zones.planning.stackconfig import spec_from_config

    data = yaml.safe_load(resolve_stack(stack, PROJECT_DIR).path.read_text())
    data["config"].update({f"milvus-zones:{k}": v for k, v in changes.items()})
    path = Path(tempfile.mkdtemp(prefix="spec-")) / f"Pulumi.{stack}-variant.yaml"
    path.write_text(yaml.safe_dump(data))
    return spec_from_config(config_for_program(read_project(PROJECT_DIR), resolve_stack(str(path), PROJECT_DIR))[0])


def stack_graph(stack: str, **changes: Any) -> Graph:
    """The stack's program run under the recording mock engine (once per session and variant)."""
    return _graph(stack, tuple(sorted((k, _freeze(v)) for k, v in changes.items())))


@functools.cache
def _rendered(stack: str, changes: tuple[tuple[str, str], ...]) -> tuple[RenderedRelease, ...]:
    return tuple(render_release(r) for r in _graph(stack, changes).of_type(RELEASE))


def render_stack(stack: str, **changes: Any) -> tuple[RenderedRelease, ...]:
    """Every Milvus release of a stack (optionally with some `milvus-zones:` settings changed), rendered."""
    return _rendered(stack, tuple(sorted((k, _freeze(v)) for k, v in changes.items())))


def _freeze(value: Any) -> str:
    """A hashable, reversible key for a setting's value (the cache key of a variant)."""
    return json.dumps(value, sort_keys=True)
