"""RAM: who may assume the roles (RRSA trust) and what the roles may do (least privilege).

Stack policies: a role, its policies and their attachments are separate resources, linked through
property dependencies (`roleName` -> Role, `policyName` -> Policy) or by literal names.
"""

from __future__ import annotations

import re

from ._policy import ADVISORY, MANDATORY, stack_policy
from .cloud import (
    KMS_KEY,
    RAM_ATTACHMENTS,
    RAM_POLICY,
    RAM_ROLE,
    as_list,
    document,
    principals,
    prop,
    statements,
)
from .model.deployment import CLUSTER_TYPES
from .model.names import BUCKET

_SUB = re.compile(r"^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-.a-z0-9]*[a-z0-9])?$")
STS_AUDIENCE = "sts.aliyuncs.com"


def _no(args, topology, type_: str, what: str) -> None:
    if not topology.of_type(type_):
        args.not_applicable(f"no {what} in the stack")


def _condition(statement: dict, operator: str, key: str) -> list[str]:
    block = statement.get("Condition") or {}
    return [str(v) for v in as_list((block.get(operator) or {}).get(key))]


def _linked(attachment, key: str, target) -> bool:
    if any(d.urn == target.urn for d in attachment.property_dependencies.get(key, [])):
        return True
    name_key = {"roleName": "roleName", "policyName": "policyName"}[key]
    literal = prop(attachment, key)
    return isinstance(literal, str) and literal == prop(target, name_key)


@stack_policy(
    name="ram-rrsa-trust-scoped",
    description="A RAM role trusted through RRSA (an OIDC Federated principal) can be assumed only by one "
                "Kubernetes service account (oidc:sub system:serviceaccount:<ns>:<sa>, no wildcard) of this "
                "stack's cluster (oidc:iss, oidc:aud sts.aliyuncs.com).",
    level=MANDATORY,
    remediation="In the role's assumeRolePolicyDocument, set Condition StringEquals {oidc:aud: sts.aliyuncs.com, "
                "oidc:iss: <cluster rrsaMetadata.rrsaOidcIssuerUrl>, oidc:sub: "
                "system:serviceaccount:<namespace>:<service account>} and take the provider ARN and issuer from "
                "the stack's cluster.",
    tags=["security", "identity"],
)
def ram_rrsa_trust_scoped(args, report, topology):
    _no(args, topology, RAM_ROLE, "RAM role")
    clusters = topology.clusters
    namespaces = {prop(r.res, "namespace") for r in topology.releases} - {None}
    for role in topology.of_type(RAM_ROLE):
        doc = document(prop(role, "assumeRolePolicyDocument"))
        for s in statements(doc):
            if s.get("Effect") != "Allow":
                continue
            who = principals(s)
            if "*" in who:
                report(f"role {role.name} can be assumed by Principal '*'; name the principal.", role.urn)
                continue
            federated = [p for p in who if "oidc-provider" in p]
            if not federated:
                continue
            subs = _condition(s, "StringEquals", "oidc:sub")
            wild = _condition(s, "StringLike", "oidc:sub")
            if wild or not subs:
                report(f"role {role.name} trusts the OIDC provider without an exact oidc:sub condition, so any "
                       "pod of the cluster can assume it; add StringEquals oidc:sub "
                       "system:serviceaccount:<ns>:<sa>.", role.urn)
            for sub in subs:
                if not _SUB.match(sub):
                    report(f"role {role.name}: oidc:sub {sub!r} is not one service account "
                           "(system:serviceaccount:<ns>:<sa>).", role.urn)
                elif namespaces and sub.split(":")[2] not in namespaces:
                    report(f"role {role.name}: oidc:sub {sub!r} names namespace {sub.split(':')[2]}, where no "
                           f"Milvus release runs ({', '.join(sorted(namespaces))}).", role.urn)
            if not _condition(s, "StringEquals", "oidc:iss"):
                report(f"role {role.name} does not pin the token issuer; add StringEquals oidc:iss with the "
                       "cluster's RRSA issuer URL.", role.urn)
            if STS_AUDIENCE not in _condition(s, "StringEquals", "oidc:aud"):
                report(f"role {role.name} does not require oidc:aud {STS_AUDIENCE}.", role.urn)
            deps = role.property_dependencies.get("assumeRolePolicyDocument", [])
            if clusters and not any(d.resource_type in CLUSTER_TYPES for d in deps):
                report(f"role {role.name} trusts an OIDC provider that is not taken from this stack's cluster; "
                       "build the trust from the cluster's rrsaMetadata.", role.urn)


_ADMIN = "AdministratorAccess"


def _object_scope_too_wide(resource: str) -> bool:
    """'acs:oss:*:*:<bucket>/*' (every object of a bucket) or a wildcard bucket: not a Milvus prefix."""
    if not resource.startswith("acs:oss:"):
        return False
    path = resource.split(":", 4)[-1]
    bucket, sep, objects = path.partition("/")
    if "*" in bucket:
        return True
    return bool(sep) and objects in ("*", "")


@stack_policy(
    name="ram-policy-least-privilege",
    description="Custom RAM policies grant named actions on named resources: no Allow of Action '*' or on "
                "Resource '*', and OSS object access limited to a prefix of the bucket (Milvus' root path).",
    level=MANDATORY,
    remediation="List the actions Milvus' OSS client needs and scope objects to acs:oss:*:*:<bucket>/<rootPath>/* "
                "(milvus-zones' Storage policy shows the set).",
    tags=["security", "identity"],
    peers={"ram-policy-no-has-specified-document": "", "ram-policy-no-statements-with-admin-access-check": ""},
)
def ram_policy_least_privilege(args, report, topology):
    _no(args, topology, RAM_POLICY, "RAM policy")
    for pol in topology.of_type(RAM_POLICY):
        for s in statements(document(prop(pol, "policyDocument"))):
            if s.get("Effect") != "Allow":
                continue
            actions = [str(a) for a in as_list(s.get("Action"))]
            resources = [str(r) for r in as_list(s.get("Resource"))]
            if "*" in actions:
                report(f"policy {pol.name} allows Action '*'; list the actions needed.", pol.urn)
            if "*" in resources:
                report(f"policy {pol.name} allows {actions} on Resource '*'; name the resources.", pol.urn)
            for r in resources:
                if _object_scope_too_wide(r):
                    report(f"policy {pol.name} allows {actions} on {r}: every object of the bucket; limit it to "
                           "Milvus' prefix (<bucket>/<rootPath>/*).", pol.urn)


def _is_admin(name: str) -> bool:
    return name == _ADMIN or "FullAccess" in name


@stack_policy(
    name="ram-no-admin-attachments",
    description="No RAM role, user or group of the stack is given AdministratorAccess or a system *FullAccess "
                "policy.",
    level=MANDATORY,
    remediation="Attach a custom policy with the actions needed (policyType Custom) instead of a system "
                "administrator or full-access policy.",
    tags=["security", "identity"],
    peers={"ram-role-no-product-admin-access": "", "ram-user-role-no-product-admin-access": ""},
)
def ram_no_admin_attachments(args, report, topology):
    attachments = topology.of_type(*RAM_ATTACHMENTS)
    if not attachments:
        args.not_applicable("no RAM policy attachment in the stack")
    for a in attachments:
        name = prop(a, "policyName")
        if isinstance(name, str) and _is_admin(name):
            report(f"{a.name} attaches {name}; grant only the actions needed with a custom policy.", a.urn)


@stack_policy(
    name="ram-policy-attached",
    description="Every custom RAM policy of the stack is attached, and every role has a policy: an unattached "
                "policy or an empty role is dead weight a reviewer has to read.",
    level=ADVISORY,
    remediation="Attach the policy with a ram.RolePolicyAttachment, or remove it (and roles without policies).",
    tags=["hygiene", "identity"],
    peers={"ram-policy-in-use-check": "", "ram-role-has-specified-policy": ""},
)
def ram_policy_attached(args, report, topology):
    policies, roles = topology.of_type(RAM_POLICY), topology.of_type(RAM_ROLE)
    if not policies and not roles:
        args.not_applicable("no RAM role or policy in the stack")
    attachments = topology.of_type(*RAM_ATTACHMENTS)
    for pol in policies:
        if not any(_linked(a, "policyName", pol) for a in attachments):
            report(f"policy {pol.name} is not attached to any role, user or group.", pol.urn)
    for role in roles:
        if not any(_linked(a, "roleName", role) for a in attachments):
            report(f"role {role.name} has no policy attached.", role.urn)


# OSS encrypts and decrypts SSE-KMS objects with the caller's permission on the key: writing needs
# kms:GenerateDataKey, reading kms:Decrypt (KMS "Use RAM to control access to KMS resources": actions
# kms:<API>, resource acs:kms:<region>:<account>:key/<key-id>).
_OSS_WRITES = frozenset({"oss:PutObject", "oss:*"})
_OSS_READS = frozenset({"oss:GetObject", "oss:*"})


def _bucket_keys(topology) -> dict[str, str]:
    """Bucket name -> ARN of the stack's KMS key it is encrypted with (SSE-KMS), where both are known."""
    keys = {k.urn: k for k in topology.of_type(KMS_KEY)}
    out = {}
    for b in topology.of_type(BUCKET):
        if prop(b, "serverSideEncryptionRule", "sseAlgorithm") != "KMS" or not isinstance(prop(b, "bucket"), str):
            continue
        for dep in b.property_dependencies.get("serverSideEncryptionRule", []):
            arn = prop(keys[dep.urn], "arn") if dep.urn in keys else None
            if isinstance(arn, str):
                out[prop(b, "bucket")] = arn
    return out


@stack_policy(
    name="ram-bucket-key-granted",
    description="A custom RAM policy that reads or writes objects of a bucket encrypted with one of the stack's "
                "customer-managed KMS keys may use that key (kms:Decrypt to read, kms:GenerateDataKey to write; "
                "OSS refuses the request otherwise), and KMS actions are granted on named key ARNs only.",
    level=MANDATORY,
    remediation="Add a statement {Action: [kms:GenerateDataKey, kms:Decrypt], Resource: [<the bucket key's arn>]} "
                "to each policy with object access to the bucket (milvus-zones' Storage and Backup policies show "
                "it); never grant kms actions on '*' or acs:kms:*:*:key/*.",
    tags=["security", "identity", "encryption"],
)
def ram_bucket_key_granted(args, report, topology):
    _no(args, topology, RAM_POLICY, "RAM policy")
    bucket_keys = _bucket_keys(topology)
    for pol in topology.of_type(RAM_POLICY):
        allows = [s for s in statements(document(prop(pol, "policyDocument"))) if s.get("Effect") == "Allow"]
        granted: dict[str, set[str]] = {}  # key ARN -> kms actions
        needed: dict[str, set[str]] = {}
        for s in allows:
            actions = {str(a) for a in as_list(s.get("Action"))}
            resources = [str(r) for r in as_list(s.get("Resource"))]
            kms = {a for a in actions if a.startswith("kms:")}
            if kms:
                wide = [r for r in resources if "*" in r.rsplit(":", 1)[-1] or r == "*"]
                if wide:
                    report(f"policy {pol.name} allows {sorted(kms)} on {wide}: every key; name the key ARN.",
                           pol.urn)
                for r in resources:
                    granted.setdefault(r, set()).update(kms)
            for r in resources:
                bucket = r.split(":", 4)[-1].partition("/")[0] if r.startswith("acs:oss:") and "/" in r else None
                if bucket in bucket_keys:
                    want = needed.setdefault(bucket_keys[bucket], set())
                    if actions & _OSS_WRITES:
                        want.add("kms:GenerateDataKey")
                    if actions & _OSS_READS:
                        want.add("kms:Decrypt")
        for arn, want in needed.items():
            have = granted.get(arn, set())
            missing = sorted(a for a in want if a not in have and "kms:*" not in have)
            if missing:
                report(f"policy {pol.name} gives object access to a bucket encrypted with KMS key {arn} but not "
                       f"{', '.join(missing)} on it: OSS refuses those reads or writes.", pol.urn)
