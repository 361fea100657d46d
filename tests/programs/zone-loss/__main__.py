"""Milvus 2.6 on ACK across zones, written by hand; every knob is a stack config key."""

import json

import pulumi
import pulumi_alicloud as alicloud
import pulumi_kubernetes as k8s

cfg = pulumi.Config()
mode = cfg.require("mode")
zones = cfg.require_object("zones")
quorum_zones = cfg.get_object("quorumZones") or zones
compute_pools = cfg.require_object("computePools")  # [{name, zones, size, maxSize?, multiAzPolicy?}]
groups = cfg.get_object("resourceGroups") or {}  # {group: pool name}: one query replica per group
redundancy = cfg.get("bucketRedundancy") or "ZRS"
coord_spread = cfg.get_bool("coordinatorZoneSpread") is not False
toleration = cfg.get_int("nodeFailureTolerationSeconds")  # unset: Kubernetes' 300 s
controller = cfg.get("failoverController")  # switch-wal | fence-zone | unset
session_ttl = cfg.get_int("sessionTtl")
proxy_checks = cfg.get_bool("proxyHealthChecks") is True  # faster proxy -> query node health checks

tags = {"milvus-zones/mode": mode}
vpc = alicloud.vpc.Network("vpc", vpc_name="milvus", cidr_block="10.0.0.0/16")
all_zones = sorted(set(zones) | set(quorum_zones) | {z for p in compute_pools for z in p["zones"]})
switches = {z: alicloud.vpc.Switch(f"node-{z[-1]}", vpc_id=vpc.id, zone_id=z, cidr_block=f"10.0.{i * 16}.0/20")
            for i, z in enumerate(all_zones)}
bucket = alicloud.oss.Bucket("data", bucket="zone-loss-data", redundancy_type=redundancy, tags=tags)
cluster = alicloud.cs.ManagedKubernetes("ack", cluster_spec="ack.pro.small",
                                        vswitch_ids=[switches[z].id for z in zones], tags=tags)


def pool(name, pool_zones, size, role, max_size=None, policy=None, taints=None):
    alicloud.cs.NodePool(
        name, cluster_id=cluster.id, node_pool_name=name, vswitch_ids=[switches[z].id for z in pool_zones],
        instance_types=["ecs.g7.2xlarge" if role == "milvus" else "ecs.g7.large"], desired_size=str(size),
        labels=[{"key": "workload", "value": role}, {"key": "pool", "value": name}], taints=taints,
        multi_az_policy=policy, tags=tags,
        scaling_config={"enable": True, "min_size": size, "max_size": max_size} if max_size else None)


for p in compute_pools:
    pool(p["name"], p["zones"], p["size"], "milvus", p.get("maxSize"), p.get("multiAzPolicy"))
quorum_taint = {"key": "dedicated", "value": "quorum", "effect": "NoSchedule"}
for z in quorum_zones:
    pool(f"quorum-{z[-1]}", [z], 1, "quorum", taints=[quorum_taint])

provider = k8s.Provider("k8s", kubeconfig=alicloud.cs.get_cluster_credential_output(cluster_id=cluster.id).kube_config)
opts = pulumi.ResourceOptions(provider=provider)
on_quorum = {"nodeSelector": {"workload": "quorum"},
             "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "quorum", "effect": "NoSchedule"}]}


def zone_spread(labels):
    return [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
             "labelSelector": {"matchLabels": labels}}]


node_failure = [] if toleration is None else [
    {"key": k, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": toleration}
    for k in ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready")]
user = {"common": {"security": {"authorizationEnabled": True}}, "etcd": {"rootPath": "milvus"}}
if session_ttl:
    user["common"]["session"] = {"ttl": session_ttl}
if proxy_checks:
    user["proxy"] = {"healthCheckTimeout": 1000, "retryTimesOnHealthCheck": 2}
values = {
    "labels": tags,
    "nodeSelector": {"workload": "milvus"},
    "extraConfigFiles": {"user.yaml": json.dumps(user)},
    "minio": {"enabled": False},
    "externalS3": {"enabled": True, "bucketName": "zone-loss-data", "region": "cn-hangzhou", "useIAM": True},
    "etcd": {"replicaCount": 3, **on_quorum, "topologySpreadConstraints": zone_spread({"app.kubernetes.io/name": "etcd"})},
    "streaming": {"enabled": True, "woodpecker": {"embedded": True, "storage": {"type": "minio"}}},
    "pulsarv3": {"enabled": False},
    "proxy": {"replicas": 2, "topologySpreadConstraints": zone_spread({"component": "proxy"})},
    "mixCoordinator": {"replicas": 2, "activeStandby": {"enabled": True},
                       **({"topologySpreadConstraints": zone_spread({"component": "mixcoord"})} if coord_spread else {})},
    "queryNode": {"replicas": 2},
    "streamingNode": {"replicas": 2},
    "service": {"type": "LoadBalancer", "annotations": {
        "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-health-check-interval": "2",
        "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-health-check-connect-timeout": "2",
        "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-unhealthy-threshold": "2"}},
}
if node_failure:
    values["tolerations"] = node_failure
if groups:
    values["replicaResourceGroups"] = list(groups)
    values["annotations"] = {"milvus-zones/resource-group-node-selectors":
                             json.dumps({g: {"pool": p} for g, p in groups.items()})}
k8s.helm.v3.Release("milvus", name="milvus", chart="milvus", version="5.0.19", namespace="milvus",
                    repository_opts={"repo": "https://zilliztech.github.io/milvus-helm/"}, values=values,
                    postrender="/usr/local/bin/pin-groups" if groups else None, opts=opts)

if controller:
    labels = {"app.kubernetes.io/name": "failover", "milvus-zones/failover": controller}
    k8s.apps.v1.Deployment("failover", metadata={"name": "failover", "namespace": "milvus", "labels": labels}, spec={
        "replicas": 2, "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {
            **on_quorum, "topologySpreadConstraints": zone_spread(labels),
            "containers": [{"name": "failover", "image": "python:3.11-slim", "env": [
                {"name": "ACTION", "value": controller}, {"name": "PROBE_INTERVAL_SECONDS", "value": "1"},
                {"name": "PROBE_TIMEOUT_SECONDS", "value": "1"}, {"name": "FAILURE_THRESHOLD", "value": "3"},
                {"name": "FENCE_AFTER_SECONDS", "value": "10"}]}]}}}, opts=opts)
