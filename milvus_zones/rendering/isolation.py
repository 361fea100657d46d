"""Kubernetes objects of ours beside the chart: NetworkPolicies and the Milvus PodDisruptionBudgets.

Pure functions over the plan and the release specs: manifests as dicts, created by the Milvus
component, tested without Pulumi against the rendered chart (every selector must select the pods
it is meant for). Enforced by Terway's NetworkPolicy support, which the cluster turns on
(`terway-eniip` add-on config `NetworkPolicy: "true"`, ACK docs "Configure add-ons with Terraform").

Ingress only: the namespace denies every ingress by default, then
- etcd takes client and peer traffic from Milvus pods, its own members and the failover controller;
- the message service (Pulsar or Kafka with ZooKeeper) takes traffic from Milvus pods and its members;
- Milvus pods take any port from each other; the client port (19530: gRPC and RESTful) from the
  namespace itself, the CIDRs and namespaces of `clientAccess` (default: the VPC) and, behind a load
  balancer, its health checks; the metrics/management port (9091) from the namespace itself and the
  monitoring namespace only (its /management API has no authentication);
- the monitoring namespace reaches exactly the metrics ports: Milvus 9091, etcd's metrics-only
  listener 2381 (never the client port 2379) and the failover controller's 8080.
"""

from __future__ import annotations

from typing import Any

from milvus_zones.planning.plan import TopologyPlan
from milvus_zones.planning.spec import MessageService
from milvus_zones.rendering.helm_values import CHART_FACTS, COMPONENT_LABELS, ETCD_METRICS_PORT, ReleaseSpec
from milvus_zones.rendering.postrender import RG_LABEL

CLIENT_PORT = 19530  # proxy: gRPC and the RESTful API
METRICS_PORT = 9091  # every component: /metrics, /healthz, /management
ETCD_PORTS = (2379, 2380)
FAILOVER_PORT = 8080  # the failover controller: /healthz, /readyz, /metrics, /status (components/milvus.py)
NAMESPACE_LABEL = "kubernetes.io/metadata.name"  # set by Kubernetes on every namespace (>= 1.22)
# Source range of Alibaba Cloud load balancer health checks and forwarding (CLB/NLB docs: allow
# 100.64.0.0/10 in security groups of backends).
LB_HEALTH_CHECK_CIDR = "100.64.0.0/10"
FAILOVER_SELECTOR = {"app.kubernetes.io/name": "milvus-zones-failover"}
MILVUS_PODS = {"app.kubernetes.io/name": "milvus"}  # the chart's milvus.matchLabels name, every release


def _meta(plan: TopologyPlan, name: str) -> dict:
    return {"name": name, "namespace": plan.namespace, "labels": {"app.kubernetes.io/managed-by": "milvus-zones"}}


def _policy(plan: TopologyPlan, name: str, selector: dict, ingress: list[dict]) -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(plan, name),
        "spec": {"podSelector": selector, "policyTypes": ["Ingress"], "ingress": ingress},
    }


def _pods(labels: dict) -> dict:
    return {"podSelector": {"matchLabels": dict(labels)}}


def _ports(*ports: int) -> list[dict]:
    return [{"protocol": "TCP", "port": p} for p in ports]


def message_service_selectors(plan: TopologyPlan, primary: str) -> list[dict]:
    """Pod selectors of the message service's members (labels of the Pulsar and Kafka subcharts)."""
    kind = plan.message_service.kind
    if kind is MessageService.PULSAR:
        # pulsar.name is the subchart's alias: "pulsar" (v2, chart 4.2.25) or "pulsarv3".
        app = CHART_FACTS[plan.chart.chart_version].pulsar_key
        return [{"matchLabels": {"app": app, "release": primary}}]
    if kind is MessageService.KAFKA:
        return [{"matchLabels": {"app.kubernetes.io/name": n, "app.kubernetes.io/instance": primary}}
                for n in ("kafka", "zookeeper")]
    return []


def network_policies(plan: TopologyPlan, specs: list[ReleaseSpec], peer_cidrs: tuple[str, ...] = ()) -> list[dict]:
    """peer_cidrs: cross-region-ha, the other region's VPC, whose CDC writes to this region's proxies."""
    primary = specs[0].name
    access = plan.access
    etcd = {"app.kubernetes.io/name": "etcd", "app.kubernetes.io/instance": primary}
    same_namespace: dict[str, Any] = {"podSelector": {}}
    clients: list[dict] = [same_namespace]
    clients += [{"ipBlock": {"cidr": c}} for c in dict.fromkeys((*access.client_cidrs, *peer_cidrs))]
    clients += [{"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: n}}} for n in access.client_namespaces]
    if plan.proxy_load_balancer:
        clients.append({"ipBlock": {"cidr": LB_HEALTH_CHECK_CIDR}})
    monitoring = {"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: access.monitoring_namespace}}}
    metrics = [same_namespace, monitoring]
    policies = [
        _policy(plan, "milvus-zones-default-deny", {}, []),
        _policy(plan, "milvus-zones-etcd", {"matchLabels": etcd}, [
            {"from": [_pods(MILVUS_PODS), _pods(etcd), _pods(FAILOVER_SELECTOR)], "ports": _ports(*ETCD_PORTS)},
            {"from": [monitoring], "ports": _ports(ETCD_METRICS_PORT)},
        ]),
        _policy(plan, "milvus-zones-milvus", {"matchLabels": MILVUS_PODS}, [
            {"from": [_pods(MILVUS_PODS)]},
            {"from": clients, "ports": _ports(CLIENT_PORT)},
            {"from": metrics, "ports": _ports(METRICS_PORT)},
        ]),
    ]
    if plan.failover is not None:
        policies.append(_policy(plan, "milvus-zones-failover", {"matchLabels": FAILOVER_SELECTOR},
                                [{"from": [monitoring], "ports": _ports(FAILOVER_PORT)}]))
    for i, selector in enumerate(message_service_selectors(plan, primary)):
        members = [{"podSelector": s} for s in message_service_selectors(plan, primary)]
        policies.append(_policy(plan, f"milvus-zones-message-service-{i}", selector,
                                [{"from": [_pods(MILVUS_PODS), *members]}]))
    return policies


def _pdb(plan: TopologyPlan, name: str, labels: dict) -> dict:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(plan, name),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels}},
    }


def disruption_budgets(plan: TopologyPlan, specs: list[ReleaseSpec]) -> list[dict]:
    """One PDB (maxUnavailable 1) per multi-replica Milvus workload; the chart renders none.

    etcd and the message services get theirs from their subcharts' own keys (helm_values)."""
    out = []
    for spec in specs:
        values = spec.values
        groups = values.get("replicaResourceGroups") or []
        for key, label in COMPONENT_LABELS.items():
            block: dict[str, Any] = values.get(key) or {}
            if block.get("enabled") is False or int(block.get("replicas") or 0) < 2:
                continue
            base = {"app.kubernetes.io/instance": spec.name, "component": label}
            if groups and key in ("queryNode", "streamingNode"):
                out += [_pdb(plan, f"{spec.fullname}-{label}-{g}", {**base, RG_LABEL: g}) for g in groups]
            else:
                out.append(_pdb(plan, f"{spec.fullname}-{label}", base))
    return out
