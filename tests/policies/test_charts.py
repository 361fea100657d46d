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
