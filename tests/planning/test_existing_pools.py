"""existingCluster.nodePools: the team's labelled node pools stand in for the plan's, decided in plan.py."""

import pytest

from milvus_zones.planning.plan import POOL_LABEL, ROLE_LABEL, plan
from milvus_zones.planning.spec import DeploymentSpec, SpecError
from milvus_zones.planning.stackconfig import spec_from_settings

H, I, J = "cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"
SWITCHES = {H: "vsw-bp1h00000001", I: "vsw-bp1i00000001", J: "vsw-bp1j00000001"}
NP = "np0123456789abcdef"


def spec(mode="multi-zone-ha", pools=None, switches=None, **kw):
    zones = [H] if mode == "single-zone" else [H, I, J]
    kw.setdefault("compute_node_count", 4)
    return DeploymentSpec(
        mode=mode, region="cn-hangzhou", zones=zones, bucket_name="acme-milvus",
        existing_vpc={"vpcId": "vpc-bp1team0001", "nodeVswitches": SWITCHES if switches is None else switches},
        existing_cluster={"clusterId": "c0123456789abcdef", "nodePools": pools or {}}, **kw)


def problems(**kw):
    with pytest.raises(SpecError) as e:
        plan(spec(**kw))
    return e.value.problems


def test_named_pools_keep_the_plans_zones_labels_and_size_with_the_users_instance_type():
    p = plan(spec(pools={"compute-h": {"poolId": NP + "01", "instanceType": "ecs.g7.4xlarge"},
                         "quorum-j": {"poolId": NP + "02", "instanceType": "ecs.g7.xlarge"}}))
    h, j = p.pool("compute-h"), p.pool("quorum-j")
    assert (h.existing_id, h.instance_type, h.zones, h.desired_size) == (NP + "01", "ecs.g7.4xlarge", (H,), 2)
    assert h.labels == {ROLE_LABEL: "compute", POOL_LABEL: "compute-h"}
    assert (j.existing_id, j.instance_type, [t.key for t in j.taints]) == (NP + "02", "ecs.g7.xlarge", [ROLE_LABEL])
    # Pools left out are created as before.
    assert p.pool("compute-i").existing_id is None and p.pool("compute-i").instance_type == "ecs.g7.2xlarge"
    # Workloads are sized to the user's instance type: the bigger type leaves more to zone h's query nodes.
    created = plan(spec())
    load = {pool.pool: pool for pool in p.sizing.pools}
    assert load["compute-h"].instance_type == "ecs.g7.4xlarge"
    assert {pool.pool: pool.instance_type for pool in created.sizing.pools}["compute-h"] == "ecs.g7.2xlarge"


def test_an_unknown_pool_key_names_the_setting_and_the_pools_of_the_mode():
    (key, message), = problems(pools={"compute-j": {"poolId": NP, "instanceType": "ecs.g7.2xlarge"}})
    assert key == "existingCluster.nodePools.compute-j"
    assert "not a pool mode multi-zone-ha plans" in message
    assert "quorum-h, quorum-i, quorum-j, compute-h, compute-i" in message


def test_basic_mode_names_its_one_compute_pool_over_two_zones():
    (key, message), = problems(mode="multi-zone-basic", compute_node_count=2,
                               pools={"compute-h": {"poolId": NP, "instanceType": "ecs.g7.2xlarge"}})
    assert key == "existingCluster.nodePools.compute-h" and "compute-hi" in message
    p = plan(spec(mode="multi-zone-basic", compute_node_count=2,
                  pools={"compute-hi": {"poolId": NP, "instanceType": "ecs.g7.2xlarge"}}))
    assert p.pool("compute-hi").zones == (H, I) and p.pool("compute-hi").max_size == 4


def test_a_named_pool_needs_its_zones_node_vswitch_given():
    (key, message), = problems(switches={H: SWITCHES[H]},
                               pools={"quorum-j": {"poolId": NP, "instanceType": "ecs.g7.large"}})
    assert key == "existingCluster.nodePools.quorum-j"
    assert "existingVpc.nodeVswitches" in message and "cn-hangzhou-j missing" in message


@pytest.mark.parametrize(("pool", "fragment"), [
    ({"poolId": "pool-1", "instanceType": "ecs.g7.2xlarge"}, "is not an ACK node pool id"),
    ({"poolId": NP, "instanceType": "ecs.zz9.2xlarge"}, "is not in the instance catalog"),
    ({"poolId": NP}, "instanceType"),
])
def test_a_malformed_pool_is_refused_naming_it(pool, fragment):
    settings = {"mode": "multi-zone-ha", "region": "cn-hangzhou", "zones": [H, I, J], "bucketName": "acme-milvus",
                "existingVpc": {"vpcId": "vpc-bp1team0001", "nodeVswitches": SWITCHES},
                "existingCluster": {"clusterId": "c0123456789abcdef", "nodePools": {"compute-h": pool}}}
    with pytest.raises(SpecError) as e:
        spec_from_settings(settings)
    (key, message), = e.value.problems
    assert key.startswith("existingCluster.nodePools.compute-h") and fragment in f"{key}: {message}"


def test_one_node_pool_for_one_plan_pool():
    with pytest.raises(Exception, match="the same poolId is given for two pools"):
        spec(pools={"compute-h": {"poolId": NP, "instanceType": "ecs.g7.2xlarge"},
                    "compute-i": {"poolId": NP, "instanceType": "ecs.g7.2xlarge"}})


def test_a_type_too_small_for_the_workloads_names_the_pools_setting():
    (key, message), = problems(pools={"compute-h": {"poolId": NP, "instanceType": "ecs.g7.large"}})
    assert key == "existingCluster.nodePools.compute-h.instanceType"
    assert "ecs.g7.large" in message
