"""Stacks other than the shipped three: HA on Milvus 2.5 (two releases), Kafka, a custom address plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from support.graphs import NODE_POOL, RELEASE, pool_zones, pools, switch_zones

from milvus_zones.engine.offline import run_program
from milvus_zones.engine.stacks import resolve_stack

PROJECT_DIR = Path(__file__).resolve().parents[2]

HA = PROJECT_DIR / "stacks" / "Pulumi.multi-zone-ha.yaml"


def run_edited(tmp_path: Path, **changes):
    data = yaml.safe_load(HA.read_text())
    data["config"].update({f"milvus-zones:{k}": v for k, v in changes.items()})
    path = tmp_path / "Pulumi.variant.yaml"
    path.write_text(yaml.safe_dump(data))
    return run_program(PROJECT_DIR, resolve_stack(str(path)))


@pytest.fixture(scope="module")
def ha25(tmp_path_factory):
    return run_edited(tmp_path_factory.mktemp("ha25"), milvusVersion="2.5")


def test_ha_on_25_is_two_releases_one_per_compute_zone(ha25):
    releases = ha25.of_type(RELEASE)
    assert [r.inputs["version"] for r in releases] == ["4.2.58", "4.2.58"]
    zones = []
    for r in releases:
        selector = r.inputs["values"]["queryNode"]["nodeSelector"]
        (pool,) = [p for p in pools(ha25, "compute")
                   if {l["key"]: l["value"] for l in p.inputs["labels"]}.get("milvus-zones/pool") == selector["milvus-zones/pool"]]
        zones += pool_zones(ha25, pool)
    assert zones == ["cn-hangzhou-h", "cn-hangzhou-i"]
    primary, standby = releases
    assert primary.urn in standby.dependencies  # the standby joins a cluster whose etcd the primary runs


def test_ha_on_25_runs_the_resource_group_job_after_both_releases(ha25):
    (job,) = ha25.of_type("kubernetes:batch/v1:Job")
    release_urns = {r.urn for r in ha25.of_type(RELEASE)}
    assert release_urns <= set(job.dependencies)
    env = {e["name"]: e for e in job.inputs["spec"]["template"]["spec"]["containers"][0]["env"]}
    groups = json.loads(env["RESOURCE_GROUPS"]["value"])
    assert {g: c["node_filter"]["node_labels"]["AZ"] for g, c in groups.items()} == {
        "rgh": "cn-hangzhou-h", "rgi": "cn-hangzhou-i"}
    assert env["MILVUS_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "milvus-root-password"
    assert "value" not in env["MILVUS_PASSWORD"]


def test_ha_on_26_needs_no_job():
    from support.graphs import graph_of

    assert graph_of("multi-zone-ha").of_type("kubernetes:batch/v1:Job") == []


def test_custom_cidrs_reach_the_vswitches(tmp_path):
    g = run_edited(tmp_path, network={"vpcCidr": "192.168.0.0/16", "nodeCidrs": ["192.168.0.0/22", "192.168.4.0/22", "192.168.8.0/22"]})
    nodes = sorted(s.inputs["cidrBlock"] for s in g.of_type("alicloud:vpc/switch:Switch") if "-node-" in s.name)
    assert nodes == ["192.168.0.0/22", "192.168.4.0/22", "192.168.8.0/22"]
    (cluster,) = g.of_type("alicloud:cs/managedKubernetes:ManagedKubernetes")
    assert switch_zones(g, cluster.inputs["vswitchIds"]) == ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]


def test_kafka_on_25_puts_brokers_on_the_quorum_pools(tmp_path):
    g = run_edited(tmp_path, milvusVersion="2.5", messageService="kafka", computeNodeCount=2)
    values = g.of_type(RELEASE)[0].inputs["values"]
    assert values["kafka"]["enabled"] is True and values["kafka"]["replicaCount"] == 3
    assert values["kafka"]["nodeSelector"] == {"milvus-zones/role": "quorum"}
    assert len(g.of_type(NODE_POOL)) == 5
