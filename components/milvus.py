"""The Milvus Helm release(s), with values generated from the plan.

Every Kubernetes object here is built by a pure function of milvus_zones.rendering (tests call them
without Pulumi); this component only turns each into its resource, in order.
"""

import operator
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from milvus_zones.components.script_job import ScriptJob

from milvus_zones.planning.plan import FailoverPlan, TopologyPlan
from milvus_zones.rendering import failover_manifests as failover
from milvus_zones.rendering import job_manifests as jobs
from milvus_zones.rendering import milvus_manifests as mm
from milvus_zones.rendering.extra_values import ExtraValuesError, merge_under, unknown_keys, workload_keys
from milvus_zones.rendering.helm_values import CHART_FACTS, PASSWORD_SECRET, release_template, releases, with_cloud_ids
from milvus_zones.rendering.isolation import disruption_budgets, network_policies

# Kept importable from here (deployment.py, cross_region.py and programs use them).
SERVICE_ACCOUNT = mm.SERVICE_ACCOUNT
RETAIN_STORAGE_CLASS = mm.RETAIN_STORAGE_CLASS
FAILOVER_NAME = failover.NAME
__all__ = ["FAILOVER_NAME", "PASSWORD_SECRET", "RETAIN_STORAGE_CLASS", "SERVICE_ACCOUNT", "Milvus", "MilvusArgs",
           "helm_values_problems", "postrender_command"]


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
    wait_for: Sequence[pulumi.Input[pulumi.Resource]]
    """What must exist before Helm installs: node pools (an existing one once checked), the RAM role and its policy."""
    load_balancer_id: NotRequired[pulumi.Input[str]]
    """cross-region-ha: the NLB (created by Pulumi) the proxies' Service reuses."""
    peer_cidrs: NotRequired[Sequence[str]]
    """cross-region-ha: the other region's VPC CIDR, allowed to reach the proxies (CDC)."""
    helm_values: NotRequired[dict[str, Any]]
    """Extra chart values, merged under ours in every release; a key ours set is refused."""


def helm_values_problems(plan: TopologyPlan, extra: dict[str, Any]) -> list[tuple[str, str]]:
    """(key under helmValues, message) for extra chart values this plan refuses: unknown to the pinned
    chart, or colliding with a value of ours. Pure: run it before registering anything."""
    if not extra:
        return []
    problems = unknown_keys(extra, plan.chart.chart_version)
    if problems:
        return problems
    # Only keys matter here: any ids will do.
    ctx = mm.release_context(plan, "", {z: "" for z in plan.compute_zones}, "lb" if plan.proxy_load_balancer else None, ())
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

        peer_cidrs = tuple(args.get("peer_cidrs", ()))

        ns_manifest = mm.namespace(plan)
        ns = k8s.core.v1.Namespace(f"{name}-ns", metadata=ns_manifest["metadata"], opts=in_cluster)
        secret_manifest = mm.root_password_secret(ns.metadata.name, pulumi.Output.secret(args["root_password"]))
        secret = k8s.core.v1.Secret(
            f"{name}-root-password", metadata=secret_manifest["metadata"], type=secret_manifest["type"],
            string_data=secret_manifest["stringData"], opts=in_cluster,
        )
        sc = mm.retain_storage_class()
        storage_class = k8s.storage.v1.StorageClass(
            f"{name}-disk-retain", metadata=sc["metadata"], provisioner=sc["provisioner"], parameters=sc["parameters"],
            reclaim_policy=sc["reclaimPolicy"], volume_binding_mode=sc["volumeBindingMode"],
            allow_volume_expansion=sc["allowVolumeExpansion"], opts=in_cluster,
        )

        # Built once: names and values from the plan; the cloud ids they name are added when known.
        template = release_template(plan, mm.release_context(plan, "", {}, None, peer_cidrs))
        extra = dict(args.get("helm_values") or {})
        components = workload_keys(plan.chart.chart_version)
        vswitches = pulumi.Output.all(**{z: args["node_vswitch_ids"][z] for z in plan.compute_zones})
        values = pulumi.Output.all(args["role_name"], vswitches, args.get("load_balancer_id")).apply(
            lambda a: [merge_under(spec.values, extra, components) for spec in with_cloud_ids(plan, template, *a)]
        )
        # Ingress isolation before any pod starts (enforced by Terway's NetworkPolicy support).
        policies = [
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{m['metadata']['name']}", metadata=m["metadata"], spec=m["spec"],
                opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[ns]),
            )
            for m in network_policies(plan, template, peer_cidrs)
        ]
        created: list[k8s.helm.v3.Release] = []
        for i, spec in enumerate(template):
            created.append(
                k8s.helm.v3.Release(
                    f"{name}-{spec.name}",
                    name=spec.name,
                    chart=spec.chart,
                    version=spec.version,
                    repository_opts={"repo": spec.repo},
                    namespace=ns.metadata.name,
                    values=values.apply(operator.itemgetter(i)),
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

        for m in disruption_budgets(plan, template):
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-pdb-{m['metadata']['name']}", metadata=m["metadata"], spec=m["spec"],
                opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[ns]),
            )

        if plan.resource_groups and not CHART_FACTS[plan.chart.chart_version].replica_resource_groups:
            self._resource_group_job(name, plan, template[0].fullname, ns, created, in_cluster)
        if plan.failover is not None:
            self._failover_controller(name, plan, plan.failover, template[0].name, ns, created, in_cluster)

        self.fullname = template[0].fullname
        self.release_names = pulumi.Output.all(*[r.name for r in created])
        self.namespace = ns.metadata.name
        self.endpoint = pulumi.Output.concat(template[0].fullname, ".", plan.namespace, ".svc:19530")
        self.register_outputs(
            {"release_names": self.release_names, "namespace": self.namespace, "endpoint": self.endpoint}
        )

    def _resource_group_job(self, name, plan: TopologyPlan, service: str, ns, created, in_cluster) -> None:
        """Milvus 2.5 creates node-filtered resource groups only through its API: run that once after install."""
        job = jobs.resource_group_job(plan, service)
        ScriptJob(
            f"{name}-resource-groups",
            {"script": job["script"], "namespace": ns.metadata.name, "env": job["env"], "requirement": job["requirement"],
             "image": job["image"], "deadline_seconds": job["deadline_seconds"], "node_selector": job["node_selector"],
             "wait_for": created},
            provider=in_cluster.provider,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _failover_controller(self, name, plan: TopologyPlan, fo: FailoverPlan, release: str, ns, created,
                             in_cluster) -> None:
        """Two replicas on the quorum pools, one per zone, one of them acting (a Lease): docs/failover-controller.md."""
        namespace = ns.metadata.name
        cm = failover.config_map(namespace)
        config_map = k8s.core.v1.ConfigMap(f"{name}-failover-script", metadata=cm["metadata"], data=cm["data"],
                                           opts=in_cluster)
        sa = failover.service_account(fo, namespace)
        account = k8s.core.v1.ServiceAccount(f"{name}-failover-sa", metadata=sa["metadata"], opts=in_cluster)
        r = failover.role(fo, namespace)
        role = k8s.rbac.v1.Role(f"{name}-failover-role", metadata=r["metadata"], rules=r["rules"], opts=in_cluster)
        rb = failover.role_binding(plan, fo, namespace)
        bindings = [k8s.rbac.v1.RoleBinding(
            f"{name}-failover-rb", metadata=rb["metadata"], role_ref=rb["roleRef"], subjects=rb["subjects"],
            opts=pulumi.ResourceOptions(parent=self, provider=in_cluster.provider, depends_on=[role, account]),
        )]
        d = failover.deployment(plan, fo, release, namespace, config_map.metadata.name)
        k8s.apps.v1.Deployment(
            f"{name}-failover", metadata=d["metadata"], spec=d["spec"],
            opts=pulumi.ResourceOptions(parent=self, provider=in_cluster.provider,
                                        depends_on=[*created, config_map, *bindings]),
        )
