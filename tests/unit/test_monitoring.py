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


def test_the_dashboard_is_json_for_the_grafana_sidecar():
    import json

    p = PLANS["multi-zone-ha:milvus"]
    cm = mon.dashboard_config_map(p)
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    dash = json.loads(cm["data"]["milvus-dashboard.json"])
    assert dash["panels"] and len(cm["data"]["milvus-dashboard.json"]) < 1024 * 1024  # a ConfigMap's limit


# ---- the rules' behaviour, evaluated by Prometheus' engine (promtool test rules) ------------------

TESTS = """
rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'etcd_server_has_leader{namespace="milvus", pod="milvus-etcd-0"}'
        values: '1x10'
      - series: 'etcd_server_has_leader{namespace="milvus", pod="milvus-etcd-1"}'
        values: '1 1 0x8'
      - series: 'etcd_server_has_leader{namespace="milvus", pod="milvus-etcd-2"}'
        values: '1 1 0x8'
      - series: 'milvus_wal_info{namespace="milvus", channel_name="c0", milvus_io_resource_group="rgh"}'
        values: '1x10'
      - series: 'milvus_wal_info{namespace="milvus", channel_name="c1", milvus_io_resource_group="rgi"}'
        values: '_ _ _ 1x7'
    alert_rule_test:
      - eval_time: 2m
        alertname: MilvusEtcdQuorumLost
        exp_alerts: []
      - eval_time: 5m
        alertname: MilvusEtcdQuorumLost
        exp_alerts:
          - exp_labels: {severity: critical, namespace: milvus}
            exp_annotations:
              summary: "etcd of milvus: fewer than 2 members see a leader; Milvus stops"
              runbook_url: docs/operations.md#etcd-quorum-lost
      - eval_time: 5m
        alertname: MilvusWalOffPrimaryGroup
        exp_alerts: []
      - eval_time: 9m
        alertname: MilvusWalOffPrimaryGroup
        exp_alerts:
          - exp_labels: {severity: warning, namespace: milvus}
            exp_annotations:
              summary: "milvus: WAL channels run outside the planned primary group rgh"
              runbook_url: docs/operations.md#wal-off-primary-group
  - interval: 1h
    input_series:
      # Created at 0, a success at 2 h (the value is the time of the last success, in seconds).
      - series: 'kube_cronjob_created{namespace="milvus", cronjob="milvus-zones-backup"}'
        values: '0x60'
      - series: 'kube_cronjob_status_last_successful_time{namespace="milvus", cronjob="milvus-zones-backup"}'
        values: '_ _ 7200x58'
      - series: 'kube_cronjob_spec_suspend{namespace="milvus", cronjob="milvus-zones-backup"}'
        values: '0x60'
      # A Job that started at 3 h and failed (from 4 h on).
      - series: 'kube_job_status_start_time{namespace="milvus", job_name="milvus-zones-backup-1"}'
        values: '_ _ _ 10800x57'
      - series: 'kube_job_failed{namespace="milvus", job_name="milvus-zones-backup-1", condition="true"}'
        values: '_ _ _ 0 1x56'
      - series: >-
          kube_job_owner{namespace="milvus", job_name="milvus-zones-backup-1", owner_kind="CronJob",
          owner_name="milvus-zones-backup", owner_is_controller="true"}
        values: '_ _ _ 1x57'
    alert_rule_test:
      - eval_time: 3h
        alertname: MilvusBackupFailed
        exp_alerts: []
      - eval_time: 5h
        alertname: MilvusBackupFailed
        exp_alerts:
          - exp_labels: {severity: warning, namespace: milvus}
            exp_annotations:
              summary: "milvus: the last backup Job failed (no newer success)"
              runbook_url: docs/operations.md#backup-failed
      # Daily schedule: late after 24 h + 4 h deadline + 1 h past the success at 2 h, i.e. from 31 h on.
      - eval_time: 30h
        alertname: MilvusBackupLate
        exp_alerts: []
      - eval_time: 32h
        alertname: MilvusBackupLate
        exp_alerts:
          - exp_labels: {severity: critical, namespace: milvus}
            exp_annotations:
              summary: "milvus: no successful backup for more than 29 h (schedule 30 2 * * * UTC)"
              runbook_url: docs/operations.md#backup-late
"""


@needs_promtool
def test_prometheus_evaluates_the_rules_as_the_runbooks_say(tmp_path):
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": mon.rule_groups(PLANS["multi-zone-ha:milvus"])}))
    (tmp_path / "tests.yaml").write_text(TESTS)
    r = promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


@needs_promtool
def test_a_suspended_standby_raises_no_backup_alert(tmp_path):
    (standby,) = [p for p in PLANS.values() if p.region_role == "standby"]
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": mon.rule_groups(standby)}))
    ns = standby.namespace
    (tmp_path / "tests.yaml").write_text(f"""
rule_files: [rules.yaml]
tests:
  - interval: 1h
    input_series:
      - series: 'kube_cronjob_created{{namespace="{ns}", cronjob="milvus-zones-backup"}}'
        values: '0x60'
      - series: 'kube_cronjob_spec_suspend{{namespace="{ns}", cronjob="milvus-zones-backup"}}'
        values: '1x60'
    alert_rule_test:
      - eval_time: 50h
        alertname: MilvusBackupLate
        exp_alerts: []
""")
    r = promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
