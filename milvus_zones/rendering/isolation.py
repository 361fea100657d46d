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

Egress (`egressIsolation`, each part a setting; `egress_policies`): the namespace denies every egress
by default, then
- every pod: DNS, UDP/TCP 53, to kube-dns (kube-system, `k8s-app: kube-dns`) and ACK's NodeLocal
  DNSCache (169.254.20.10, ACK docs "Use the NodeLocal DNSCache component");
- Milvus: other Milvus pods, etcd 2379, the message service's members, the other region's proxies
  (19530, cross-region CDC);
- etcd: its members (2379, 2380); the message service: its members;
- the failover controller: etcd 2379 and the API server (the `kubernetes` Service's ClusterIP on 443,
  the first address of the service CIDR, and 6443 in the VPC, where ACK's API server load balancer
  sits; policies see the address after kube-proxy's translation, so both are listed);
- the backup and restore Jobs: Milvus 19530 and 9091 (GC pause); our script Jobs: Milvus 19530 here
  and in the other region (the proxies' load balancers are VPC addresses);
- HTTPS (443) for Milvus, the backup/restore Jobs and the script Jobs to 0.0.0.0/0 except the VPC
  and the service CIDR; `cloudApiCidrs` narrows it to its blocks for Milvus and the backup/restore
  Jobs (the script Jobs pip-install their client from PyPI and keep it). Not narrowed by default
  because Milvus 2.6 exchanges RRSA tokens at the public sts.aliyuncs.com, hard-coded in both its Go
  (credentials-go v1.2.7) and C++ (AliyunSTSClient.cpp) clients, and no Alibaba document says where
  that resolves from a VPC; OSS's internal VIPs are published (inside 100.64.0.0/10) and the backup
  uses sts-vpc.<region> (backup_manifests.sts_vpc_env). docs/hardening.md#egress has the sources.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from milvus_zones.planning.plan import TopologyPlan
from milvus_zones.planning.spec import MessageService
from milvus_zones.rendering import backup_manifests as bm
from milvus_zones.rendering.failover_manifests import PORT as FAILOVER_PORT
from milvus_zones.rendering.helm_values import CHART_FACTS, COMPONENT_LABELS, ETCD_METRICS_PORT, ReleaseSpec
from milvus_zones.rendering.job_manifests import JOB_SELECTOR
from milvus_zones.rendering.postrender import RG_LABEL

CLIENT_PORT = 19530  # proxy: gRPC and the RESTful API
METRICS_PORT = 9091  # every component: /metrics, /healthz, /management
ETCD_PORTS = (2379, 2380)
NAMESPACE_LABEL = "kubernetes.io/metadata.name"  # set by Kubernetes on every namespace (>= 1.22)
# Source range of Alibaba Cloud load balancer health checks and forwarding (CLB/NLB docs: allow
# 100.64.0.0/10 in security groups of backends).
LB_HEALTH_CHECK_CIDR = "100.64.0.0/10"
FAILOVER_SELECTOR = {"app.kubernetes.io/name": "milvus-zones-failover"}
BACKUP_SELECTORS = ({bm.APP_LABEL: bm.NAME}, {bm.APP_LABEL: bm.RESTORE_NAME})  # the backup and restore pods
KUBE_DNS = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}
NODE_LOCAL_DNS = "169.254.20.10/32"
API_SERVER_PORT = 6443  # ACK's API server behind its intranet load balancer in the VPC
MILVUS_PODS = {"app.kubernetes.io/name": "milvus"}  # the chart's milvus.matchLabels name, every release


def _meta(plan: TopologyPlan, name: str) -> dict:
    return {"name": name, "namespace": plan.namespace, "labels": {"app.kubernetes.io/managed-by": "milvus-zones"}}


def _policy(plan: TopologyPlan, name: str, selector: dict, rules: list[dict], direction: str = "Ingress") -> dict:
    """One NetworkPolicy of one direction ("Ingress" or "Egress") with its rules."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(plan, name),
        "spec": {"podSelector": selector, "policyTypes": [direction], direction.lower(): rules},
    }


def _egress(plan: TopologyPlan, name: str, selector: dict, rules: list[dict]) -> dict:
    return _policy(plan, name, selector, rules, "Egress")


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
    return policies + egress_policies(plan, specs, peer_cidrs)


def _outside(plan: TopologyPlan, cidrs: tuple[str, ...]) -> list[dict]:
    """ipBlocks of `cidrs` minus the VPC and the service CIDR where they contain them (Kubernetes refuses an
    `except` outside its `cidr`; the spec refuses a block that overlaps either only in part)."""
    inside = [ipaddress.IPv4Network(c) for c in (plan.vpc_cidr, plan.service_cidr)]
    out = []
    for c in cidrs:
        block = ipaddress.IPv4Network(c)
        excepted = [str(n) for n in inside if n.subnet_of(block)]
        out.append({"ipBlock": {"cidr": c, **({"except": excepted} if excepted else {})}})
    return out


def egress_policies(plan: TopologyPlan, specs: list[ReleaseSpec], peer_cidrs: tuple[str, ...] = ()) -> list[dict]:
    """What each workload may open (module docstring); none when `egressIsolation.restricted` is off."""
    access = plan.access
    if not access.egress_restricted:
        return []
    primary = specs[0].name
    etcd = {"app.kubernetes.io/name": "etcd", "app.kubernetes.io/instance": primary}
    members = [{"podSelector": s} for s in message_service_selectors(plan, primary)]
    peers = [{"ipBlock": {"cidr": c}} for c in dict.fromkeys(peer_cidrs)]
    https = {"to": _outside(plan, ("0.0.0.0/0",)), "ports": _ports(443)}
    narrowed = {"to": _outside(plan, access.egress_cloud_api_cidrs), "ports": _ports(443)}
    jobs_cloud = [https] if access.egress_cloud_apis else []
    cloud = ([narrowed] if access.egress_cloud_api_cidrs else [https]) if access.egress_cloud_apis else []
    milvus_ports = _ports(CLIENT_PORT, METRICS_PORT)
    policies = [_egress(plan, "milvus-zones-default-deny-egress", {}, [])]
    if access.egress_dns:
        policies.append(_egress(plan, "milvus-zones-dns", {}, [{
            "to": [KUBE_DNS, {"ipBlock": {"cidr": NODE_LOCAL_DNS}}],
            "ports": [{"protocol": proto, "port": 53} for proto in ("UDP", "TCP")],
        }]))
    policies.append(_egress(plan, "milvus-zones-milvus-egress", {"matchLabels": MILVUS_PODS}, [
        {"to": [_pods(MILVUS_PODS), *members]},
        {"to": [_pods(etcd)], "ports": _ports(ETCD_PORTS[0])},
        *([{"to": peers, "ports": _ports(CLIENT_PORT)}] if peers else []),
        *cloud,
    ]))
    policies.append(_egress(plan, "milvus-zones-etcd-egress", {"matchLabels": etcd},
                            [{"to": [_pods(etcd)], "ports": _ports(*ETCD_PORTS)}]))
    for i, selector in enumerate(message_service_selectors(plan, primary)):
        policies.append(_egress(plan, f"milvus-zones-message-service-{i}-egress", selector, [{"to": members}]))
    if plan.failover is not None:
        api = [{"to": [{"ipBlock": {"cidr": f"{ipaddress.ip_network(plan.service_cidr)[1]}/32"}}], "ports": _ports(443)},
               {"to": [{"ipBlock": {"cidr": plan.vpc_cidr}}], "ports": _ports(API_SERVER_PORT)}]
        policies.append(_egress(plan, "milvus-zones-failover-egress", {"matchLabels": FAILOVER_SELECTOR}, [
            {"to": [_pods(etcd)], "ports": _ports(ETCD_PORTS[0])},
            *(api if access.egress_api_server else []),
        ]))
    for selector in BACKUP_SELECTORS:
        policies.append(_egress(plan, f"{selector[bm.APP_LABEL]}-egress", {"matchLabels": selector},
                                [{"to": [_pods(MILVUS_PODS)], "ports": milvus_ports}, *cloud]))
    policies.append(_egress(plan, "milvus-zones-job-egress", {"matchLabels": JOB_SELECTOR}, [
        {"to": [_pods(MILVUS_PODS)], "ports": _ports(CLIENT_PORT)},
        # The replication Job reaches both regions' proxies through their load balancers (VPC addresses).
        {"to": [{"ipBlock": {"cidr": plan.vpc_cidr}}, *peers], "ports": _ports(CLIENT_PORT)},
        *jobs_cloud,  # pip installs the client from PyPI: cloudApiCidrs does not narrow it
    ]))
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
