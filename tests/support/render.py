"""Render the generated values with the real Milvus chart archives (helm-python-sdk), then post-render.

Each (chart version, values) pair is rendered once per session: tests share the result.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from milvus_zones.planning.plan import TopologyPlan, plan, plan_cross_region
from milvus_zones.planning.spec import DeploymentSpec, MessageService, Mode
from milvus_zones.planning.stackconfig import spec_from_config
from milvus_zones.rendering import postrender
from milvus_zones.rendering.helm_values import ReleaseContext, ReleaseSpec, releases
from milvus_zones.rendering.isolation import disruption_budgets, network_policies

ROOT = Path(__file__).resolve().parents[2]
CHARTS = ROOT.parent / "shared" / "reference" / "milvus-helm" / "charts"
needs_charts = pytest.mark.skipif(not CHARTS.is_dir(), reason=f"chart archives not at {CHARTS}")


@functools.cache
def _render(version: str, values_json: str, name: str, namespace: str) -> str:
    from helm_python import (
        Chart,  # imported here: the package is only needed where charts are rendered
    )

    # A fresh chart per render: Helm drops disabled subcharts from the loaded chart while rendering,
    # so a chart object rendered once without Kafka would render Kafka's ZooKeeper never again.
    chart = Chart.load(str(CHARTS / f"milvus-{version}.tgz"))
    files = chart.render(json.loads(values_json), name=name, namespace=namespace, is_install=True, revision=1)
    # Helm's own order: file name, then documents in file order; NOTES.txt is not a manifest.
    return "\n---\n".join(text for path, text in sorted(files.items()) if path.endswith((".yaml", ".yml")) and text.strip())


def render(version: str, values: dict, name: str, namespace: str = "milvus", *, post: bool = True) -> list[dict]:
    """Kubernetes objects of one release, post-rendered as the Release would be."""
    text = _render(version, json.dumps(values, sort_keys=True), name, namespace)
    if post:
        text = postrender.transform(text)
    return [d for d in postrender.load(text) if isinstance(d, dict)]


def _ctx(p: TopologyPlan) -> ReleaseContext:
    return ReleaseContext(
        role_name="milvus-oss-role", service_account="milvus", password_secret="milvus-root-password",
        oss_endpoint=f"oss-{p.region}-internal.aliyuncs.com", vpc_cidr=p.vpc_cidr,
        lb_vswitch_ids={z: f"vsw-{z}" for z in p.zones}, storage_class="milvus-zones-disk-retain",
    )


def _stack_plans(stack: str) -> list[TopologyPlan]:
    raw = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    spec = spec_from_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()})
    return list(plan_cross_region(spec).regions) if spec.mode is Mode.CROSS_REGION_HA else [plan(spec)]


ZONES = ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]


def _variant_plans(mode: Mode, version: str, mq: MessageService) -> list[TopologyPlan]:
    return [plan(DeploymentSpec(
        mode=mode, region="cn-hangzhou", zones=ZONES[:1] if mode is Mode.SINGLE_ZONE else ZONES,
        milvus_version=version, message_service=mq, compute_node_count=4, bucket_name="mz-test-bucket",
    ))]


@functools.cache
def rendered_deployment(kind: str, key: Any) -> list[tuple[TopologyPlan, list[ReleaseSpec], list[dict], list[dict]]]:
    """(plan, release specs, rendered objects, our own manifests) per region, of a shipped stack
    (`kind` "stack", `key` its name) or of a variant (`kind` "variant", `key` (mode, version, message service))."""
    plans = _stack_plans(key) if kind == "stack" else _variant_plans(*key)
    out = []
    for p in plans:
        specs = releases(p, _ctx(p))
        objs = [o for s in specs for o in render(s.version, s.values, s.name, p.namespace)]
        ours = network_policies(p, specs) + disruption_budgets(p, specs)
        out.append((p, specs, objs, ours))
    return out
