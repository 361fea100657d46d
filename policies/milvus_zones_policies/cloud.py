"""Type tokens and readers of the cloud resources the security policies judge (beyond topology.py's).

Policy documents (RAM and OSS bucket policies) arrive as JSON strings, or as unknowns at preview; the
readers return None for what cannot be read yet, so a policy judges it at `pulumi up` instead.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from typing import Any

from .model.values import UnknownValueError, dig, is_list, is_map

BUCKET_POLICY = "alicloud:oss/bucketPolicy:BucketPolicy"
BUCKET_LOGGING = "alicloud:oss/bucketLogging:BucketLogging"
KMS_KEY = "alicloud:kms/key:Key"
RAM_ROLE = "alicloud:ram/role:Role"
RAM_POLICY = "alicloud:ram/policy:Policy"
RAM_ROLE_ATTACHMENT = "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment"
RAM_ATTACHMENTS = frozenset({
    RAM_ROLE_ATTACHMENT,
    "alicloud:ram/userPolicyAttachment:UserPolicyAttachment",
    "alicloud:ram/groupPolicyAttachment:GroupPolicyAttachment",
})
SECURITY_GROUP = "alicloud:ecs/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "alicloud:ecs/securityGroupRule:SecurityGroupRule"
NAT_GATEWAY = "alicloud:vpc/natGateway:NatGateway"
VPC = "alicloud:vpc/network:Network"
FLOW_LOG = "alicloud:vpc/flowLog:FlowLog"
NLB = "alicloud:nlb/loadBalancer:LoadBalancer"
TR_VPC_ATTACHMENT = "alicloud:cen/transitRouterVpcAttachment:TransitRouterVpcAttachment"
TR_PEER_ATTACHMENT = "alicloud:cen/transitRouterPeerAttachment:TransitRouterPeerAttachment"
TR_ASSOCIATION = "alicloud:cen/transitRouterRouteTableAssociation:TransitRouterRouteTableAssociation"
TR_PROPAGATION = "alicloud:cen/transitRouterRouteTablePropagation:TransitRouterRouteTablePropagation"


def prop(res: Any, *path: str | int, default: Any = None) -> Any:
    """A property of a PolicyResource (or plain dict); None when unknown at preview."""
    props = res.props if hasattr(res, "props") else res
    try:
        return dig(props, *path, default=default)
    except UnknownValueError:
        return None


def document(value: Any) -> dict | None:
    """A policy document given as JSON text or as a mapping; None when unknown or unreadable."""
    if is_map(value):
        return dict(value)
    if isinstance(value, str) and value.strip():
        try:
            doc = json.loads(value)
        except ValueError:
            return None
        return doc if isinstance(doc, dict) else None
    return None


def as_list(value: Any) -> list:
    if value is None:
        return []
    if is_list(value):
        return list(value)
    return [value]


def statements(doc: dict | None) -> list[dict]:
    if not doc:
        return []
    return [s for s in as_list(doc.get("Statement")) if is_map(s)]


def principals(statement: dict) -> list[str]:
    """Every principal a statement names: '*' itself, or the values of {RAM|Service|Federated: [...]}."""
    p = statement.get("Principal")
    if isinstance(p, str):
        return [p]
    if isinstance(p, Mapping):
        return [str(x) for v in p.values() for x in as_list(v)]
    return [str(x) for x in as_list(p)]


def depends_on(res: Any, key: str, target: Any) -> bool:
    return any(d.urn == target.urn for d in res.property_dependencies.get(key, []))


def public_cidr(cidr: Any) -> bool:
    """True for an address range that includes internet addresses (0.0.0.0/0, ::/0, a public block)."""
    if not isinstance(cidr, str) or not cidr:
        return False
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    if net.prefixlen == 0:
        return True
    return not (net.is_private or net.is_loopback or net.is_link_local)


def port_range(text: Any) -> tuple[int, int] | None:
    """'22/22' -> (22, 22); '-1/-1' (every port) -> (1, 65535)."""
    if not isinstance(text, str) or "/" not in text:
        return None
    lo, _, hi = text.partition("/")
    try:
        a, b = int(lo), int(hi)
    except ValueError:
        return None
    if a == -1 and b == -1:
        return 1, 65535
    return a, b
