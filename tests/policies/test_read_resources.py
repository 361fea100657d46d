"""Resources read with `Resource.get` (external): the offline check judges them by the state read and
links them to the stack's resources by the ids that state lists (a read has no property dependencies)."""

from __future__ import annotations

import copy
from pathlib import Path

from milvus_zones_policies.model.deployment import Topology
from milvus_zones_policies.model.resources import from_graph

from milvus_zones.analysis.check import check_graph
from milvus_zones.engine.offline import run_program
from milvus_zones.engine.stacks import resolve_stack

REPO = Path(__file__).resolve().parents[2]
NODE_POOL = "alicloud:cs/nodePool:NodePool"


def existing_pools():
    return run_program(REPO, resolve_stack(str(REPO / "stacks" / "Pulumi.existing-pools.yaml")))


def test_a_read_pool_is_in_the_zone_of_the_vswitch_its_state_lists():
    g = existing_pools()
    pools = {p.name: p for p in Topology.of(from_graph(g)).pools}
    assert pools["milvus-k8s-compute-h"].zone_order == ("cn-hangzhou-h",)
    assert pools["milvus-k8s-quorum-i"].zone_order == ("cn-hangzhou-i",)
    assert not pools["milvus-k8s-compute-h"].zone_problems
    report = check_graph(g)
    assert not [v for v in report.violations if v.enforcement_level == "mandatory"]


def test_a_read_pool_whose_state_is_in_another_zone_is_judged_there():
    # As if the program had not stopped: the state read lists zone i's vSwitch for compute-h.
    g = existing_pools()
    read = next(r for r in g.resources if r.type == NODE_POOL and r.external and r.name.endswith("compute-h"))
    read.outputs_wire = copy.deepcopy(read.outputs_wire)
    read.outputs_wire["vswitchIds"] = ["vsw-bp1poolsi000000001"]
    pools = {p.name: p for p in Topology.of(from_graph(g)).pools}
    assert pools["milvus-k8s-compute-h"].zone_order == ("cn-hangzhou-i",)
    report = check_graph(g)
    failed = {v.policy for v in report.violations if v.enforcement_level == "mandatory"}
    assert "compute-zone-count" in failed, [(v.policy, v.message) for v in report.violations]


def test_a_read_is_judged_by_its_state_not_by_the_hints_it_was_given():
    g = existing_pools()
    read = next(r for r in g.resources if r.type == NODE_POOL and r.external and r.name.endswith("quorum-h"))
    read.outputs_wire = copy.deepcopy(read.outputs_wire)
    read.outputs_wire["systemDiskEncrypted"] = False  # the cloud's pool, whatever the hints said
    report = check_graph(g)
    assert any(v.policy == "node-pool-disks-encrypted" and "milvus-k8s-quorum-h" in v.message for v in report.violations)
