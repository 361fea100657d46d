"""The Milvus Helm release(s), with values generated from the plan."""

import functools
import hashlib
import json
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from milvus_zones.components.script_job import ScriptJob

from milvus_zones.planning.catalog import JOB_IMAGE, oss_endpoint
from milvus_zones.planning.plan import ZONE_LABEL, FailoverPlan, TopologyPlan
from milvus_zones.planning.sizing import FAILOVER
from milvus_zones.rendering.extra_values import ExtraValuesError, merge_under, unknown_keys, workload_keys
from milvus_zones.rendering.helm_values import (
    CHART_FACTS,
    PASSWORD_SECRET,
    ReleaseContext,
    etcd_member_endpoints,
    node_failure_tolerations,
    releases,
    resource_group_configs,
)
from milvus_zones.rendering.isolation import FAILOVER_PORT, disruption_budgets, network_policies

SERVICE_ACCOUNT = "milvus"
RETAIN_STORAGE_CLASS = "milvus-zones-disk-retain"
# ACK's pod-identity webhook injects RRSA credentials into pods of namespaces carrying this label.
RRSA_INJECTION_LABEL = "pod-identity.alibabacloud.com/injection"
# The Job that creates Milvus 2.5's node-filtered resource groups: a pinned Python image and client.
# Up to 900 s waiting for Milvus to answer (MILVUS_WAIT_SECONDS), then three calls of at most 60 s.
RESOURCE_GROUP_JOB_DEADLINE_S = 1800
JOB_PYMILVUS = "pymilvus==2.5.18"  # the client of the 2.5 server whose resource groups the Job creates
# The WAL pinning controller (milvus_zones/jobs/failover.py): standard library only, so no install step.
FAILOVER_NAME = "milvus-zones-failover"  # its Deployment, ServiceAccount, Role and Lease
from milvus_zones_policies.model.names import FAILOVER_LABEL  # noqa: E402  (defined once, in the pack)


def _merged_values(shapes: list, index: int, extra: dict[str, Any], components: frozenset[str]) -> dict[str, Any]:
    """The values of release `index` with the team's helmValues merged under them."""
    return merge_under(shapes[index].values, extra, components)


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
    helm_values: NotRequired[dict[str, Any]]
    """Extra chart values, merged under ours in every release; a key ours set is refused."""


def _context(plan: TopologyPlan, role_name: str, vswitch_ids: dict[str, str], lb_id: str | None,
             peer_cidrs: tuple[str, ...]) -> ReleaseContext:
    return ReleaseContext(
        role_name=role_name,
        service_account=SERVICE_ACCOUNT,
        password_secret=PASSWORD_SECRET,
        oss_endpoint=oss_endpoint(plan.region),
        vpc_cidr=plan.vpc_cidr,
        lb_vswitch_ids=vswitch_ids,
        storage_class=RETAIN_STORAGE_CLASS,
        lb_id=lb_id,
        peer_cidrs=peer_cidrs,
    )


def helm_values_problems(plan: TopologyPlan, extra: dict[str, Any]) -> list[tuple[str, str]]:
    """(key under helmValues, message) for extra chart values this plan refuses: unknown to the pinned
    chart, or colliding with a value of ours. Pure: run it before registering anything."""
    if not extra:
        return []
    problems = unknown_keys(extra, plan.chart.chart_version)
    if problems:
        return problems
    ctx = _context(plan, "", {z: "" for z in plan.compute_zones}, "lb" if plan.proxy_load_balancer else None, ())
    components = workload_keys(plan.chart.chart_version)
    for spec in releases(plan, ctx):
        try:
            merge_under(spec.values, extra, components)
        except ExtraValuesError as e:
            return e.problems
    return []


class Milvus(pulumi.ComponentResource):
    """Namespace (RRSA injection on), root password Secret, retained-disk StorageClass and the release(s).

    Releases are protected against `pulumi destroy`; etcd's volumes use a StorageClass whose
    reclaim policy is Retain, so even a deleted claim leaves its disk in place.
    """

    release_names: pulumi.Output[list[str]]
    namespace: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    fullname: str
    """The chart's fullname of the primary release: its Service fronts the proxies (19530, and 9091)."""

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
            return _context(plan, role_name, vswitch_ids, lb_id, tuple(args.get("peer_cidrs", ())))

        # The set of releases depends on the plan only; their values also need resource ids.
        shape = releases(plan, context("", {z: "" for z in plan.compute_zones}))
        extra = dict(args.get("helm_values") or {})
        components = workload_keys(plan.chart.chart_version)
        vswitches = pulumi.Output.all(**{z: args["node_vswitch_ids"][z] for z in plan.compute_zones})
        inputs = pulumi.Output.all(args["role_name"], vswitches, args.get("load_balancer_id")).apply(
            lambda a: releases(plan, context(a[0], a[1], a[2]))
        )
        # Ingress isolation before any pod starts (enforced by Terway's NetworkPolicy support).
        policies = [
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{m['metadata']['name']}", metadata=m["metadata"], spec=m["spec"],
                opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[ns]),
            )
            for m in network_policies(plan, shape, tuple(args.get("peer_cidrs", ())))
        ]
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
                    values=inputs.apply(functools.partial(_merged_values, index=i, extra=extra, components=components)),
                    postrender=postrender_command() if spec.postrender else None,
                    timeout=1800,
                    max_history=10,
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        provider=provider,
                        depends_on=[ns, secret, storage_class, *policies, *args["wait_for"], *created],
                        protect=True,
                    ),
                )
            )

        for m in disruption_budgets(plan, shape):
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-pdb-{m['metadata']['name']}", metadata=m["metadata"], spec=m["spec"],
                opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[ns]),
            )

        if plan.resource_groups and not CHART_FACTS[plan.chart.chart_version].replica_resource_groups:
            self._resource_group_job(name, plan, shape[0].fullname, ns, created, in_cluster)
        if plan.failover is not None:
            self._failover_controller(name, plan, plan.failover, shape[0].name, ns, created, in_cluster)

        self.fullname = shape[0].fullname
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
                "image": JOB_IMAGE.ref(plan.image_registry),
                "deadline_seconds": RESOURCE_GROUP_JOB_DEADLINE_S,
                "node_selector": plan.component("proxy").node_selector,
                "wait_for": created,
            },
            provider=in_cluster.provider,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _failover_controller(self, name, plan: TopologyPlan, fo: FailoverPlan, release: str, ns, created,
                             in_cluster) -> None:
        """Two replicas on the quorum pools, one per zone, one of them acting (a Lease): docs/failover-controller.md."""
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
        # Its Lease, and nothing else: what it watches and writes is in etcd. `create` cannot be limited
        # to a name (RBAC knows no name before the object exists).
        role = k8s.rbac.v1.Role(f"{name}-failover-role", metadata=meta, rules=[
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": [FAILOVER_NAME],
             "verbs": ["get", "update"]},
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
        ], opts=in_cluster)
        bindings = [k8s.rbac.v1.RoleBinding(
            f"{name}-failover-rb", metadata=meta,
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": FAILOVER_NAME},
            subjects=[{"kind": "ServiceAccount", "name": FAILOVER_NAME, "namespace": plan.namespace}],
            opts=pulumi.ResourceOptions(parent=self, provider=in_cluster.provider, depends_on=[role, account]),
        )]
        env = [
            {"name": "NAMESPACE", "value": plan.namespace},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "LEASE_NAME", "value": FAILOVER_NAME},
            {"name": "GROUPS", "value": json.dumps(list(fo.groups))},
            {"name": "ETCD_ENDPOINTS",
             "value": json.dumps(etcd_member_endpoints(release, plan.namespace, plan.etcd.replicas))},
            {"name": "ETCD_ROOT_PATH", "value": plan.name},  # helm_values sets etcd.rootPath to it
            {"name": "PROBE_INTERVAL_SECONDS", "value": str(fo.probe_interval_s)},
            {"name": "FAILURE_THRESHOLD", "value": str(fo.failure_threshold)},
            {"name": "LEASE_DURATION_SECONDS", "value": str(fo.lease_duration_s)},
            {"name": "RENEW_DEADLINE_SECONDS", "value": str(fo.renew_deadline_s)},
            {"name": "HTTP_PORT", "value": str(FAILOVER_PORT)},
            {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},  # read-only root filesystem
        ]
        probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10, "timeoutSeconds": 2,
                 "failureThreshold": 3}
        k8s.apps.v1.Deployment(
            f"{name}-failover",
            metadata=meta,
            spec={
                "replicas": fo.replicas,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels, "annotations": {
                        "prometheus.io/scrape": "true", "prometheus.io/port": str(FAILOVER_PORT),
                        "prometheus.io/path": "/metrics"}},
                    "spec": {
                        "serviceAccountName": FAILOVER_NAME,
                        "enableServiceLinks": False,
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
                        "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534,
                                            "seccompProfile": {"type": "RuntimeDefault"}},
                        "containers": [{
                            "name": "failover",
                            "image": JOB_IMAGE.ref(plan.image_registry),
                            "command": ["python", "/job/failover.py"],
                            "env": env,
                            "ports": [{"name": "http", "containerPort": FAILOVER_PORT, "protocol": "TCP"}],
                            "livenessProbe": probe,
                            "readinessProbe": {**probe, "httpGet": {"path": "/readyz", "port": "http"},
                                               "periodSeconds": 5},
                            # Requests as the node sizing counts them; memory limit = request (not evicted first).
                            "resources": {"requests": {"cpu": f"{FAILOVER.cpu_m}m", "memory": f"{FAILOVER.memory_mi}Mi"},
                                          "limits": {"cpu": "200m", "memory": f"{FAILOVER.memory_mi}Mi"}},
                            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                                "privileged": False, "capabilities": {"drop": ["ALL"]}},
                            "volumeMounts": [{"name": "job", "mountPath": "/job", "readOnly": True}],
                        }],
                        "volumes": [{"name": "job", "configMap": {"name": config_map.metadata.name}}],
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self, provider=in_cluster.provider,
                                        depends_on=[*created, config_map, *bindings]),
        )
