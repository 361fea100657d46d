"""Each mode's topology, asserted on the resources the real program registers under mocks."""

from __future__ import annotations

import json

import pytest
import yaml
from support.graphs import (
    BUCKET,
    CLUSTER,
    NODE_POOL,
    PROJECT_DIR,
    RELEASE,
    STACKS,
    SWITCH,
    graph_of,
    pool_zones,
    pools,
    switch_zones,
    zones_of,
)

from milvus_zones.engine.offline import PLACEHOLDER_SECRET, run_program
from milvus_zones.engine.stacks import available_stacks, resolve_stack

EXPECTED_COMPUTE_ZONES = {"single-zone": 1, "multi-zone-basic": 2, "multi-zone-ha": 2}


def test_stacks_directory_holds_the_three_modes():
    assert set(STACKS) <= set(available_stacks())


@pytest.mark.parametrize("stack", STACKS)
def test_compute_pools_sit_in_the_modes_zone_count(stack):
    g = graph_of(stack)
    assert len(zones_of(g, "compute")) == EXPECTED_COMPUTE_ZONES[stack]


@pytest.mark.parametrize("stack", ["multi-zone-basic", "multi-zone-ha"])
def test_quorum_nodes_and_control_plane_span_three_zones(stack):
    g = graph_of(stack)
    assert zones_of(g, "quorum") == {"cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"}
    for p in pools(g, "quorum"):
        assert len(pool_zones(g, p)) == 1
        assert p.inputs["taints"] == [{"key": "milvus-zones/role", "value": "quorum", "effect": "NoSchedule"}]
    (cluster,) = g.of_type(CLUSTER)
    assert set(switch_zones(g, cluster.inputs["vswitchIds"])) == {"cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"}
    assert len(switch_zones(g, cluster.inputs["podVswitchIds"])) == 3


def test_single_zone_keeps_everything_in_one_zone():
    g = graph_of("single-zone")
    assert {s.inputs["zoneId"] for s in g.of_type(SWITCH)} == {"cn-hangzhou-h"}
    (quorum,) = pools(g, "quorum")
    assert quorum.inputs["desiredSize"] == "3"


def test_basic_relaunches_compute_in_the_secondary_zone():
    g = graph_of("multi-zone-basic")
    (compute,) = pools(g, "compute")
    assert pool_zones(g, compute) == ["cn-hangzhou-h", "cn-hangzhou-i"]  # primary first
    assert compute.inputs["multiAzPolicy"] == "PRIORITY"
    assert compute.inputs["desiredSize"] == "3"
    assert compute.inputs["management"]["autoRepair"] is True


def test_ha_compute_pools_are_symmetric_and_even():
    g = graph_of("multi-zone-ha")
    compute = pools(g, "compute")
    assert sorted(tuple(pool_zones(g, p)) for p in compute) == [("cn-hangzhou-h",), ("cn-hangzhou-i",)]
    sizes = [int(p.inputs["desiredSize"]) for p in compute]
    assert sizes[0] == sizes[1] and sum(sizes) % 2 == 0 and sum(sizes) == 4
    assert len({tuple(p.inputs["instanceTypes"]) for p in compute}) == 1


@pytest.mark.parametrize("stack", STACKS)
def test_bucket_is_zone_redundant_private_versioned_encrypted_and_protected(stack):
    g = graph_of(stack)
    # The data bucket and the log bucket its access logs go to: both held to the same bar.
    buckets = g.of_type(BUCKET)
    assert sorted(b.inputs["bucket"].endswith("-logs") for b in buckets) == [False, True]
    for bucket in buckets:
        assert bucket.inputs["redundancyType"] == "ZRS"
        assert bucket.inputs["versioning"] == {"status": "Enabled"}
        assert bucket.inputs["serverSideEncryptionRule"]["sseAlgorithm"] in ("AES256", "KMS")
        assert bucket.protect and bucket.retain_on_delete
    assert [a.inputs["acl"] for a in g.of_type("alicloud:oss/bucketAcl:BucketAcl")] == ["private", "private"]
    pabs = g.of_type("alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert [p.inputs["blockPublicAccess"] for p in pabs] == [True, True]


@pytest.mark.parametrize("stack", STACKS)
def test_cluster_is_ack_pro_with_rrsa_deletion_protection_and_private_api(stack):
    (cluster,) = graph_of(stack).of_type(CLUSTER)
    i = cluster.inputs
    assert i["clusterSpec"] == "ack.pro.small"
    assert i["enableRrsa"] is True and i["deletionProtection"] is True and i["slbInternetEnabled"] is False
    assert {"terway-eniip", "ack-pod-identity-webhook"} <= {a["name"] for a in i["addons"]}
    assert cluster.protect


@pytest.mark.parametrize("stack", STACKS)
def test_rrsa_role_trusts_only_milvus_service_account_and_only_its_prefix(stack):
    g = graph_of(stack)
    # Milvus' role; milvus-backup has one of its own (tests/components/test_backups.py).
    (role,) = [r for r in g.of_type("alicloud:ram/role:Role") if r.urn.endswith("::milvus-oss-role")]
    trust = json.loads(role.inputs["assumeRolePolicyDocument"])
    cond = trust["Statement"][0]["Condition"]["StringEquals"]
    assert cond["oidc:sub"] == "system:serviceaccount:milvus:milvus"
    assert trust["Statement"][0]["Principal"]["Federated"][0].startswith("acs:ram::")
    (policy,) = [r for r in g.of_type("alicloud:ram/policy:Policy") if r.urn.endswith("::milvus-oss-policy")]
    doc = json.loads(policy.inputs["policyDocument"])
    (bucket,) = [b.inputs["bucket"] for b in g.of_type(BUCKET) if not b.inputs["bucket"].endswith("-logs")]
    assert doc["Statement"][0]["Resource"] == [f"acs:oss:*:*:{bucket}/milvus/*"]


@pytest.mark.parametrize("stack", STACKS)
def test_no_access_key_and_the_password_only_in_a_secret_marked_secret(stack):
    g = graph_of(stack)
    holders = []
    for r in g.resources:
        text = json.dumps(r.reveal())
        assert "accessKey" not in text.replace('"accessKey": ""', "") and "AccessKeySecret" not in text
        if PLACEHOLDER_SECRET in text:
            holders.append(r)
    assert [r.type for r in holders] == ["kubernetes:core/v1:Secret"]
    assert holders[0].inputs["stringData"] == "[secret]"  # marked secret in the inputs, so encrypted in state
    assert g.outputs["kubeconfig"] == "[secret]"


@pytest.mark.parametrize("stack", STACKS)
def test_release_waits_for_node_pools_rrsa_role_and_uses_the_new_clusters_kubeconfig(stack):
    g = graph_of(stack)
    releases = g.of_type(RELEASE)
    assert releases
    pool_urns = {p.urn for p in g.of_type(NODE_POOL)}
    # Milvus' own role (milvus-backup's has its own attachment, which the CronJob waits for).
    (attach,) = [r.urn for r in g.of_type("alicloud:ram/rolePolicyAttachment:RolePolicyAttachment")
                 if r.urn.endswith("::milvus-oss-role-policy")]
    for rel in releases:
        deps = set(rel.dependencies)
        assert pool_urns <= deps, "Helm must wait for every node pool"
        assert attach in deps, "Helm must wait for the RRSA role's policy"
        assert rel.protect
        provider = g.by_urn(rel.provider.rsplit("::", 1)[0])
        assert provider.type == "pulumi:providers:kubernetes"
        assert g.of_type(CLUSTER)[0].urn in provider.property_dependencies["kubeconfig"]


KMS_KEY = "alicloud:kms/key:Key"


@pytest.mark.parametrize("stack", STACKS)
def test_cloud_defaults_encrypt_log_and_protect(stack):
    g = graph_of(stack)
    (cluster,) = g.of_type(CLUSTER)
    (key,) = [k for k in g.of_type(KMS_KEY) if k.name.endswith("secrets-key")]
    assert cluster.property_dependencies["encryptionProviderKey"] == [key.urn]
    assert cluster.inputs["disableEncryption"] is False
    assert key.inputs["automaticRotation"] == "Enabled" and key.inputs["deletionProtection"] == "Enabled"
    assert key.inputs["pendingWindowInDays"] == 30 and key.protect
    assert {"apiserver", "kcm", "scheduler", "ccm"} <= set(cluster.inputs["controlPlaneLogComponents"])
    assert cluster.inputs["controlPlaneLogTtl"] == "30"
    for pool in g.of_type(NODE_POOL):
        assert pool.inputs["systemDiskEncrypted"] is True and pool.inputs["systemDiskEncryptAlgorithm"] == "aes-256"
    (logging,) = g.of_type("alicloud:oss/bucketLogging:BucketLogging")
    logs = next(b for b in g.of_type(BUCKET) if b.inputs["bucket"].endswith("-logs"))
    assert logging.property_dependencies["targetBucket"] == [logs.urn]
    (https_only,) = g.of_type("alicloud:oss/bucketPolicy:BucketPolicy")
    statement = json.loads(https_only.inputs["policy"])["Statement"][0]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"acs:SecureTransport": "false"}}
    for nat in g.of_type("alicloud:vpc/natGateway:NatGateway"):
        assert nat.inputs["deletionProtection"] is True


def test_each_cloud_default_can_be_turned_off(tmp_path):
    data = yaml.safe_load((PROJECT_DIR / "stacks" / "Pulumi.single-zone.yaml").read_text())
    data["config"]["milvus-zones:security"] = {
        "nodeDiskEncryption": False, "secretsEncryption": False, "controlPlaneLogs": False,
        "bucketAccessLogging": False,
    }
    path = tmp_path / "Pulumi.single-zone.yaml"
    path.write_text(yaml.safe_dump(data))
    g = run_program(PROJECT_DIR, resolve_stack(str(path)))
    (cluster,) = g.of_type(CLUSTER)
    assert "encryptionProviderKey" not in cluster.inputs and "controlPlaneLogComponents" not in cluster.inputs
    assert not g.of_type(KMS_KEY) and not g.of_type("alicloud:oss/bucketLogging:BucketLogging")
    assert len(g.of_type(BUCKET)) == 1
    assert all("systemDiskEncrypted" not in p.inputs for p in g.of_type(NODE_POOL))
