"""etcd's metrics-only listener, on a real 3-member etcd started the way the chart's members are
(ETCD_LISTEN_METRICS_URLS in the environment, tests/unit/conftest.py), and the quorum alert evaluated
by promtool on the values read there: what `MilvusEtcdQuorumLost` sees once the NetworkPolicies let
the monitoring namespace reach that port and nothing else."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from test_monitoring import PLANS, needs_promtool, promtool

from milvus_zones.rendering import monitoring as mon
from milvus_zones.rendering.helm_values import etcd_statefulset

PLAN = PLANS["multi-zone-ha:milvus"]


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
    pods = etcd_statefulset(mon.release_shape(PLAN)[0].name)
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
    groups = mon.rule_groups(PLAN)
    (rule,) = [r for g in groups for r in g["rules"] if r["alert"] == "MilvusEtcdQuorumLost"]
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    series = [{"series": f'etcd_server_has_leader{{namespace="{PLAN.namespace}", pod="{pod}", job="etcd"}}',
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
    assert survivor == {f"{etcd_statefulset(mon.release_shape(PLAN)[0].name)}-0": 0.0}
    assert _quorum_alert_fires(survivor, tmp_path / "quorum-lost")


@needs_promtool
def test_quorum_alert_fires_when_no_member_is_scraped(tmp_path):
    # Every target gone (or metrics unreachable): no series at all still alerts.
    assert _quorum_alert_fires({}, tmp_path)
