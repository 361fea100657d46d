"""Sizing from the plan: allocatable per ECS type, shares per pool, refusals that name the setting."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from milvus_zones.planning.catalog import INSTANCE_TYPES, InstanceType
from milvus_zones.planning.plan import Role, plan, plan_cross_region
from milvus_zones.planning.sizing import (
    COMPONENTS,
    FAILOVER,
    JOB,
    JOB_PODS,
    PULSAR_INIT_PODS,
    Resources,
    allocatable,
    parse_cpu,
    parse_memory,
)
from milvus_zones.planning.spec import DeploymentSpec, MessageService, Mode, SpecError
from milvus_zones.planning.stackconfig import spec_from_config

ROOT = Path(__file__).resolve().parents[2]
ZONES = ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]


def _spec(**kw) -> DeploymentSpec:
    base = {"mode": Mode.MULTI_ZONE_HA, "region": "cn-hangzhou", "zones": ZONES, "bucket_name": "mz-test-bucket"}
    return DeploymentSpec(**{**base, **kw})


def test_allocatable_never_exceeds_acks_own_example():
    # ACK "Resource reservation policy": a 4-vCPU 8 GiB node, Allocatable cpu 3900m, memory 5824732Ki.
    node = allocatable(InstanceType(4, 8))
    assert node.cpu_m <= 3900 and node.memory_mi <= 5824732 // 1024


def test_allocatable_grows_with_the_type_and_stays_below_it():
    sizes = sorted(INSTANCE_TYPES.values(), key=lambda i: (i.vcpu, i.memory_gib))
    for i in sizes:
        a = allocatable(i)
        assert 0 < a.cpu_m < i.vcpu * 1000 and 0 < a.memory_mi < i.memory_gib * 1024
    assert allocatable(INSTANCE_TYPES["ecs.g7.8xlarge"]) > allocatable(INSTANCE_TYPES["ecs.g7.2xlarge"])


def _fits(p) -> None:
    """Recompute each pool's busiest node from the plan's sizes: never above allocatable."""
    for load in p.sizing.pools:
        assert load.busiest_node.fits(load.allocatable), load


@pytest.mark.parametrize("mode", list(Mode)[:3])
@pytest.mark.parametrize("mq", list(MessageService))
def test_every_mode_is_sized_and_fits(mode, mq):
    spec = _spec(mode=mode, zones=ZONES[:1] if mode is Mode.SINGLE_ZONE else ZONES, message_service=mq,
                 compute_node_count=4, milvus_version="2.6")
    p = plan(spec)
    _fits(p)
    names = {c.name for c in p.components} | ({"queryNode", "streamingNode"} if p.resource_groups else set())
    assert names <= set(p.sizing.components)
    assert "etcd" in p.sizing.components
    if mq is MessageService.PULSAR:
        assert {"pulsar.bookkeeper", "pulsar.broker", "pulsar.zookeeper"} <= set(p.sizing.components)
    # Query nodes get the largest share of a compute node.
    q = p.sizing.of("queryNode")
    assert all(q.memory_mi >= r.memory_mi for n, r in p.sizing.components.items() if n != "etcd")


def test_ha_sizes_each_zone_for_the_other_zones_loss():
    p = plan(_spec(compute_node_count=4))
    for load in p.sizing.pools:
        if load.pool.startswith("compute-"):
            pods = dict(load.pods)
            assert load.case == "zone loss"
            # Its own group's query nodes, and every proxy / coordinator / data node of both zones.
            assert pods["queryNode"] == 2 and pods["proxy"] == 2 and pods["mixCoordinator"] == 2 and pods["dataNode"] == 2


@pytest.mark.parametrize("mode", list(Mode)[:3])
def test_the_proxies_pools_keep_room_for_our_jobs(mode):
    # Our Jobs (backup, restore, ScriptJobs) run on the proxies' node selector: after Milvus' requests,
    # in the case each pool is sized for (a zone loss in the HA modes), JOB_PODS of them still fit.
    spec = _spec(mode=mode, zones=ZONES[:1] if mode is Mode.SINGLE_ZONE else ZONES, milvus_version="2.6")
    p = plan(spec)
    selector = p.component("proxy").node_selector.items()
    pools = {pool.key: pool for pool in p.pools(Role.COMPUTE)}
    job_pools = [load for load in p.sizing.pools if load.pool in pools and selector <= pools[load.pool].labels.items()]
    assert job_pools and len(job_pools) == len(pools)
    for load in job_pools:
        milvus = Resources(0, 0)
        for name, count in load.pods:
            milvus = milvus + Resources(p.sizing.of(name).cpu_m * count, p.sizing.of(name).memory_mi * count)
        free = Resources(load.allocatable.cpu_m * load.nodes - milvus.cpu_m,
                         load.allocatable.memory_mi * load.nodes - milvus.memory_mi)
        room = Resources(JOB.cpu_m * JOB_PODS, JOB.memory_mi * JOB_PODS)
        assert room.fits(free), (load.pool, free)
        assert load.reserved == room
    # Where the proxies do not run (quorum pools) nothing is reserved for the Jobs.
    quorum = {pool.key for pool in p.pools(Role.QUORUM)}
    assert all(load.reserved in (Resources(0, 0), FAILOVER) for load in p.sizing.pools if load.pool in quorum)


@pytest.mark.parametrize("mq", [MessageService.PULSAR, MessageService.KAFKA])
def test_quorum_pools_keep_room_for_pulsars_init_jobs(mq):
    # Pulsar's bookie-init and pulsar-init Jobs run at once on the quorum pools at install: every
    # quorum pool keeps room for both after its members' requests; other message services keep none.
    p = plan(_spec(mode=Mode.MULTI_ZONE_BASIC, milvus_version="2.5", message_service=mq))
    quorum = {pool.key for pool in p.pools(Role.QUORUM)}
    loads = [load for load in p.sizing.pools if load.pool in quorum]
    assert loads
    room = Resources(JOB.cpu_m * PULSAR_INIT_PODS, JOB.memory_mi * PULSAR_INIT_PODS)
    for load in loads:
        assert load.reserved == (room if mq is MessageService.PULSAR else Resources(0, 0)), load.pool
        assert load.busiest_node.fits(load.allocatable), load.pool


def test_a_pool_too_small_for_the_survivor_is_refused_naming_the_setting():
    with pytest.raises(SpecError) as e:
        plan(_spec(compute_instance_type="ecs.c7.large"))
    (key, message), = e.value.problems
    assert key == "computeInstanceType"
    assert "ecs.c7.large" in message and "other zone's loss" in message and "larger types:" in message


def test_pulsar_on_a_small_quorum_type_is_refused():
    with pytest.raises(SpecError) as e:
        plan(_spec(message_service=MessageService.PULSAR, quorum_instance_type="ecs.g7.large"))
    assert e.value.problems[0][0] == "quorumInstanceType"
    # auto picks a type where Pulsar's members fit beside etcd.
    p = plan(_spec(message_service=MessageService.PULSAR))
    assert {pool.instance_type for pool in p.pools(Role.QUORUM)} == {"ecs.g7.xlarge"}
    _fits(p)


def test_overrides_are_used_and_still_have_to_fit():
    p = plan(_spec(resources={"queryNode": {"cpu": "3.5", "memory": "16Gi"}, "proxy": {"cpu": "500m", "memory": "1Gi"}}))
    assert p.sizing.of("queryNode") == Resources(3500, 16384)
    assert p.sizing.of("proxy") == Resources(500, 1024)
    _fits(p)
    with pytest.raises(SpecError) as e:
        plan(_spec(resources={"queryNode": {"cpu": "7", "memory": "26Gi"}}))
    assert e.value.problems[0][0] == "resources.queryNode"


@pytest.mark.parametrize(("resources", "needle"), [
    ({"querynode": {"cpu": "1", "memory": "1Gi"}}, "allowed: " + ", ".join(COMPONENTS)),
    ({"queryNode": {"cpu": "lots", "memory": "1Gi"}}, "500m, 2 or 1.5"),
    ({"queryNode": {"cpu": "1", "memory": "1GB"}}, "512Mi, 8Gi or 1Ti"),
    ({"queryNode": {"cpu": "1"}}, "required"),
])
def test_bad_overrides_are_refused_with_the_allowed_values(resources, needle):
    config = {"milvus-zones:mode": "single-zone", "milvus-zones:region": "cn-hangzhou",
              "milvus-zones:zones": json.dumps(ZONES[:1]), "milvus-zones:bucketName": "mz-test-bucket",
              "milvus-zones:resources": json.dumps(resources)}
    with pytest.raises(SpecError) as e:
        spec_from_config(config)
    (key, message), = e.value.problems
    assert key.startswith("resources") and needle in message


def test_unknown_instance_types_are_refused():
    with pytest.raises(SpecError) as e:
        spec_from_config({"milvus-zones:mode": "single-zone", "milvus-zones:region": "cn-hangzhou",
                          "milvus-zones:zones": json.dumps(ZONES[:1]), "milvus-zones:bucketName": "mz-test-bucket",
                          "milvus-zones:computeInstanceType": "ecs.g7.huge"})
    (key, message), = e.value.problems
    assert key == "computeInstanceType" and "ecs.g7.2xlarge" in message


def test_quantities():
    assert parse_cpu("500m") == 500 and parse_cpu("2") == 2000 and parse_cpu("1.5") == 1500
    assert parse_memory("512Mi") == 512 and parse_memory("8Gi") == 8192
    for bad in ("-1", "1e3", "5m"):
        with pytest.raises(ValueError):
            parse_cpu(bad)


def _table() -> dict[str, dict[str, str]]:
    text = (ROOT / "docs" / "hardening.md").read_text()
    section = text.split("## Sizing table per mode", 1)[1].split("\n## ", 1)[0]
    rows = [r.strip().strip("|").split("|") for r in section.splitlines() if r.startswith("| ") and "---" not in r]
    header = [h.strip() for h in rows[0]]
    return {cells[0].strip(): dict(zip(header[1:], (c.strip() for c in cells[1:]), strict=True)) for cells in rows[1:]}


def test_the_documented_sizing_table_is_what_the_stacks_get():
    table = _table()
    columns = {"single-zone": "single-zone", "multi-zone-basic": "multi-zone-basic",
               "multi-zone-ha": "multi-zone-ha", "cross-region-ha": "cross-region-ha (each region)"}
    for stack, column in columns.items():
        raw = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
        spec = spec_from_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()})
        p = plan_cross_region(spec).regions[0] if spec.mode is Mode.CROSS_REGION_HA else plan(spec)
        for component in ("queryNode", "streamingNode", "dataNode", "mixCoordinator", "proxy", "etcd", "cdc"):
            cell = table[component][column]
            if component not in p.sizing.components:
                assert cell == "–", (stack, component)
                continue
            r = p.sizing.of(component)
            assert cell == f"{r.cpu_m}m / {r.memory_mi}Mi", (stack, component, cell)
        compute = next(load for load in p.sizing.pools if load.pool.startswith("compute-"))
        r = compute.reserved
        assert table["reserved per compute pool for our Jobs"][column].startswith(f"{r.cpu_m}m / {r.memory_mi}Mi")
        a = compute.allocatable
        assert table["allocatable per compute node"][column] == f"{a.cpu_m}m / {a.memory_mi}Mi"
        assert re.search(rf"{compute.nodes} {compute.instance_type}", table["compute pool(s)"][column])
