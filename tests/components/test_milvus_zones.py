"""MilvusZones as a team uses it: settings validated like the stack config, their own providers, an
existing VPC and cluster, two instances in one program; each path planned offline and policy-checked."""

from pathlib import Path

import pytest
from milvus_zones.components.milvus_zones import MilvusZonesArgs, settings_spec
from typer.testing import CliRunner

from milvus_zones.cli import app
from milvus_zones.engine import offline
from milvus_zones.engine.offline import ProgramError, run_program
from milvus_zones.engine.stacks import resolve_stack
from milvus_zones.planning.stackconfig import PROGRAM_KEYS, SPEC_KEYS

REPO = Path(__file__).resolve().parents[2]
EMBED = REPO / "tests" / "programs" / "team-embed"
PROVIDER = "pulumi:providers:alicloud"
SWITCH = "alicloud:vpc/switch:Switch"
NODE_POOL = "alicloud:cs/nodePool:NodePool"
CLUSTER = "alicloud:cs/managedKubernetes:ManagedKubernetes"


def embed(stack: str):
    return run_program(EMBED, resolve_stack(stack, EMBED))


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p.capitalize() for p in rest)


def test_args_are_the_stack_settings():
    # One list of settings: every stack config key is an arg (camelCase there, snake_case here), and the
    # args beyond them are the credentials and providers a program passes.
    args = {_camel(k) for k in MilvusZonesArgs.__annotations__}
    assert args - {"regionProviders"} == set(SPEC_KEYS) | PROGRAM_KEYS


def test_a_bad_setting_is_refused_naming_it_in_both_spellings():
    with pytest.raises(Exception) as e:
        settings_spec("m", {"mode": "multi-zone-ha", "region": "cn-hangzhou", "zones": ["cn-hangzhou-h"],
                            "compute_node_count": 3, "bucket_name": "b-ucket"})
    message = str(e.value)
    assert "MilvusZones m: invalid settings" in message
    assert "computeNodeCount (compute_node_count): multi-zone-ha needs a multiple of 2" in message
    assert "zones: mode multi-zone-ha needs exactly 3 zone(s)" in message


def test_an_unknown_arg_names_the_allowed_ones():
    with pytest.raises(Exception, match=r"computeNodes \(compute_nodes\): unknown setting \(did you mean 'computeNodeCount'"):
        settings_spec("m", {"mode": "single-zone", "region": "cn-hangzhou", "zones": ["cn-hangzhou-h"],
                            "bucket_name": "bucket-a", "compute_nodes": 2})


def test_a_bad_setting_under_the_engine_is_one_message_and_nothing_is_registered():
    with pytest.raises(ProgramError) as e:
        embed("wrong-zone")
    message = str(e.value)
    assert message.startswith("MilvusZones search: invalid settings:")
    assert "existingVpc.nodeVswitches.cn-hangzhou-k" in message and "Traceback" not in message


def test_the_teams_provider_is_used_and_none_is_built():
    g = embed("existing-vpc")
    providers = [r for r in g.resources if r.type == PROVIDER]
    assert [p.name for p in providers] == ["team-hangzhou"]
    team = providers[0]
    alicloud = [r for r in g.resources if r.custom and r.type.startswith("alicloud:")]
    assert alicloud and all(r.provider.startswith(team.urn) for r in alicloud)


def test_existing_vpc_creates_only_the_missing_vswitches_and_no_vpc():
    g = embed("existing-vpc")
    assert not g.of_type("alicloud:vpc/network:Network")
    created = {r.inputs["zoneId"] for r in g.of_type(SWITCH) if not r.external and r.inputs["cidrBlock"].startswith("10.60.")
               and r.name.split("-")[-2] == "node"}
    assert created == {"cn-hangzhou-j"}
    read = {r.id: r.outputs["zoneId"] for r in g.of_type(SWITCH) if r.external}
    assert read == {"vsw-bp1teamnodeh000001": "cn-hangzhou-h", "vsw-bp1teamnodei000001": "cn-hangzhou-i"}
    # Nothing routes through NAT gateways of ours: the team's VPC has its own egress.
    assert not g.of_type("alicloud:vpc/natGateway:NatGateway")
    # Node pools take the existing vSwitches, by dependency on what was read.
    h = next(p for p in g.of_type(NODE_POOL) if p.name.endswith("compute-h"))
    assert h.inputs["vswitchIds"] == ["vsw-bp1teamnodeh000001"]
    assert any(d.endswith("search-net-node-h") for d in h.property_dependencies["vswitchIds"])


def test_a_vswitch_in_another_zone_stops_the_program(monkeypatch):
    real = offline.OfflineMocks.new_resource

    def cloud(self, args):
        rid, outputs = real(self, args)
        if args.typ == SWITCH and args.resource_id == "vsw-bp1teamnodei000001":
            outputs["zoneId"] = "cn-hangzhou-k"  # the cloud says where it really is
        return rid, outputs

    monkeypatch.setattr(offline.OfflineMocks, "new_resource", cloud)
    with pytest.raises(ProgramError, match=r"vSwitch vsw-bp1teamnodei000001 \(given for the node vSwitch of zone "
                                           r"cn-hangzhou-i\) is in zone cn-hangzhou-k"):
        embed("existing-vpc")


def test_existing_cluster_gets_node_pools_only_through_the_teams_kubernetes_provider():
    g = embed("existing-cluster")
    assert not g.of_type(CLUSTER)
    assert not [s for s in g.of_type(SWITCH) if not s.external]  # every zone's node vSwitch was given
    assert {p.inputs["clusterId"] for p in g.of_type(NODE_POOL)} == {"c0123456789abcdef0123456789abcdef"}
    k8s_providers = [r for r in g.resources if r.type == "pulumi:providers:kubernetes"]
    assert [p.name for p in k8s_providers] == ["team-cluster"]
    release = g.of_type("kubernetes:helm.sh/v3:Release")[0]
    assert release.provider.startswith(k8s_providers[0].urn)
    # The OSS role trusts the existing cluster's RRSA OIDC provider, looked up, not guessed.
    role = g.of_type("alicloud:ram/role:Role")[0]
    assert "ack-rrsa-c0123456789abcdef0123456789abcdef" in role.inputs["assumeRolePolicyDocument"]


def test_two_instances_in_one_program_do_not_collide():
    g = embed("two-instances")
    urns = [r.urn for r in g.resources]
    assert len(urns) == len(set(urns))
    assert {r.name for r in g.resources if r.type == PROVIDER} == {"search-cn-hangzhou", "staging-cn-hangzhou"}
    assert sorted(r.inputs["bucket"] for r in g.of_type("alicloud:oss/bucket:Bucket")) == [
        "team-search-vectors", "team-search-vectors-logs", "team-staging-vectors", "team-staging-vectors-logs"]
    # Helm names the Service <release>-milvus unless the release name contains "milvus" (chart _helpers.tpl fullname).
    assert g.outputs == {"search": "search-milvus.milvus.svc:19530", "staging": "staging-milvus.milvus.svc:19530"}


@pytest.mark.parametrize("stack", ["existing-vpc", "existing-cluster", "existing-pools"])
def test_the_policy_pack_passes_each_embedding(tmp_path, stack):
    # A hand-written program declares what it reads with `.get` in its pack config (externalResources),
    # as it would for `pulumi preview --policy-pack-config`; without it the zones of those are unknown.
    import json

    from milvus_zones.analysis.policy_facts import render

    config = tmp_path / "pack.json"
    config.write_text(render(json.loads((EMBED / f"external-resources.{stack}.json").read_text())))
    result = CliRunner().invoke(app, ["check", stack, "--program", str(EMBED), "--policy-config", str(config)])
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.output
    bare = CliRunner().invoke(app, ["check", stack, "--program", str(EMBED)])
    assert bare.exit_code == 1 and "externalResources" in bare.output


@pytest.mark.parametrize("stack", ["existing-vpc", "existing-cluster", "existing-pools"])
def test_the_projects_own_byo_stacks_pass_the_pack(stack):
    result = CliRunner().invoke(app, ["check", stack, "--program", str(REPO)])
    assert result.exit_code == 0, result.output


def test_bad_embedding_exits_2():
    result = CliRunner().invoke(app, ["check", "wrong-zone", "--program", str(EMBED)])
    assert result.exit_code == 2
    assert "existingVpc.nodeVswitches.cn-hangzhou-k" in result.output


def test_milvus_version_output_is_the_image_the_release_runs():
    g = run_program(REPO, resolve_stack(str(REPO / "stacks" / "Pulumi.multi-zone-ha.yaml")))
    (release,) = g.of_type("kubernetes:helm.sh/v3:Release")
    tag = release.inputs["values"]["image"]["all"]["tag"].split("@")[0].removeprefix("v")
    assert g.outputs["milvusVersion"] == f"{tag} (chart 5.0.19)"
    assert tuple(map(int, tag.split("."))) >= (2, 6, 16)


def _stack(name: str):
    return run_program(REPO, resolve_stack(str(REPO / "stacks" / f"Pulumi.{name}.yaml")))


def test_named_pools_are_read_and_checked_not_created_and_milvus_waits_for_them():
    g = _stack("existing-pools")
    created = sorted(p.name for p in g.of_type(NODE_POOL) if not p.external)
    read = {p.name: p for p in g.of_type(NODE_POOL) if p.external}
    assert created == ["milvus-k8s-quorum-j"]  # the one pool left out of existingCluster.nodePools
    assert sorted(read) == ["milvus-k8s-compute-h", "milvus-k8s-compute-i", "milvus-k8s-quorum-h", "milvus-k8s-quorum-i"]
    # Read under the provider's import id <cluster_id>:<node_pool_id>.
    assert read["milvus-k8s-compute-h"].id == "c9b2c3d4e5f60718293a4b5c6d7e8f9a0:np1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6"
    # The plan sized compute-h's workloads to the type named in the setting.
    assert read["milvus-k8s-compute-h"].outputs["instanceTypes"] == ["ecs.g7.2xlarge"]
    release = g.of_type("kubernetes:helm.sh/v3:Release")[0]
    assert {r.urn for r in read.values()} <= set(release.dependencies)
    assert not g.of_type(CLUSTER)


@pytest.mark.parametrize(("field", "state", "fragment"), [
    ("labels", [{"key": "milvus-zones/role", "value": "compute"}],
     "lacks the node labels milvus-zones/pool=compute-h the workloads select"),
    ("taints", [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}], "its taints are"),
    ("instanceTypes", ["ecs.g7.xlarge"], "do not include ecs.g7.2xlarge"),
    ("desiredSize", "1", "it runs 1 node(s); the plan counts on 2"),
    ("vswitchIds", ["vsw-bp1poolsi000000001"], "the plan puts compute-h in zone(s) cn-hangzhou-h"),
    ("management", {"enable": False}, "it has no auto repair"),
    ("management", {"enable": True, "autoRepair": True, "autoUpgrade": True, "maxUnavailable": 1, "surge": 1},
     "management.auto_upgrade True (allowed: false"),
    ("systemDiskEncrypted", False, "its disks are not all encrypted"),
])
def test_a_named_pool_unlike_the_plans_stops_the_program_naming_the_setting(monkeypatch, field, state, fragment):
    real = offline.OfflineMocks.new_resource

    def cloud(self, args):
        rid, outputs = real(self, args)
        if args.typ == NODE_POOL and args.resource_id and args.resource_id.endswith(":np1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6"):
            outputs[field] = state  # the cloud's pool differs from what the plan needs
        return rid, outputs

    monkeypatch.setattr(offline.OfflineMocks, "new_resource", cloud)
    with pytest.raises(ProgramError) as e:
        _stack("existing-pools")
    message = str(e.value)
    assert "existingCluster.nodePools.compute-h: node pool np1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6" in message
    assert fragment in message and "Traceback" not in message


def test_the_teams_own_pools_are_read_and_none_is_created():
    g = embed("existing-pools")
    ours = [p for p in g.of_type(NODE_POOL) if p.name.startswith("search-")]
    assert ours and all(p.external for p in ours)
    team = {p.outputs["nodePoolId"]: p for p in g.of_type(NODE_POOL) if p.name.startswith("platform-")}
    # Each read is the team's pool, its state as the team's program created it.
    for p in ours:
        assert p.outputs["nodePoolId"] in team
        assert p.outputs["management"] == team[p.outputs["nodePoolId"]].outputs["management"]


def test_a_team_pool_in_another_zone_exits_2_naming_the_pool_setting():
    result = CliRunner().invoke(app, ["check", "pool-wrong-zone", "--program", str(EMBED)])
    assert result.exit_code == 2
    assert "existingCluster.nodePools.compute-h" in result.output and "cn-hangzhou-h" in result.output


def test_a_given_pod_vswitch_in_another_zone_stops_the_projects_program(monkeypatch):
    # The pack takes an existing vSwitch's zone from the pack config (externalResources, written from
    # the plan by `milvus-zones policy-config`): the program is what checks the cloud agrees (components/network.py _verified).
    real = offline.OfflineMocks.new_resource

    def cloud(self, args):
        rid, outputs = real(self, args)
        if args.typ == SWITCH and args.resource_id == "vsw-bp1podh00000000001":
            outputs["zoneId"] = "cn-hangzhou-j"
        return rid, outputs

    monkeypatch.setattr(offline.OfflineMocks, "new_resource", cloud)
    repo = Path(__file__).resolve().parents[2]
    with pytest.raises(ProgramError, match=r"vSwitch vsw-bp1podh00000000001 \(given for the pod vSwitch of zone "
                                           r"cn-hangzhou-h\) is in zone cn-hangzhou-j"):
        run_program(repo, resolve_stack(str(repo / "stacks" / "Pulumi.existing-vpc.yaml")))
