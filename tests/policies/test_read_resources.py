"""Resources read with `Resource.get` (external) are never handed to the pack, as under `pulumi preview`
(the engine keeps reads out of Analyze and AnalyzeStack: docs/policies.md cites its source); what the
policies need from them comes in the pack config's `externalResources`, which `milvus-zones check`
builds from the stack's plan and `milvus-zones policy-config` writes for `pulumi preview`."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from milvus_zones_policies._policy import stack_policy
from milvus_zones_policies.model.external import problems, with_external
from milvus_zones_policies.zones import compute_zone_count
from pulumi_policy import EnforcementLevel, StackValidationArgs
from support.policytest import PROGRAMS, REPO, _run, check, external_resources, violated

from milvus_zones.analysis import policy_facts
from milvus_zones.analysis.check import check_graph
from milvus_zones.engine.offline import ProgramError

NODE_POOL = "alicloud:cs/nodePool:NodePool"
VSWITCH = "alicloud:vpc/switch:Switch"
CLUSTER = "alicloud:cs/managedKubernetes:ManagedKubernetes"
EXISTING = ["existing-vpc", "existing-pools", "existing-cluster"]
TEAM = PROGRAMS / "team-embed"


def stack(name: str) -> Path:
    return REPO / "stacks" / f"Pulumi.{name}.yaml"


def graph(name: str):
    return _run(REPO.resolve(), stack(name).resolve(), False)


def test_the_pack_never_sees_a_read():
    g = graph("existing-pools")
    reads = {r.urn for r in g.resources if r.external}
    assert reads
    seen: list[set[str]] = []

    @stack_policy(name="probe", description="the resources the pack gets", level=EnforcementLevel.ADVISORY,
                  remediation="", tags=[])
    def probe(args, report, topology):
        seen.append({r.urn for r in args.resources})

    check(g, policies=[probe])
    assert seen and not seen[0] & reads


def test_a_read_is_not_analyzed_by_resource_policies():
    # The engine runs no analyzer on a read step: the pool's disks are the program's check at deploy time.
    g = copy.deepcopy(graph("existing-pools"))
    read = next(r for r in g.resources if r.type == NODE_POOL and r.external)
    read.outputs_wire["systemDiskEncrypted"] = False
    read.inputs_wire["systemDiskEncrypted"] = False
    report = check_graph(g, external_resources=external_resources(REPO, stack("existing-pools")))
    assert not [v for v in report.violations if v.urn == read.urn]
    assert not [n for n in report.not_applicable if n.urn == read.urn]


@pytest.mark.parametrize("name", EXISTING)
def test_our_existing_stacks_pass_with_the_facts_their_plan_gives(name):
    facts = external_resources(REPO, stack(name))
    assert facts["vswitches"]
    report = check_graph(graph(name), external_resources=facts)
    assert not report.mandatory_violations, [(v.policy, v.message) for v in report.mandatory_violations]


@pytest.mark.parametrize("name", EXISTING)
def test_without_the_facts_they_fail_naming_external_resources(name):
    report = check_graph(graph(name))
    assert report.mandatory_violations
    assert any("externalResources" in v.message for v in report.mandatory_violations), \
        [(v.policy, v.message) for v in report.mandatory_violations]


def test_a_read_id_listed_next_to_an_unknown_one_is_linked_in_its_place():
    # At a real preview a read's id is known (the engine reads it then) while a vSwitch being created has
    # none yet: the cluster lists [read h, read i, unknown j] and depends on j's Switch only.
    from pulumi_policy import PolicyResource
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

    j = PolicyResource(VSWITCH, unknown_checking_proxy({"zoneId": "cn-hangzhou-j"}), "urn:j", "node-j", None, None,
                       None, [], {})
    props = unknown_checking_proxy({"vswitchIds": ["vsw-h", "vsw-i", UNKNOWN_STRING_VALUE]})
    cluster = PolicyResource(CLUSTER, props, "urn:c", "ack", None, None, None, [], {"vswitchIds": [j]})
    facts = {"vswitches": {"vsw-h": {"zoneId": "cn-hangzhou-h"}, "vsw-i": {"zoneId": "cn-hangzhou-i"}}}
    with_external([cluster, j], facts)
    assert [d.props["zoneId"] for d in cluster.property_dependencies["vswitchIds"]] == [
        "cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]
    from milvus_zones_policies.model.deployment import cluster_zones

    zones, problems_, _ = cluster_zones(cluster)
    assert zones == {"cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"} and not problems_


def test_a_pool_whose_vswitch_is_in_another_zone_gets_the_zone_violation():
    facts = external_resources(REPO, stack("existing-pools"))
    compute_h = next(i for i, p in facts["nodePools"].items() if {"key": "milvus-zones/pool", "value": "compute-h"}
                     in p["labels"])
    facts["nodePools"][compute_h]["vswitchIds"] = ["vsw-bp1poolsi000000001"]  # zone i's
    report = check_graph(graph("existing-pools"), external_resources=facts)
    assert "compute-zone-count" in violated(report), [(v.policy, v.message) for v in report.violations]


def test_a_vswitch_declared_in_another_zone_moves_its_pools():
    facts = external_resources(REPO, stack("existing-vpc"))
    facts["vswitches"]["vsw-bp1nodeh0000000001"]["zoneId"] = "cn-hangzhou-i"
    report = check_graph(graph("existing-vpc"), external_resources=facts)
    assert {"compute-zone-count", "control-plane-multi-zone"} <= violated(report)


def test_pools_of_the_plan_carry_what_the_program_checks():
    facts = external_resources(REPO, stack("existing-pools"))
    pools = {next(lbl["value"] for lbl in p["labels"] if lbl["key"] == "milvus-zones/pool"): p
             for p in facts["nodePools"].values()}
    assert set(pools) == {"compute-h", "compute-i", "quorum-h", "quorum-i"}
    assert pools["quorum-h"]["taints"] == [{"key": "milvus-zones/role", "value": "quorum", "effect": "NoSchedule"}]
    assert pools["quorum-h"]["vswitchIds"] == ["vsw-bp1poolsh000000001"]
    assert pools["compute-h"]["instanceTypes"] == ["ecs.g7.2xlarge"]
    assert pools["compute-h"]["management"]["autoRepair"] is True


@pytest.mark.parametrize("name", ["existing-vpc", "existing-pools", "existing-cluster"])
def test_a_hand_written_program_passes_with_its_pack_config(tmp_path, name):
    # What its author runs: pulumi preview --policy-pack policies --policy-pack-config <file>.
    facts = json.loads((TEAM / f"external-resources.{name}.json").read_text())
    config = tmp_path / "pack.json"
    config.write_text(policy_facts.render(facts))
    g = _run(TEAM.resolve(), (TEAM / f"Pulumi.{name}.yaml").resolve(), False)
    report = check_graph(g, config)
    assert not report.mandatory_violations, [(v.policy, v.message) for v in report.mandatory_violations]
    assert violated(check_graph(g))  # and fails without it


@pytest.mark.parametrize("facts,expected", [
    ({"vswitches": {"vsw-1": {}}}, "externalResources.vswitches.vsw-1 needs zoneId"),
    ({"vswitches": {"vsw-1": {"zoneId": 3}}}, "externalResources.vswitches.vsw-1.zoneId must be of type string"),
    ({"subnets": {}}, "externalResources has no key 'subnets'"),
    ({"nodePools": {"np-1": {"labels": "a=b"}}}, "externalResources.nodePools.np-1.labels must be of type array"),
    ({"nodePools": {"np-1": {"size": 3}}}, "externalResources.nodePools.np-1 has no field 'size'"),
])
def test_bad_facts_are_one_clear_message(facts, expected):
    assert any(expected in p for p in problems(facts)), problems(facts)
    with pytest.raises(ProgramError, match="externalResources"):
        check_graph(graph("existing-vpc"), external_resources=facts)
    # and the pack itself, should a run skip the schema: one violation naming the setting
    found: list[str] = []
    args = StackValidationArgs([], {"externalResources": facts}, {})
    compute_zone_count.validate(args, lambda message, urn=None: found.append(message))
    assert len(found) == 1 and expected in found[0]


def test_declared_resources_link_in_the_order_they_are_listed():
    from pulumi_policy import PolicyResource

    pool = PolicyResource(NODE_POOL, {"vswitchIds": ["vsw-b", "vsw-a"]}, "urn:pool", "pool", None, None, None, [], {})
    out = with_external([pool], {"vswitches": {"vsw-a": {"zoneId": "z-a"}, "vsw-b": {"zoneId": "z-b"}}})
    assert [d.props["zoneId"] for d in out[0].property_dependencies["vswitchIds"]] == ["z-b", "z-a"]


def test_the_user_s_own_entries_win(tmp_path):
    user = tmp_path / "mine.json"
    user.write_text(json.dumps({"compute-zone-count": "advisory", "control-plane-multi-zone": {
        "externalResources": {"vswitches": {"vsw-bp1nodeh0000000001": {"zoneId": "cn-hangzhou-i"}}}}}))
    report = check_graph(graph("existing-vpc"), user, external_resources=external_resources(REPO, stack("existing-vpc")))
    assert violated(report) == {"control-plane-multi-zone"}
    assert report.policy("compute-zone-count").enforcement_level == "advisory"


def test_a_stack_without_reads_gets_no_facts():
    assert external_resources(REPO, stack("multi-zone-ha")) == {}
