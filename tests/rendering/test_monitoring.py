"""Monitoring: the alert rules are valid Prometheus rules (Prometheus' own promtool checks and runs
them), each names a runbook section of docs/operations.md, and the monitors select what the mode runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from milvus_zones.engine.stacks import resolve_stack
from milvus_zones.planning.plan import plan, plan_cross_region
from milvus_zones.planning.stackconfig import spec_from_config
from milvus_zones.rendering import monitoring as mon

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = (ROOT / "docs" / "operations.md").read_text()
PROMTOOL = shutil.which("promtool")
# CI installs promtool (.ci/run); only a developer machine without it skips.
needs_promtool = pytest.mark.skipif(PROMTOOL is None and not os.environ.get("CI"),
                                    reason="promtool not installed (Debian package prometheus)")
VARIANTS = {
    "single-zone": {},
    "multi-zone-basic": {},
    "multi-zone-ha": {},
    "multi-zone-ha-2.5": {"milvusVersion": "2.5"},  # two releases, one per zone (Option A)
}


def plan_of(stack: str, **extra):
    values = dict(resolve_stack(stack).values)
    values["milvus-zones:monitoring"] = {"enabled": True}
    values.update({f"milvus-zones:{k}": v for k, v in extra.items()})
    spec = spec_from_config(values)
    return plan_cross_region(spec).regions if stack == "cross-region-ha" else (plan(spec),)


def all_plans():
    for name, extra in VARIANTS.items():
        yield from ((f"{name}:{p.name}", p) for p in plan_of(name.removesuffix("-2.5"), **extra))
    yield from ((f"cross-region-ha:{p.name}", p) for p in plan_of("cross-region-ha"))


PLANS = dict(all_plans())


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    assert PROMTOOL, "promtool is missing: .ci/run installs Debian's prometheus package"
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False)


@needs_promtool
@pytest.mark.parametrize("key", sorted(PLANS))
def test_promtool_accepts_every_deployments_rules(key, tmp_path):
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": mon.rule_groups(PLANS[key])}))
    r = promtool("check", "rules", "rules.yaml", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout


def _anchors(markdown: str) -> set[str]:
    return set(re.findall(r'<a id="([a-z0-9-]+)"></a>', markdown))


@pytest.mark.parametrize("key", sorted(PLANS))
def test_every_alert_has_a_runbook_section_in_operations_md(key):
    groups = mon.rule_groups(PLANS[key])
    used = mon.runbook_anchors(groups)
    assert used <= _anchors(OPERATIONS), used - _anchors(OPERATIONS)
    for g in groups:
        for r in g["rules"]:
            anchor = r["annotations"]["runbook_url"].rsplit("#", 1)[1]
            # The section under the anchor names the alert it is for.
            section = OPERATIONS.split(f'<a id="{anchor}"></a>', 1)[1].split("<a id=", 1)[0]
            assert r["alert"] in section, (r["alert"], anchor)


def test_alerts_cover_what_each_mode_promises():
    names = {k: {r["alert"] for g in mon.rule_groups(p) for r in g["rules"]} for k, p in PLANS.items()}
    common = {"MilvusEtcdMemberDown", "MilvusEtcdQuorumLost", "MilvusPodsUnschedulable", "MilvusBackupFailed",
              "MilvusBackupLate"}
    assert all(common <= n for n in names.values())
    ha = names["multi-zone-ha:milvus"]
    assert {"MilvusZoneQueryReplicaDown", "MilvusWalOffPrimaryGroup", "MilvusZoneFailoverControllerDown"} <= ha
    assert "MilvusWalOffPrimaryGroup" not in names["multi-zone-ha-2.5:milvus"]  # 2.5 keeps its WAL in Pulsar
    assert "MilvusZoneQueryReplicaDown" not in names["single-zone:milvus"]


def test_each_zones_replica_is_watched_through_its_own_deployment():
    assert mon.query_deployments(PLANS["multi-zone-ha:milvus"]) == {
        "rgh": ("cn-hangzhou-h", "milvus-querynode-rgh"), "rgi": ("cn-hangzhou-i", "milvus-querynode-rgi")}
    # 2.5: one release per zone; the second, milvus-i, is its own fullname (it contains the chart name).
    assert mon.query_deployments(PLANS["multi-zone-ha-2.5:milvus"]) == {
        "rgh": ("cn-hangzhou-h", "milvus-querynode"), "rgi": ("cn-hangzhou-i", "milvus-i-querynode")}


def test_the_milvus_pod_monitor_carries_the_resource_group_label():
    milvus, etcd = mon.pod_monitors(PLANS["multi-zone-ha-2.5:milvus"])
    assert milvus["spec"]["podTargetLabels"] == ["component", "milvus.io/resource-group"]
    (instances,) = [e["values"] for e in milvus["spec"]["selector"]["matchExpressions"]
                    if e["key"] == "app.kubernetes.io/instance"]
    assert instances == ["milvus", "milvus-i"]
    assert etcd["spec"]["podMetricsEndpoints"][0]["port"] == "client"
    assert etcd["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"] == "milvus"

