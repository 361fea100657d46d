"""The managed backend: each mode's arguments to alicloud.MilvusInstance, from the recorded graph."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from support.graphs import graph_of, switch_zones

from milvus_zones.engine.offline import PLACEHOLDER_SECRET, run_program
from milvus_zones.engine.stacks import resolve_stack
from milvus_zones.planning.plan import plan, plan_managed
from milvus_zones.planning.spec import DeploymentSpec, SpecError

PROJECT_DIR = Path(__file__).resolve().parents[2]

MILVUS = "alicloud:index/milvusInstance:MilvusInstance"
MANAGED = ["managed-single-zone", "managed-multi-zone-basic", "managed-multi-zone-ha"]


def instance(stack):
    g = graph_of(stack)
    (inst,) = g.of_type(MILVUS)
    return g, inst


def test_single_zone_is_one_zone_without_ha():
    g, inst = instance("managed-single-zone")
    i = inst.inputs
    assert (i["multiZoneMode"], i["ha"], i["isMultiAzStorage"], i["loadReplicas"]) == ("Single", False, False, 1)
    assert [v["zoneId"] for v in i["vswitchIds"]] == ["cn-hangzhou-h"] == [i["zoneId"]]


def test_basic_is_two_zones_with_multi_az_storage_primary_first():
    g, inst = instance("managed-multi-zone-basic")
    i = inst.inputs
    assert (i["multiZoneMode"], i["ha"], i["isMultiAzStorage"]) == ("Two", False, True)
    assert i["zoneId"] == "cn-hangzhou-h"
    assert [v["zoneId"] for v in i["vswitchIds"]] == ["cn-hangzhou-h", "cn-hangzhou-i"]
    assert switch_zones(g, [v["vswId"] for v in i["vswitchIds"]]) == ["cn-hangzhou-h", "cn-hangzhou-i"]


def test_ha_is_two_zones_ha_and_every_component_even_and_at_least_two():
    _, inst = instance("managed-multi-zone-ha")
    i = inst.inputs
    assert (i["multiZoneMode"], i["ha"], i["isMultiAzStorage"], i["loadReplicas"]) == ("Two", True, True, 2)
    assert i["dbVersion"] == "2.6"
    types = {c["type"]: c for c in i["components"]}
    assert set(types) == {"proxy", "mix_coordinator", "data", "query", "streaming"}
    assert all(c["replica"] >= 2 and c["replica"] % 2 == 0 for c in i["components"])
    assert types["query"] == {"type": "query", "cuNum": 8, "replica": 4}


@pytest.mark.parametrize("stack", MANAGED)
def test_encrypted_with_a_protected_kms_key_backed_up_and_secret_password(stack):
    g, inst = instance(stack)
    i = inst.inputs
    (key,) = g.of_type("alicloud:kms/key:Key")
    assert i["encrypted"] is True and i["kmsKeyId"] == key.id
    assert key.urn in inst.property_dependencies["kmsKeyId"]
    assert i["autoBackup"] is True
    assert i["dbAdminPassword"] == "[secret]"
    assert inst.reveal()["dbAdminPassword"] == PLACEHOLDER_SECRET
    assert inst.protect and key.protect
    assert i["tags"]["milvus-zones/mode"] == stack.removeprefix("managed-")
    assert g.of_type("alicloud:cs/managedKubernetes:ManagedKubernetes") == []


def test_25_uses_index_instead_of_streaming():
    spec = DeploymentSpec(mode="multi-zone-ha", backend="managed", region="cn-hangzhou",
                          zones=["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"], milvus_version="2.5", compute_node_count=2)
    types = [c.type for c in plan_managed(spec, plan(spec)).components]
    assert types == ["proxy", "mix_coordinator", "data", "query", "index"]


def test_managed_ha_keeps_the_seeds_limits():
    with pytest.raises(SpecError) as e:
        DeploymentSpec(mode="multi-zone-ha", backend="managed", region="cn-hangzhou",
                       zones=["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"], milvus_version="2.4", compute_node_count=3)
    assert {k for k, _ in e.value.problems} == {"milvusVersion", "computeNodeCount"}


def test_self_hosted_without_bucket_is_refused(tmp_path: Path):
    data = yaml.safe_load((PROJECT_DIR / "stacks" / "Pulumi.managed-multi-zone-ha.yaml").read_text())
    del data["config"]["milvus-zones:backend"]
    path = tmp_path / "Pulumi.nobucket.yaml"
    path.write_text(yaml.safe_dump(data))
    from milvus_zones.engine.offline import ProgramError

    with pytest.raises(ProgramError, match="milvus-zones:bucketName: required by the self-hosted backend"):
        run_program(PROJECT_DIR, resolve_stack(str(path)))
