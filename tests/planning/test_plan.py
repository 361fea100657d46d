"""The topology planner: what goes in which zone for each mode, without Pulumi."""

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from milvus_zones.planning.plan import (
    HOST_LABEL,
    MODE_TAG,
    POOL_LABEL,
    ZONE_LABEL,
    Role,
    carve_cidrs,
    plan,
    zone_suffix,
)
from milvus_zones.planning.spec import DeploymentSpec, MessageService, Mode

H, I, J = "cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"


def spec(mode="multi-zone-ha", **kw):
    zones = [H] if mode == "single-zone" else [H, I, J]
    kw.setdefault("compute_node_count", 4)
    return DeploymentSpec(mode=mode, region="cn-hangzhou", zones=zones, bucket_name="acme-milvus", **kw)


def compute_zones(p):
    return sorted({z for pool in p.pools(Role.COMPUTE) for z in pool.zones})


def test_single_zone_puts_everything_in_its_zone():
    p = plan(spec("single-zone", compute_node_count=3))
    assert {z for pool in p.node_pools for z in pool.zones} == {H}
    assert [pool.desired_size for pool in p.pools(Role.QUORUM)] == [3]  # three etcd hosts in one zone
    assert p.etcd.spread_key == HOST_LABEL and p.etcd.replicas == 3
    assert p.compute_node_count == 3
    assert p.resource_groups == ()
    assert p.control_plane_zones == (H,)


def test_basic_has_one_compute_pool_primary_first_with_priority_relaunch():
    p = plan(spec("multi-zone-basic", compute_node_count=3))
    (pool,) = p.pools(Role.COMPUTE)
    assert pool.zones == (H, I)
    assert pool.multi_az_policy == "PRIORITY"
    assert pool.desired_size == 3
    assert sorted(z for q in p.pools(Role.QUORUM) for z in q.zones) == [H, I, J]
    assert p.etcd.zones == (H, I, J) and p.etcd.spread_key == ZONE_LABEL
    assert p.component("queryNode").replicas == 3


def test_ha_has_two_equal_compute_pools_and_one_resource_group_each():
    p = plan(spec("multi-zone-ha", compute_node_count=6))
    pools = p.pools(Role.COMPUTE)
    assert [pl.zones for pl in pools] == [(H,), (I,)]
    assert [pl.desired_size for pl in pools] == [3, 3]
    assert {pl.instance_type for pl in pools} == {"ecs.g7.2xlarge"}
    assert [(rg.name, rg.zone, rg.query_nodes) for rg in p.resource_groups] == [("rgh", H, 3), ("rgi", I, 3)]
    for rg in p.resource_groups:
        assert rg.node_selector == {POOL_LABEL: f"compute-{zone_suffix(rg.zone)}"}
        assert rg.name.isalnum() and rg.name.islower()
    assert all(c.zone_spread for c in p.components)
    assert p.component("mixCoordinator").active_standby and p.component("mixCoordinator").replicas == 2


@pytest.mark.parametrize("mode", ["multi-zone-basic", "multi-zone-ha"])
def test_multi_zone_quorum_and_control_plane_span_three_zones(mode):
    p = plan(spec(mode))
    assert p.quorum_zones == (H, I, J)
    assert p.control_plane_zones == (H, I, J)
    assert all(pool.taints for pool in p.pools(Role.QUORUM))
    assert p.message_service.zones == (H, I, J)
    assert [e.zone for e in p.egress] == [H, I, J]  # a NAT gateway per zone


def test_message_service_follows_version():
    assert plan(spec(milvus_version="2.6")).message_service.kind is MessageService.WOODPECKER
    assert plan(spec(milvus_version="2.6")).message_service.durability == "object-storage"
    mq = plan(spec(milvus_version="2.5")).message_service
    assert mq.kind is MessageService.PULSAR and mq.replicas == 3 and mq.durability == "replicated"
    assert plan(spec(milvus_version="2.5", message_service="kafka")).message_service.kind is MessageService.KAFKA


def test_mode_is_declared_in_tags():
    assert plan(spec("multi-zone-basic", tags={"team": "x"})).tags == {"team": "x", MODE_TAG: "multi-zone-basic"}


def test_carved_cidrs_are_disjoint_and_inside_the_vpc():
    nodes, pods = carve_cidrs("10.20.0.0/16", 3)
    nets = [ipaddress.ip_network(c) for c in nodes + pods]
    vpc = ipaddress.ip_network("10.20.0.0/16")
    assert all(n.subnet_of(vpc) for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])


@settings(max_examples=40, deadline=None)
@given(
    mode=st.sampled_from([m for m in Mode if m is not Mode.CROSS_REGION_HA]),
    nodes=st.integers(min_value=1, max_value=50).map(lambda n: 2 * n),
    prefix=st.integers(min_value=8, max_value=20),
)
def test_every_plan_keeps_the_mode_geometry(mode, nodes, prefix):
    vpc = str(ipaddress.ip_network(f"10.0.0.0/{prefix}"))
    p = plan(spec(mode.value, compute_node_count=nodes, network={"vpc_cidr": vpc}))
    assert p.compute_node_count == nodes
    assert len(compute_zones(p)) == (1 if mode is Mode.SINGLE_ZONE else 2)
    assert len(set(p.etcd.zones)) == (1 if mode is Mode.SINGLE_ZONE else 3)
    if mode is Mode.MULTI_ZONE_HA:
        sizes = {pl.desired_size for pl in p.pools(Role.COMPUTE)}
        assert len(sizes) == 1 and sum(rg.query_nodes for rg in p.resource_groups) == nodes
    vsw = [ipaddress.ip_network(v.cidr) for v in p.vswitches]
    assert not any(a.overlaps(b) for i, a in enumerate(vsw) for b in vsw[i + 1:])
