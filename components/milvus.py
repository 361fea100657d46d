"""The Milvus Helm release(s), with values generated from the plan."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from milvus_zones.components.script_job import JOB_IMAGE, ScriptJob

from milvus_zones.planning.catalog import oss_endpoint
from milvus_zones.planning.plan import ZONE_LABEL, TopologyPlan
from milvus_zones.rendering.helm_values import (
    CHART_FACTS,
    ReleaseContext,
    etcd_client_endpoint,
    node_failure_tolerations,
    releases,
    resource_group_configs,
)

SERVICE_ACCOUNT = "milvus"
PASSWORD_SECRET = "milvus-root-password"
RETAIN_STORAGE_CLASS = "milvus-zones-disk-retain"
# ACK's pod-identity webhook injects RRSA credentials into pods of namespaces carrying this label.
RRSA_INJECTION_LABEL = "pod-identity.alibabacloud.com/injection"
# The Job that creates Milvus 2.5's node-filtered resource groups: a pinned Python image and client.
JOB_PYMILVUS = "pymilvus==2.5.18"  # the client of the 2.5 server whose resource groups the Job creates
# The zone failover controller (milvus_zones/jobs/failover.py): standard library only, so no install step.
FAILOVER_NAME = "milvus-zones-failover"
from milvus_zones_policies.model.names import FAILOVER_LABEL  # noqa: E402  (defined once, in the pack)


def postrender_command() -> str:
    """Absolute path of the post-renderer installed beside this interpreter (Helm runs it without a shell)."""
    return str(Path(sys.prefix) / "bin" / "milvus-zones-postrender")


class MilvusArgs(TypedDict):
    plan: TopologyPlan
    """The topology plan: zones, pools, replicas, resource groups."""
    role_name: pulumi.Input[str]
    """RAM role for OSS access through RRSA."""
    root_password: pulumi.Input[str]
    """Milvus root password (a Pulumi secret); stored only in a Kubernetes Secret."""
    node_vswitch_ids: dict[str, pulumi.Input[str]]
    """Zone -> node vSwitch id, for the proxy load balancer's zone mappings."""
    provider: k8s.Provider
    """Kubernetes provider of the target cluster."""
    wait_for: Sequence[pulumi.Resource]
    """What must exist before Helm installs: node pools, the RAM role and its policy."""
    load_balancer_id: NotRequired[pulumi.Input[str]]
    """cross-region-ha: the NLB (created by Pulumi) the proxies' Service reuses."""
    peer_cidrs: NotRequired[Sequence[str]]
    """cross-region-ha: the other region's VPC CIDR, allowed to reach the proxies (CDC)."""


class Milvus(pulumi.ComponentResource):
    """Namespace (RRSA injection on), root password Secret, retained-disk StorageClass and the release(s).

    Releases are protected against `pulumi destroy`; etcd's volumes use a StorageClass whose
    reclaim policy is Retain, so even a deleted claim leaves its disk in place.
    """

    release_names: pulumi.Output[list[str]]
    namespace: pulumi.Output[str]
    endpoint: pulumi.Output[str]

    def __init__(self, name: str, args: MilvusArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("milvus-zones:index:Milvus", name, {}, opts)
        plan = args["plan"]
        provider = args["provider"]
        in_cluster = pulumi.ResourceOptions(parent=self, provider=provider)

        ns = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={"name": plan.namespace, "labels": {RRSA_INJECTION_LABEL: "on"}},
            opts=in_cluster,
        )
        secret = k8s.core.v1.Secret(
            f"{name}-root-password",
            metadata={"name": PASSWORD_SECRET, "namespace": ns.metadata.name},
            type="Opaque",
            string_data={"password": pulumi.Output.secret(args["root_password"])},
            opts=in_cluster,
        )
        storage_class = k8s.storage.v1.StorageClass(
            f"{name}-disk-retain",
            metadata={"name": RETAIN_STORAGE_CLASS},
            provisioner="diskplugin.csi.alibabacloud.com",
            parameters={"type": "cloud_essd,cloud_ssd", "fstype": "ext4"},
            reclaim_policy="Retain",
            # Zonal disks: bind only once the pod is scheduled, so the disk lands in the pod's zone.
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=in_cluster,
        )

        def context(role_name: str, vswitch_ids: dict[str, str], lb_id: str | None = None) -> ReleaseContext:
            return ReleaseContext(
                role_name=role_name,
                service_account=SERVICE_ACCOUNT,
                password_secret=PASSWORD_SECRET,
                oss_endpoint=oss_endpoint(plan.region),
                vpc_cidr=plan.vpc_cidr,
                lb_vswitch_ids=vswitch_ids,
                storage_class=RETAIN_STORAGE_CLASS,
                lb_id=lb_id,
                peer_cidrs=tuple(args.get("peer_cidrs", ())),
            )

        # The set of releases depends on the plan only; their values also need resource ids.
        shape = releases(plan, context("", {z: "" for z in plan.compute_zones}))
        vswitches = pulumi.Output.all(**{z: args["node_vswitch_ids"][z] for z in plan.compute_zones})
        inputs = pulumi.Output.all(args["role_name"], vswitches, args.get("load_balancer_id")).apply(
            lambda a: releases(plan, context(a[0], a[1], a[2]))
        )
        created: list[k8s.helm.v3.Release] = []
        for i, spec in enumerate(shape):
            created.append(
                k8s.helm.v3.Release(
                    f"{name}-{spec.name}",
                    name=spec.name,
                    chart=spec.chart,
                    version=spec.version,
                    repository_opts={"repo": spec.repo},
                    namespace=ns.metadata.name,
                    values=inputs.apply(lambda rs, i=i: rs[i].values),
                    postrender=postrender_command() if spec.postrender else None,
                    timeout=1800,
                    max_history=10,
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        provider=provider,
                        depends_on=[ns, secret, storage_class, *args["wait_for"], *created],
                        protect=True,
                    ),
                )
            )

        if plan.resource_groups and not CHART_FACTS[plan.chart.chart_version].replica_resource_groups:
            self._resource_group_job(name, plan, shape[0].fullname, ns, created, in_cluster)
        if plan.failover is not None:
            self._failover_controller(name, plan, shape[0].name, ns, created, in_cluster)

        self.release_names = pulumi.Output.all(*[r.name for r in created])
        self.namespace = ns.metadata.name
        self.endpoint = pulumi.Output.concat(shape[0].fullname, ".", plan.namespace, ".svc:19530")
        self.register_outputs(
            {"release_names": self.release_names, "namespace": self.namespace, "endpoint": self.endpoint}
        )

    def _resource_group_job(self, name, plan: TopologyPlan, service: str, ns, created, in_cluster) -> None:
        """Milvus 2.5 creates node-filtered resource groups only through its API: run that once after install."""
        ScriptJob(
            f"{name}-resource-groups",
            {
                "script": "resource_groups.py",
                "namespace": ns.metadata.name,
                "env": [
                    {"name": "MILVUS_URI", "value": f"http://{service}.{plan.namespace}.svc:19530"},
                    {"name": "MILVUS_USER", "value": "root"},
                    {"name": "MILVUS_PASSWORD",
                     "valueFrom": {"secretKeyRef": {"name": PASSWORD_SECRET, "key": "password"}}},
                    {"name": "RESOURCE_GROUPS", "value": json.dumps(resource_group_configs(plan), sort_keys=True)},
                ],
                "requirement": JOB_PYMILVUS,
                "node_selector": plan.component("proxy").node_selector,
                "wait_for": created,
            },
            provider=in_cluster.provider,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _failover_controller(self, name, plan: TopologyPlan, release: str, ns, created, in_cluster) -> None:
        """Two replicas on the quorum pools, one per zone: whichever zone is lost, one keeps watching."""
        fo = plan.failover
        fence = fo.action == "fence-zone"
        script = resources.files("milvus_zones.jobs").joinpath("failover.py").read_text()
        digest = hashlib.sha256(script.encode()).hexdigest()[:8]
        labels = {"app.kubernetes.io/name": FAILOVER_NAME, FAILOVER_LABEL: fo.action}
        meta = {"name": FAILOVER_NAME, "namespace": ns.metadata.name, "labels": labels}
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-failover-script",
            metadata={"name": f"{FAILOVER_NAME}-{digest}", "namespace": ns.metadata.name},
            data={"failover.py": script},
            opts=in_cluster,
        )
        account = k8s.core.v1.ServiceAccount(f"{name}-failover-sa", metadata=meta, opts=in_cluster)
        verbs = ["get", "list", "delete"] if fence else ["get", "list"]
        role = k8s.rbac.v1.Role(f"{name}-failover-role", metadata=meta,
                                rules=[{"apiGroups": [""], "resources": ["pods"], "verbs": verbs}], opts=in_cluster)
        bindings = [k8s.rbac.v1.RoleBinding(
            f"{name}-failover-rb", metadata=meta,
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": FAILOVER_NAME},
            subjects=[{"kind": "ServiceAccount", "name": FAILOVER_NAME, "namespace": plan.namespace}],
            opts=pulumi.ResourceOptions(parent=self, provider=in_cluster.provider, depends_on=[role, account]),
        )]
        if fence:
            # Node objects are cluster-scoped: fencing a zone deletes them.
            cluster_meta = {"name": f"{FAILOVER_NAME}-{plan.namespace}", "labels": labels}
            cluster_role = k8s.rbac.v1.ClusterRole(
                f"{name}-failover-nodes", metadata=cluster_meta,
                rules=[{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "delete"]}],
                opts=in_cluster)
            bindings.append(k8s.rbac.v1.ClusterRoleBinding(
                f"{name}-failover-nodes", metadata=cluster_meta,
                role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                          "name": cluster_meta["name"]},
                subjects=[{"kind": "ServiceAccount", "name": FAILOVER_NAME, "namespace": plan.namespace}],
                opts=pulumi.ResourceOptions(parent=self, provider=in_cluster.provider, depends_on=[cluster_role]),
            ))
        env = [
            {"name": "ACTION", "value": fo.action},
            {"name": "NAMESPACE", "value": plan.namespace},
            {"name": "PROBE_INTERVAL_SECONDS", "value": str(fo.probe_interval_s)},
            {"name": "PROBE_TIMEOUT_SECONDS", "value": str(fo.probe_timeout_s)},
            {"name": "FAILURE_THRESHOLD", "value": str(fo.failure_threshold)},
        ]
        if fence:
            env.append({"name": "FENCE_AFTER_SECONDS", "value": str(fo.fence_after_s)})
        else:
            instance = f"app.kubernetes.io/instance={release}"
            env += [
                {"name": "GROUPS", "value": json.dumps(list(fo.groups))},
                {"name": "STREAMING_SELECTOR", "value": f"{instance},component=streamingnode"},
                {"name": "MIXCOORD_SELECTOR", "value": f"{instance},component=mixcoord"},
                {"name": "ETCD_ENDPOINT", "value": etcd_client_endpoint(release, plan.namespace)},
                {"name": "ETCD_ROOT_PATH", "value": plan.name},  # helm_values sets etcd.rootPath to it
            ]
        k8s.apps.v1.Deployment(
            f"{name}-failover",
            metadata=meta,
            spec={
                "replicas": fo.replicas,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": FAILOVER_NAME,
                        "nodeSelector": dict(fo.node_selector),
                        "tolerations": [
                            {"key": fo.toleration.key, "operator": "Equal", "value": fo.toleration.value,
                             "effect": fo.toleration.effect},
                            *node_failure_tolerations(),
                        ],
                        "topologySpreadConstraints": [{
                            "maxSkew": 1, "topologyKey": ZONE_LABEL, "whenUnsatisfiable": "DoNotSchedule",
                            "labelSelector": {"matchLabels": labels},
                        }],
                        "containers": [{
                            "name": "failover",
                            "image": JOB_IMAGE,
                            "command": ["python", "/job/failover.py"],
                            "env": env,
                            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                                          "limits": {"memory": "128Mi"}},
                            "volumeMounts": [{"name": "job", "mountPath": "/job", "readOnly": True}],
                        }],
                        "volumes": [{"name": "job", "configMap": {"name": config_map.metadata.name}}],
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self, provider=in_cluster.provider,
                                        depends_on=[*created, config_map, *bindings]),
        )
