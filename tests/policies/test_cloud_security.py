"""The cloud security policies (peer parity and the rules a Milvus stack adds): a compliant and a
violating case each, mostly hand-written programs (tests/programs/cloud-security, milvus-on-ack,
managed-milvus), the rest a recorded graph with one property changed."""

from __future__ import annotations

import json

import pytest
import yaml
from support.policytest import (
    MANAGED,
    ON_ACK,
    PROGRAMS,
    REPO,
    _run,
    check,
    edited,
    graph,
    messages,
    resource,
    violated,
    with_resource,
    without,
)

from milvus_zones.engine.offline import run_program
from milvus_zones.engine.stacks import resolve_stack

SECURITY = PROGRAMS / "cloud-security"


def library(stack: str):
    return _run(REPO.resolve(), (REPO / "stacks" / f"Pulumi.{stack}.yaml").resolve(), False)


def _config(tmp_path, config: dict):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(config))
    return path


# (program, stack, the one mandatory policy it violates, a fragment of the message)
HAND_WRITTEN = [
    (SECURITY, "anonymous-bucket-policy", "bucket-private", "Principal '*'"),
    (SECURITY, "anonymous-inline-policy", "bucket-private", "bucket policy of data allows"),
    (SECURITY, "ssh-open", "security-group-ingress-restricted", "22 (SSH) to 0.0.0.0/0"),
    (SECURITY, "rdp-open-public-block", "security-group-ingress-restricted", "3389 (RDP) to 47.96.0.0/16"),
    (SECURITY, "etcd-open", "security-group-ingress-restricted", "2379 (etcd client)"),
    (SECURITY, "milvus-range-open", "security-group-ingress-restricted", "19530 (Milvus gRPC)"),
    (SECURITY, "all-ports-open", "security-group-ingress-restricted", "every port"),
    (SECURITY, "trust-any-pod", "ram-rrsa-trust-scoped", "any pod of the cluster"),
    (SECURITY, "trust-wildcard-sub", "ram-rrsa-trust-scoped", "without an exact oidc:sub"),
    (SECURITY, "policy-star-action", "ram-policy-least-privilege", "Action '*'"),
    (SECURITY, "policy-whole-bucket", "ram-policy-least-privilege", "every object of the bucket"),
    (SECURITY, "policy-every-resource", "ram-policy-least-privilege", "Resource '*'"),
    (SECURITY, "admin-attached", "ram-no-admin-attachments", "AdministratorAccess"),
    (SECURITY, "full-access-attached", "ram-no-admin-attachments", "AliyunOSSFullAccess"),
    (SECURITY, "key-no-rotation", "kms-key-rotation", "does not rotate"),
    (SECURITY, "key-no-deletion-protection", "kms-key-deletion-protected", "no deletion protection"),
    (SECURITY, "nlb-one-zone", "nlb-multi-zone", "maps 1 zone"),
    (SECURITY, "cen-unrouted", "transit-router-attachments-routed", "not associated with any route table"),
    (SECURITY, "cen-peer-one-side", "transit-router-attachments-routed", "peer is not associated with a route table of tr-b"),
    (SECURITY, "cen-deprecated-flags", "transit-router-attachments-routed", "deprecates"),
    (SECURITY, "attachment-one-zone", "transit-router-attachment-multi-zone", "in 1 zone"),
    (ON_ACK, "ha-no-secrets-encryption", "ack-secrets-encrypted", "no encryptionProviderKey"),
    (ON_ACK, "ha-no-control-plane-logs", "ack-control-plane-logs", "apiserver"),
    (ON_ACK, "ha-unencrypted-disks", "node-pool-disks-encrypted", "systemDiskEncrypted"),
    (ON_ACK, "ha-no-bucket-logging", "bucket-access-logged", "no access logging"),
    (MANAGED, "ha-single-zone-mode", "managed-instance-ha-consistent", "multiZoneMode Single"),
    (MANAGED, "ha-switches-one-zone", "managed-instance-ha-consistent", "vSwitches are in cn-hangzhou-h"),
    (MANAGED, "ha-one-proxy", "managed-instance-ha-consistent", "component proxy has 1 replica"),
    (MANAGED, "ha-no-auto-backup", "managed-instance-auto-backup", "autoBackup true"),
    (MANAGED, "ha-unencrypted", "managed-instance-encrypted", "not encrypted"),
]


@pytest.mark.parametrize(("program", "stack"), [(SECURITY, "compliant"), (SECURITY, "single-zone-nlb"),
                                                (ON_ACK, "ha-compliant"), (MANAGED, "ha")])
def test_compliant_programs_pass_every_policy(program, stack):
    assert not check(graph(stack, program)).violations


@pytest.mark.parametrize(("program", "stack", "policy", "fragment"), HAND_WRITTEN,
                         ids=[f"{p.name}/{s}" for p, s, _, _ in HAND_WRITTEN])
def test_hand_written_violation(program, stack, policy, fragment):
    report = check(graph(stack, program))
    assert violated(report) == {policy}
    assert any(fragment in m for m in messages(report, policy)), messages(report, policy)


def test_internet_ingress_is_advisory_except_http_and_https():
    assert "security-group-ingress-from-internet" in violated(check(graph("ssh-open", SECURITY)), "advisory")
    # The compliant program opens 443 to the internet: accepted.
    assert not violated(check(graph("compliant", SECURITY)), "advisory")


def test_enterprise_security_group_advisory():
    g = edited(graph("compliant", SECURITY), "milvus-sg", lambda p: p.__setitem__("securityGroupType", "normal"))
    assert violated(check(g), None) == {"security-group-enterprise"}


def test_unattached_policy_and_empty_role_are_advisory():
    g = without(graph("compliant", SECURITY), "milvus-attach")
    report = check(g)
    assert violated(report, "advisory") == {"ram-policy-attached"} and not violated(report)
    assert len(messages(report, "ram-policy-attached")) == 2  # the policy and the role


def test_rrsa_trust_in_another_namespace_violates():
    def other_ns(p):
        doc = json.loads(p["assumeRolePolicyDocument"])
        doc["Statement"][0]["Condition"]["StringEquals"]["oidc:sub"] = "system:serviceaccount:default:milvus"
        p["assumeRolePolicyDocument"] = json.dumps(doc)

    base = graph("ha-compliant")
    g = with_resource(base, "data", "role", "alicloud:ram/role:Role", {
        "roleName": "milvus", "assumeRolePolicyDocument": json.dumps({"Version": "1", "Statement": [{
            "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Federated": ["acs:ram::1:oidc-provider/x"]},
            "Condition": {"StringEquals": {"oidc:aud": "sts.aliyuncs.com", "oidc:iss": "https://x",
                                           "oidc:sub": "system:serviceaccount:milvus:milvus"}}}]})},
        {"assumeRolePolicyDocument": [resource(base, "ack").urn]})
    assert "ram-rrsa-trust-scoped" not in violated(check(g))
    report = check(edited(g, "role", other_ns))
    assert "where no Milvus release runs" in messages(report, "ram-rrsa-trust-scoped")[0]


def test_https_only_bucket_policy_is_advisory():
    report = check(without(graph("ha-compliant"), "data-https-only"))
    assert violated(report, None) == {"bucket-https-only"} and not violated(report)


def test_customer_managed_bucket_key_is_opt_in(tmp_path):
    on = _config(tmp_path, {"bucket-customer-managed-key": "mandatory"})
    assert not check(graph("ha-compliant")).violations  # off by default
    report = check(graph("ha-compliant"), on)
    assert "bucket-customer-managed-key" in violated(report)
    cmk = edited(graph("ha-compliant"), "data", lambda p: p.__setitem__(
        "serverSideEncryptionRule", {"sseAlgorithm": "KMS", "kmsMasterKeyId": "key-1"}), "Bucket")
    cmk = edited(cmk, "logs", lambda p: p.__setitem__(
        "serverSideEncryptionRule", {"sseAlgorithm": "KMS", "kmsMasterKeyId": "key-1"}), "Bucket")
    assert "bucket-customer-managed-key" not in violated(check(cmk, on))


def test_library_bucket_key_setting_satisfies_the_opt_in_rule(tmp_path):
    data = yaml.safe_load((REPO / "stacks" / "Pulumi.multi-zone-ha.yaml").read_text())
    logs = data["config"]["milvus-zones:bucketName"] + "-logs"
    on = _config(tmp_path, {"bucket-customer-managed-key": {"enforcementLevel": "mandatory", "exempt": [logs]}})
    assert "bucket-customer-managed-key" in violated(check(library("multi-zone-ha"), on))
    data["config"]["milvus-zones:security"] = {"bucketKmsKey": True}
    path = tmp_path / "Pulumi.multi-zone-ha.yaml"
    path.write_text(yaml.safe_dump(data))
    g = run_program(REPO, resolve_stack(str(path)))
    assert not check(g, on).violations
    (key,) = [r for r in g.resources if r.type == "alicloud:kms/key:Key" and r.name.endswith("bucket-key")]
    # Milvus' own role (the backup role's policy, milvus-backup-policy, reads Milvus' prefix only).
    (policy,) = [r for r in g.resources if r.type == "alicloud:ram/policy:Policy" and r.name.endswith("-oss-policy")]
    statement = json.loads(policy.inputs["policyDocument"])["Statement"][0]
    assert statement["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]
    assert statement["Resource"] == [key.outputs["arn"]]
    # The backup role reads Milvus' files and writes backups in the same encrypted bucket: same key, only it.
    (backup,) = [r for r in g.resources if r.type == "alicloud:ram/policy:Policy" and r.name.endswith("-backup-policy")]
    kms = [s for s in json.loads(backup.inputs["policyDocument"])["Statement"] if s["Action"][0].startswith("kms:")]
    assert kms == [statement]


def _kms_graph(tmp_path):
    data = yaml.safe_load((REPO / "stacks" / "Pulumi.multi-zone-ha.yaml").read_text())
    data["config"]["milvus-zones:security"] = {"bucketKmsKey": True}
    path = tmp_path / "Pulumi.multi-zone-ha.yaml"
    path.write_text(yaml.safe_dump(data))
    return run_program(REPO, resolve_stack(str(path)))


def _edit_document(g, name: str, change):
    def edit(props):
        doc = json.loads(props["policyDocument"])
        change(doc["Statement"])
        props["policyDocument"] = json.dumps(doc)
    return edited(g, name, edit, "Policy")


def test_bucket_key_must_be_granted_to_every_role_on_the_bucket(tmp_path):
    g = _kms_graph(tmp_path)
    assert "ram-bucket-key-granted" not in violated(check(g))
    # The defect this rule catches: the backup role without the key (OSS would refuse its reads and writes).
    no_key = _edit_document(g, "milvus-backup-policy",
                            lambda st: st.__setitem__(slice(None), [s for s in st if not s["Action"][0].startswith("kms:")]))
    (msg,) = messages(check(no_key), "ram-bucket-key-granted")
    assert "milvus-backup-policy" in msg and "kms:Decrypt, kms:GenerateDataKey" in msg
    # Read-only access needs only Decrypt.
    read_only = _edit_document(g, "milvus-backup-policy", lambda st: st.__setitem__(slice(None), [
        {**s, "Action": ["kms:Decrypt"]} if s["Action"][0].startswith("kms:") else s for s in st]))
    (msg,) = messages(check(read_only), "ram-bucket-key-granted")
    assert "kms:GenerateDataKey on it" in msg


def test_kms_actions_are_granted_on_a_named_key_only(tmp_path):
    g = _kms_graph(tmp_path)
    wide = _edit_document(g, "milvus-oss-policy", lambda st: st.__setitem__(slice(None), [
        {**s, "Resource": ["acs:kms:*:*:key/*"]} if s["Action"][0].startswith("kms:") else s for s in st]))
    msgs = messages(check(wide), "ram-bucket-key-granted")
    assert any("every key" in m for m in msgs)
    assert any("milvus-oss-policy gives object access" in m for m in msgs)  # and the bucket's key is not named


def test_node_pool_customer_key_is_opt_in(tmp_path):
    on = _config(tmp_path, {"node-pool-disks-customer-key": "mandatory"})
    assert "node-pool-disks-customer-key" in violated(check(graph("ha-compliant"), on))
    g = graph("ha-compliant")
    for name in ("compute-h", "compute-i", "quorum-h", "quorum-i", "quorum-j"):
        g = edited(g, name, lambda p: p.__setitem__("systemDiskKmsKey", "key-1"), "NodePool")
    assert "node-pool-disks-customer-key" not in violated(check(g, on))


def test_unencrypted_data_disk_violates():
    g = edited(graph("ha-compliant"), "compute-h",
               lambda p: p.__setitem__("dataDisks", [{"category": "cloud_essd", "size": 200}]), "NodePool")
    assert "data disk 0 is not encrypted" in messages(check(g), "node-pool-disks-encrypted")[0]


def test_node_pool_without_auto_repair_violates():
    g = edited(graph("ha-compliant"), "compute-h", lambda p: p.__setitem__("management", {"enable": True}), "NodePool")
    assert violated(check(g)) == {"node-pool-auto-repair"}


def test_disabled_kms_key_violates():
    g = edited(graph("ha-compliant"), "secrets-key", lambda p: p.__setitem__("status", "Disabled"))
    assert violated(check(g)) == {"kms-key-enabled"}


def test_disabled_secrets_encryption_violates_even_with_a_key():
    g = edited(graph("ha-compliant"), "ack", lambda p: p.__setitem__("disableEncryption", True))
    assert violated(check(g)) == {"ack-secrets-encrypted"}


def test_basic_ack_edition_is_advisory():
    g = edited(graph("ha-compliant"), "ack", lambda p: p.__setitem__("clusterSpec", "ack.standard"))
    assert violated(check(g), None) == {"ack-pro-cluster"}


@pytest.mark.parametrize(("version", "violates"), [("1.30.1-aliyun.1", True), ("1.35.1-aliyun.1", False)])
def test_pinned_kubernetes_version(version, violates):
    g = edited(graph("ha-compliant"), "ack", lambda p: p.__setitem__("version", version))
    assert (violated(check(g), None) == {"ack-version-current"}) is violates


def test_pods_on_node_vswitches_or_no_policy_capable_network_violate():
    base = graph("ha-compliant")
    shared = edited(base, "ack", lambda p: p.__setitem__("podVswitchIds", list(p["vswitchIds"])))
    assert "separate pod vSwitches" in messages(check(shared), "ack-network-policy-capable")[0]
    bare = edited(base, "ack", lambda p: p.__setitem__("addons", [{"name": "csi-plugin"}]))
    assert "no Terway or Flannel" in messages(check(bare), "ack-network-policy-capable")[0]


def test_nat_gateways_of_the_library_are_protected_and_enhanced():
    g = library("multi-zone-ha")
    assert not violated(check(g), None) & {"nat-gateway-deletion-protection", "nat-gateway-enhanced"}
    nat = next(r.name for r in g.resources if r.type.endswith("NatGateway"))
    g2 = edited(g, nat, lambda p: (p.pop("deletionProtection"), p.__setitem__("natType", "Normal")))
    assert violated(check(g2), None) == {"nat-gateway-deletion-protection", "nat-gateway-enhanced"}


def test_vpc_flow_logs_are_opt_in(tmp_path):
    on = _config(tmp_path, {"vpc-flow-logs": "advisory"})
    base = graph("compliant", SECURITY)
    assert len(messages(check(base, on), "vpc-flow-logs")) == 2
    g = base
    for vpc in ("vpc", "vpc-b"):
        g = with_resource(g, vpc, f"{vpc}-flow", "alicloud:vpc/flowLog:FlowLog",
                          {"resourceType": "VPC", "resourceId": f"{vpc}-id", "trafficType": "All"},
                          {"resourceId": [resource(g, vpc).urn]})
    assert not messages(check(g, on), "vpc-flow-logs")


def test_tiny_vswitch_is_advisory():
    g = edited(graph("compliant", SECURITY), "pod-h", lambda p: p.__setitem__("cidrBlock", "10.0.128.0/29"))
    assert violated(check(g), None) == {"vswitch-capacity"}
