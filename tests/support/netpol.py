"""A NetworkPolicy evaluator for tests: is a connection allowed, the way Kubernetes decides it.

Semantics of networking.k8s.io/v1 (Kubernetes docs "Network Policies", and the API reference of
NetworkPolicySpec / NetworkPolicyPeer / NetworkPolicyPort):
- a pod is isolated for ingress (egress) when any policy of its namespace selects it and has
  Ingress (Egress) in policyTypes (absent policyTypes: Ingress, plus Egress when `egress` is set);
- a non-isolated direction allows everything; an isolated one allows what any rule of any selecting
  policy allows (policies are additive, never subtractive);
- a rule without `from`/`to` matches every peer, without `ports` every port; a peer is
  `podSelector` (pods of the policy's own namespace), `namespaceSelector` (every pod of the selected
  namespaces), both (those pods of those namespaces), or `ipBlock` (`cidr` minus `except`);
- a port entry matches on protocol (default TCP) and port (number, or a named container port of the
  destination pod), up to `endPort`; an entry without `port` matches every port of its protocol;
- a connection needs both the source's egress and the destination's ingress to allow it.
Label selectors: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist), ANDed; `{}`
selects everything.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

NAMESPACE_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str]
    ip: str = "10.0.200.10"
    named_ports: dict[str, int] = field(default_factory=dict)  # container port name -> number
    namespace_labels: dict[str, str] = field(default_factory=dict)

    @property
    def ns_labels(self) -> dict[str, str]:
        return {NAMESPACE_LABEL: self.namespace, **self.namespace_labels}


@dataclass(frozen=True)
class External:
    """An address outside the pod network (an OSS endpoint, the API server's load balancer, ...)."""

    ip: str


Endpoint = Pod | External


def selects(selector: dict | None, labels: dict[str, str]) -> bool:
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], e.get("values") or []
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def _in_block(ip: str, block: dict) -> bool:
    addr = ipaddress.ip_address(ip)
    if addr not in ipaddress.ip_network(block["cidr"]):
        return False
    return not any(addr in ipaddress.ip_network(x) for x in block.get("except") or [])


def _peer_matches(peer: dict, policy_ns: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        return _in_block(other.ip, peer["ipBlock"])
    if not isinstance(other, Pod):
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], other.ns_labels):
            return False
    elif other.namespace != policy_ns:
        return False
    return selects(peer.get("podSelector"), other.labels)


def _port_matches(entry: dict, port: int, protocol: str, dest: Endpoint) -> bool:
    if entry.get("protocol", "TCP") != protocol:
        return False
    want = entry.get("port")
    if want is None:
        return True
    if isinstance(want, str):
        return isinstance(dest, Pod) and dest.named_ports.get(want) == port
    return want <= port <= entry.get("endPort", want)


def _types(spec: dict) -> list[str]:
    if "policyTypes" in spec:
        return list(spec["policyTypes"])
    return ["Ingress", *(["Egress"] if "egress" in spec else [])]


def _side_allows(policies: list[dict], pod: Pod, direction: str, other: Endpoint, port: int, protocol: str,
                 dest: Endpoint) -> bool:
    selecting = [p for p in policies if p["metadata"]["namespace"] == pod.namespace
                 and selects(p["spec"].get("podSelector"), pod.labels) and direction in _types(p["spec"])]
    if not selecting:
        return True
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    for p in selecting:
        for rule in p["spec"].get(key) or []:
            peers = rule.get(peers_key)
            if peers and not any(_peer_matches(peer, pod.namespace, other) for peer in peers):
                continue
            ports = rule.get("ports")
            if ports and not any(_port_matches(e, port, protocol, dest) for e in ports):
                continue
            return True
    return False


def allowed(policies: list[dict], src: Endpoint, dst: Endpoint, port: int, protocol: str = "TCP") -> bool:
    """Whether `policies` (every NetworkPolicy of the cluster that matters) let src open port on dst."""
    if isinstance(src, Pod) and not _side_allows(policies, src, "Egress", dst, port, protocol, dst):
        return False
    return not isinstance(dst, Pod) or _side_allows(policies, dst, "Ingress", src, port, protocol, dst)


def pod_of(template: dict, namespace: str, ip: str = "10.0.200.10") -> Pod:
    """A Pod of a rendered workload's pod template, with its named container ports."""
    spec = template.get("spec") or {}
    ports = {p["name"]: p["containerPort"] for c in spec.get("containers") or [] for p in c.get("ports") or []
             if p.get("name")}
    return Pod(namespace, dict((template.get("metadata") or {}).get("labels") or {}), ip, ports)

