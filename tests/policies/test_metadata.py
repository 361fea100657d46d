"""Every policy is a complete unit: name, description, level, remediation, documented; the pack is a
real pack (PulumiPolicy.yaml, pinned requirements, a __main__ that only builds it)."""

from __future__ import annotations

import ast
import re
import sys

import milvus_zones_policies as pack
import pytest
import yaml
from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationPolicy,
    StackValidationPolicy,
)
from support.policytest import REPO

POLICIES = {p.name: p for p in pack.ALL_POLICIES}

# The interface: names and levels. Renaming or relevelling a policy is a breaking change.
EXPECTED = {
    "mode-declared": "advisory",
    "mode-consistent": "mandatory",
    "cross-region-spans-two-regions": "mandatory",
    "ha-compute-node-count-even": "mandatory",
    "ha-milvus-version-supported": "mandatory",
    "ha-compute-zones-symmetric": "mandatory",
    "milvus-image-has-ha-features": "mandatory",
    "compute-zone-count": "mandatory",
    "control-plane-multi-zone": "mandatory",
    "metadata-spans-three-zones": "mandatory",
    "message-service-spans-three-zones": "mandatory",
    "object-storage-zone-redundant": "mandatory",
    "ha-failover-within-rto": "advisory",
    "basic-recovery-within-rto": "advisory",
    "bucket-private": "mandatory",
    "bucket-encrypted": "mandatory",
    "bucket-versioned": "mandatory",
    "bucket-access-logged": "mandatory",
    "bucket-customer-managed-key": "disabled",
    "bucket-https-only": "advisory",
    "bucket-replication-kms-objects": "mandatory",
    "ack-deletion-protection": "mandatory",
    "ack-rrsa-enabled": "mandatory",
    "ack-api-server-private": "mandatory",
    "ack-secrets-encrypted": "mandatory",
    "ack-control-plane-logs": "mandatory",
    "ack-pro-cluster": "advisory",
    "ack-version-current": "advisory",
    "ack-network-policy-capable": "mandatory",
    "node-pool-disks-encrypted": "mandatory",
    "node-pool-disks-customer-key": "disabled",
    "node-pool-auto-repair": "mandatory",
    "kms-key-rotation": "mandatory",
    "kms-key-deletion-protected": "mandatory",
    "kms-key-enabled": "mandatory",
    "ram-rrsa-trust-scoped": "mandatory",
    "ram-policy-least-privilege": "mandatory",
    "ram-bucket-key-granted": "mandatory",
    "ram-no-admin-attachments": "mandatory",
    "ram-policy-attached": "advisory",
    "security-group-ingress-restricted": "mandatory",
    "security-group-ingress-from-internet": "advisory",
    "security-group-enterprise": "advisory",
    "nat-gateway-deletion-protection": "mandatory",
    "nat-gateway-enhanced": "advisory",
    "vpc-flow-logs": "disabled",
    "vswitch-capacity": "advisory",
    "nlb-multi-zone": "mandatory",
    "transit-router-attachment-multi-zone": "mandatory",
    "transit-router-attachments-routed": "mandatory",
    "managed-instance-ha-consistent": "mandatory",
    "managed-instance-auto-backup": "mandatory",
    "managed-instance-encrypted": "mandatory",
    "milvus-authorization-enabled": "mandatory",
    "no-plaintext-credentials": "mandatory",
    "etcd-persistent-with-pdb": "mandatory",
    "workloads-sized": "mandatory",
    "workloads-hardened": "mandatory",
    "network-isolated": "mandatory",
    "images-pinned-by-digest": "disabled",
    "stateful-resources-protected": "mandatory",
    "upgrade-from-deployed": "mandatory",
    "allowed-regions": "mandatory",
    "node-pool-rolls-one-node-at-a-time": "advisory",
}


def test_names_and_levels_are_the_interface():
    assert {n: p.enforcement_level.value for n, p in POLICIES.items()} == EXPECTED
    assert len(POLICIES) == len(pack.ALL_POLICIES), "policy names repeat"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_policy_metadata(name):
    p = POLICIES[name]
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", p.name)
    assert isinstance(p, (ResourceValidationPolicy, StackValidationPolicy))
    assert p.description.endswith(".") and len(p.description) > 40
    assert isinstance(p.enforcement_level, EnforcementLevel)
    assert p.remediation_steps and p.remediation_steps.endswith(".")
    assert p.tags


def test_config_schema_defaults():
    schema = pack.config_schema()
    api = schema["ack-api-server-private"]["oneOf"][1]["properties"]["allowPublicApiServer"]
    assert api == {"type": "boolean", "default": False, "description": api["description"]}
    regions = schema["allowed-regions"]["oneOf"][1]["properties"]["allowedRegions"]
    assert regions["type"] == "array" and regions["default"] == []
    assert set(schema) == {"all", *EXPECTED}


def test_every_stack_policy_takes_external_resources_and_only_they():
    from milvus_zones_policies.model.external import KEY, SCHEMA
    from pulumi_policy import StackValidationPolicy

    schema = pack.config_schema()
    for name, p in POLICIES.items():
        props = schema[name]["oneOf"][1]["properties"]
        if isinstance(p, StackValidationPolicy):
            assert props[KEY] == SCHEMA, name
        else:
            assert KEY not in props, name  # the engine analyzes no read: nothing to declare


def test_docs_describe_every_policy():
    doc = (REPO / "docs" / "policies.md").read_text()
    for name, level in EXPECTED.items():
        assert re.search(rf"`{name}`.*{level}", doc), f"docs/policies.md does not list {name} ({level})"


def test_pulumi_policy_yaml_matches_the_pack():
    meta = yaml.safe_load((REPO / "policies" / "PulumiPolicy.yaml").read_text())
    assert meta["runtime"]["name"] == "python"
    assert str(meta["version"]) == pack.PACK_VERSION


def test_requirements_pinned_and_only_what_the_pack_imports():
    reqs = dict(line.split("==") for line in (REPO / "policies" / "requirements.txt").read_text().split())
    assert reqs == {"pulumi-policy": "1.21.0", "pulumi": "3.272.0", "pyyaml": "6.0.3"}
    imported = set()
    for path in (REPO / "policies").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"__future__", "milvus_zones_policies"}
    assert third_party == {"pulumi_policy", "yaml"}, third_party
    assert "milvus_zones" not in imported, "the pack runs in its own virtualenv, without the library"


def test_main_only_builds_the_pack():
    tree = ast.parse((REPO / "policies" / "__main__.py").read_text())
    body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    calls = [n for n in body if isinstance(n, ast.Expr)]
    assert len(calls) == 1 and calls[0].value.func.id == "PolicyPack"
    assert all(isinstance(n, (ast.Expr, ast.Import, ast.ImportFrom)) for n in body)


def test_main_builds_the_pack_the_way_pulumi_runs_it(monkeypatch):
    # `pulumi preview --policy-pack policies` runs `runpy.run_path("policies")`; PolicyPack would then
    # serve forever, so a stand-in records what it is given.
    import runpy

    import pulumi_policy

    built = {}
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kw: built.update(kw))
    runpy.run_path(str(REPO / "policies"), run_name="__main__")
    assert built["name"] == pack.PACK_NAME == "milvus-zones"
    assert built["policies"] is pack.ALL_POLICIES
    assert built["enforcement_level"] is EnforcementLevel.ADVISORY
