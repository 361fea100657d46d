"""Monitoring: the alert rules are valid Prometheus rules (Prometheus' own promtool checks and runs
them), each names a runbook section of docs/operations.md, and the monitors select what the mode runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from milvus_zones.engine.stacks import resolve_stack
from milvus_zones.planning.plan import plan, plan_cross_region
from milvus_zones.planning.stackconfig import spec_from_config
from milvus_zones.rendering import monitoring as mon
from milvus_zones.rendering.helm_values import etcd_statefulset

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
    (milvus,) = mon.pod_monitors(PLANS["multi-zone-ha-2.5:milvus"])  # 2.5: no WAL to pin, no controller
    assert milvus["spec"]["podTargetLabels"] == ["component", "milvus.io/resource-group"]
    (instances,) = [e["values"] for e in milvus["spec"]["selector"]["matchExpressions"]
                    if e["key"] == "app.kubernetes.io/instance"]
    assert instances == ["milvus", "milvus-i"]
    _, failover = mon.pod_monitors(PLANS["multi-zone-ha:milvus"])
    assert failover["spec"]["podMetricsEndpoints"][0]["port"] == "http"
    assert failover["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "milvus-zones-failover"}
    # No controller, no monitor of it.
    assert [m["metadata"]["name"] for m in mon.pod_monitors(PLANS["single-zone:milvus"])] == ["milvus-milvus"]


def test_etcd_is_scraped_on_its_metrics_listener_never_the_client_port():
    from milvus_zones.rendering.helm_values import ETCD_METRICS_PORT

    p = PLANS["multi-zone-ha-2.5:milvus"]
    service, monitor = mon.etcd_metrics_service(p), mon.etcd_service_monitor(p)
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "etcd", "app.kubernetes.io/instance": "milvus"}
    assert service["spec"]["ports"] == [{"name": "metrics", "port": ETCD_METRICS_PORT, "targetPort": ETCD_METRICS_PORT,
                                         "protocol": "TCP"}]
    assert ETCD_METRICS_PORT not in (2379, 2380)
    assert service["spec"]["publishNotReadyAddresses"] is True  # a member without a leader is still scraped
    selected = monitor["spec"]["selector"]["matchLabels"]
    assert all(service["metadata"]["labels"].get(k) == v for k, v in selected.items())
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [p.namespace]}



# grafana-operator v5.24.0 api/v1beta1: GrafanaDashboardSpec (grafanadashboard_types.go) inlines
# GrafanaCommonSpec (common.go) and GrafanaContentSpec (content.go); these are their json names.
GRAFANA_DASHBOARD_FIELDS = {
    "resyncPeriod", "instanceSelector", "allowCrossNamespaceImport", "suspend",  # common
    "uid", "json", "gzipJson", "url", "urlAuthorization", "jsonnet", "jsonnetLib", "configMapRef", "grafanaCom",
    "oci", "contentCacheDuration", "datasources", "envs", "envFrom",  # content
    "folder", "folderUID", "folderRef", "plugins",  # dashboard
}
GRAFANA_REQUIRED = {"instanceSelector"}


def test_the_grafana_dashboard_references_milvus_own_file_at_the_running_tag():
    p = plan_of("multi-zone-ha", monitoring={"enabled": True, "grafana": {"instanceLabels": {"dashboards": "grafana"}}})[0]
    d = mon.grafana_dashboard(p)
    assert d["apiVersion"] == "grafana.integreatly.org/v1beta1" and d["kind"] == "GrafanaDashboard"
    spec = d["spec"]
    assert set(spec) <= GRAFANA_DASHBOARD_FIELDS and set(spec) >= GRAFANA_REQUIRED
    assert re.fullmatch(r"^https?://.+$", spec["url"])  # the CRD's pattern
    assert re.fullmatch(r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$", spec["resyncPeriod"])
    assert not {"folderUID", "folderRef"} & set(spec)  # the CRD refuses folder beside them
    assert spec["url"] == ("https://raw.githubusercontent.com/milvus-io/milvus/v2.6.22/"
                           "deployments/monitor/grafana/milvus-dashboard.json")
    assert spec["instanceSelector"] == {"matchLabels": {"dashboards": "grafana"}}
    assert spec["folder"] == "Milvus"
    # The 2.5 stack imports the dashboard of the Milvus it runs.
    p25 = plan_of("multi-zone-ha", milvusVersion="2.5",
                  monitoring={"enabled": True, "grafana": {"instanceLabels": {"a": "b"}, "folder": "DB"}})[0]
    assert f"/milvus-io/milvus/{p25.milvus_image.tag}/" in mon.grafana_dashboard(p25)["spec"]["url"]
    assert p25.milvus_image.tag.startswith("v2.5.")
    assert mon.grafana_dashboard(PLANS["multi-zone-ha:milvus"]) is None  # not asked for


@pytest.mark.parametrize(("grafana", "enabled", "message"), [
    ({"instanceLabels": {}}, True, "name at least one label"),
    ({"instanceLabels": {"a": "b"}}, False, "grafana needs enabled: true"),
    ({"folder": "x"}, True, "instanceLabels"),
])
def test_bad_grafana_settings_are_refused_naming_the_setting(grafana, enabled, message):
    from milvus_zones.planning.stackconfig import SpecError

    with pytest.raises(SpecError) as err:
        plan_of("single-zone", monitoring={"enabled": enabled, "grafana": grafana})
    assert "monitoring" in str(err.value) and message in str(err.value)


def test_the_stack_creates_the_monitoring_objects(tmp_path):
    from milvus_zones.engine.offline import run_program

    data = yaml.safe_load((ROOT / "stacks" / "Pulumi.multi-zone-ha.yaml").read_text())
    data["config"]["milvus-zones:monitoring"] = {"enabled": True, "grafana": {"instanceLabels": {"dashboards": "g"}}}
    path = tmp_path / "Pulumi.multi-zone-ha.yaml"
    path.write_text(yaml.safe_dump(data))
    g = run_program(ROOT, resolve_stack(str(path)))
    kinds = {r.inputs.get("kind") for r in g.resources if r.type.startswith("kubernetes:")}
    assert {"PodMonitor", "ServiceMonitor", "PrometheusRule", "GrafanaDashboard"} <= kinds
    (svc,) = [r for r in g.resources if r.type == "kubernetes:core/v1:Service" and r.name.endswith("-etcd-metrics")]
    assert svc.inputs["spec"]["ports"][0]["port"] == 2381


# ---- etcd's metrics-only listener on a real etcd (started like the chart's members, support/etcd.py:
# ETCD_LISTEN_METRICS_URLS in the environment), and the quorum alert run by promtool on what it reports.

ETCD_PLAN = PLANS["multi-zone-ha:milvus"]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""


def _sample(text: str, name: str) -> float:
    (value,) = [float(line.split()[-1]) for line in text.splitlines() if line.split(" ")[0] == name]
    return value


def test_the_metrics_listener_serves_metrics_and_health_only(etcd):
    m = etcd.members[0]
    status, text = _get(m.metrics_url + "/metrics")
    assert status == 200
    assert _sample(text, "etcd_server_has_leader") == 1
    assert "etcd_server_leader_changes_seen_total" in text
    assert _get(m.metrics_url + "/health")[0] == 200
    # No KV API on the metrics port: what the monitoring namespace may reach exposes no data.
    req = urllib.request.Request(m.metrics_url + "/v3/kv/range", data=b'{"key":"aGVhbHRo"}', method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=2)
    assert err.value.code == 404
    assert etcd.healthy(m)  # the client port still serves it


def _has_leader(etcd) -> dict[str, float]:
    """pod -> etcd_server_has_leader, scraped from each running member's metrics listener."""
    pods = etcd_statefulset(mon.release_shape(ETCD_PLAN)[0].name)
    out = {}
    for i, m in enumerate(etcd.members):
        if m.proc is None:
            continue  # a lost member: its target is down, the series absent
        status, text = _get(m.metrics_url + "/metrics")
        assert status == 200, m.name
        out[f"{pods}-{i}"] = _sample(text, "etcd_server_has_leader")
    return out


def _quorum_alert_fires(observed: dict[str, float], tmp_path: Path) -> bool:
    """promtool's verdict on MilvusEtcdQuorumLost after 5 min of the observed values."""
    groups = mon.rule_groups(ETCD_PLAN)
    (rule,) = [r for g in groups for r in g["rules"] if r["alert"] == "MilvusEtcdQuorumLost"]
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    series = [{"series": f'etcd_server_has_leader{{namespace="{ETCD_PLAN.namespace}", pod="{pod}", job="etcd"}}',
               "values": f"{value:g}x10"} for pod, value in observed.items()]
    results = {}
    for name, expected in (("fires", [{"exp_labels": rule["labels"], "exp_annotations": rule["annotations"]}]),
                           ("quiet", [])):
        test = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": [{
            "interval": "1m", "input_series": series,
            "alert_rule_test": [{"eval_time": "5m", "alertname": "MilvusEtcdQuorumLost", "exp_alerts": expected}],
        }]}
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(test))
        results[name] = promtool("test", "rules", f"{name}.yaml", cwd=tmp_path).returncode == 0
    assert results["fires"] != results["quiet"], "promtool must accept exactly one of the two expectations"
    return results["fires"]


@needs_promtool
def test_quorum_alert_on_a_real_etcd(etcd, tmp_path):
    healthy = _has_leader(etcd)
    assert healthy == dict.fromkeys(healthy, 1.0) and len(healthy) == 3
    assert not _quorum_alert_fires(healthy, tmp_path / "healthy")
    # One member lost: two still see a leader, quorum holds.
    etcd.stop(etcd.members[2])
    etcd.wait_healthy(etcd.members[:2])
    one_lost = _has_leader(etcd)
    assert sum(one_lost.values()) == 2
    assert not _quorum_alert_fires(one_lost, tmp_path / "one-lost")
    # Two lost: the survivor loses its leader after an election timeout (2.5 s) and says so.
    etcd.stop(etcd.members[1])
    deadline = time.monotonic() + 20
    while (survivor := _has_leader(etcd)) and sum(survivor.values()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert survivor == {f"{etcd_statefulset(mon.release_shape(ETCD_PLAN)[0].name)}-0": 0.0}
    assert _quorum_alert_fires(survivor, tmp_path / "quorum-lost")


@needs_promtool
def test_quorum_alert_fires_when_no_member_is_scraped(tmp_path):
    # Every target gone (or metrics unreachable): no series at all still alerts.
    assert _quorum_alert_fires({}, tmp_path)

