"""Milvus deployed with helm.v3.Chart and helm.v4.Chart: recognised from the rendered objects and held to
the rules a helm.v3.Release is held to (tests/programs/milvus-on-ack, `deployWith`)."""

from __future__ import annotations

import pytest
from support.policytest import check, graph, messages, violated
from support.render import needs_charts

pytestmark = needs_charts


def _views(report):
    return sorted((v.policy, v.resource_name) for v in report.violations)


@pytest.mark.parametrize("stack", ["ha-chart-v3", "ha-chart-v4"])
def test_a_chart_deployment_passes_as_the_release_does(stack):
    g = graph(stack)
    kinds = {r.type for r in g.resources}
    assert "kubernetes:apps/v1:Deployment" in kinds and "kubernetes:apps/v1:StatefulSet" in kinds  # rendered
    assert "kubernetes:helm.sh/v3:Release" not in kinds
    report = check(g)
    assert not report.violations
    from milvus_zones_policies.model.deployment import Topology
    from milvus_zones_policies.model.resources import from_graph

    (rel,) = Topology(from_graph(g)).releases
    assert rel.labels() == {"milvus-zones/mode": "multi-zone-ha"}  # the declaration, from the pods' labels
    assert rel.milvus_version()[0] == (2, 6, 15)  # the rendered image, milvusdb/milvus:v2.6.15
    assert rel.component("queryNode", []).replicas == 2 and rel.etcd_replicas == 3


def test_rendered_etcd_with_a_soft_spread_violates_like_the_release():
    report = check(graph("ha-chart-v3-soft-etcd"))
    assert violated(report) == {"metadata-spans-three-zones"}
    assert "soft" in messages(report, "metadata-spans-three-zones")[0]
    assert report.violations[0].resource_name == "milvus"  # the Chart component


def test_an_odd_ha_compute_count_under_a_v4_chart_violates_like_the_release():
    assert _views(check(graph("ha-chart-v4-odd-compute"))) == _views(check(graph("ha-odd-compute")))
    assert violated(check(graph("ha-chart-v4-odd-compute"))) == {"ha-compute-node-count-even",
                                                                  "ha-compute-zones-symmetric"}


def test_kafka_rendered_in_the_chart_is_judged_like_the_releases():
    from milvus_zones_policies.model.deployment import Topology
    from milvus_zones_policies.model.resources import from_graph
    from support.policytest import edited

    g = graph("ha-chart-v3-kafka")
    (rel,) = Topology(from_graph(g)).releases
    assert rel.message_service() == "kafka" and rel.get("kafka", "replicaCount") == 3
    assert not check(g).violations
    one = edited(g, "milvus/milvus-kafka", lambda p: p["spec"].__setitem__("replicas", 1), "StatefulSet")
    assert any("kafka has 1 replica(s)" in m for m in messages(check(one), "message-service-spans-three-zones"))


# -- Pulsar inside the Milvus chart: the apache subchart labels its objects app/release/component -------------

_ZONE = "topology.kubernetes.io/zone"


def _pulsar_values(key: str, spread_key: str = _ZONE) -> dict:
    member = {"replicaCount": 3, "nodeSelector": {"workload": "quorum"},
              "affinity": {"anti_affinity": True, "anti_affinity_topology_key": spread_key,
                           "type": "requiredDuringSchedulingIgnoredDuringExecution"}}
    other = "pulsar" if key == "pulsarv3" else "pulsarv3"
    return {key: {"enabled": True, "zookeeper": member, "bookkeeper": member, "broker": member},
            other: {"enabled": False}, "streaming": {"enabled": False}}


def _as_resources(docs: list[dict]):
    """Rendered objects as pulumi-policy hands a Chart's children to a stack policy."""
    from types import SimpleNamespace

    from milvus_zones_policies.model.resources import _options
    from pulumi_policy import PolicyResource

    out = []
    for d in docs:
        group, _, version = d["apiVersion"].rpartition("/")
        type_ = f"kubernetes:{group or 'core'}/{version}:{d['kind']}"
        name = d["metadata"]["name"]
        out.append(PolicyResource(type_, d, f"urn:pulumi:t::p::{type_}::{name}", name,
                                  _options(SimpleNamespace()), None, None, [], {}))
    return out


def _summary(pulsar):
    return [(p.part, p.replicas, p.one_per_zone[0], p.at_most_one_per_zone, p.block.get("nodeSelector"))
            for p in pulsar.parts], pulsar.write_quorum, pulsar.ack_quorum


@pytest.mark.parametrize("version,key,one_per_zone", [
    ("5.0.19", "pulsarv3", True), ("4.2.58", "pulsarv3", True),
    ("4.2.25", "pulsar", False),  # pulsar 2.7.8 has no topology key: its anti-affinity is always per host
])
def test_pulsar_rendered_by_each_chart_is_the_pulsar_its_values_describe(version, key, one_per_zone):
    from milvus_zones_policies.model.deployment import Topology
    from pulumi_policy import PolicyResource
    from support.render import render

    values = _pulsar_values(key)
    topology = Topology(_as_resources(render(version, values, "milvus", post=False)))
    (rel,) = topology.releases
    assert rel.message_service() == key  # not externalPulsar: the StatefulSets belong to the release
    rendered = topology.pulsar_of(rel, key)
    assert rendered is not None and rendered.source == "chart" and rendered.res is rel.res
    release = PolicyResource("kubernetes:helm.sh/v3:Release", {"chart": "milvus", "version": version, "name": "milvus",
                                                              "namespace": "milvus", "values": values},
                             "urn:pulumi:t::p::kubernetes:helm.sh/v3:Release::milvus", "milvus", None, None, None, [], {})
    (from_values,) = Topology([release]).releases
    assert _summary(rendered) == _summary(Topology([release]).pulsar_of(from_values, key))
    assert _summary(rendered) == ([(p, 3, one_per_zone, one_per_zone, {"workload": "quorum"})
                                   for p in ("zookeeper", "bookkeeper", "broker")], 2, 2)


def test_pulsar_rendered_in_a_v3_chart_is_judged_like_the_releases():
    from milvus_zones_policies.model.deployment import Topology
    from milvus_zones_policies.model.resources import from_graph
    from support.policytest import edited

    g = graph("ha-chart-v3-pulsar")
    topology = Topology(from_graph(g))
    (rel,) = topology.releases
    assert rel.message_services() == ["pulsarv3"]
    assert not violated(check(g), None)
    one = edited(g, "milvus/milvus-pulsarv3-bookie", lambda p: p["spec"].__setitem__("replicas", 1), "StatefulSet")
    assert messages(check(one), "message-service-spans-three-zones") == [
        "Milvus release milvus: pulsarv3.bookkeeper has 1 replica(s); use at least 3."]


def test_pulsar_held_apart_by_host_under_a_v4_chart_violates_like_the_release():
    report = check(graph("ha-chart-v4-pulsar-by-host"))
    assert violated(report, None) == {"message-service-spans-three-zones", "ha-failover-within-rto"}
    msgs = messages(report, "message-service-spans-three-zones")
    assert [m.split(" is not held")[0] for m in msgs] == [
        f"Milvus release milvus: pulsarv3.{p}" for p in ("zookeeper", "bookkeeper", "broker")]
    assert {v.resource_name for v in report.violations} == {"milvus"}  # the Chart component
    assert all("pulsar loses its write quorum" in m for m in messages(report, "ha-failover-within-rto"))
