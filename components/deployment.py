"""One Milvus deployment in one region: network, cluster, storage and Milvus, as the plan lays them out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud
from milvus_zones.components.cluster import Cluster
from milvus_zones.components.milvus import SERVICE_ACCOUNT, Milvus
from milvus_zones.components.network import Network
from milvus_zones.components.storage import Storage

from milvus_zones.planning.plan import TopologyPlan
from milvus_zones.planning.spec import SecuritySpec


class MilvusDeploymentArgs(TypedDict):
    plan: TopologyPlan
    """What goes in which zone, from milvus_zones.planning.plan.plan(spec)."""
    kubernetes_version: str | None
    """ACK version; None for ACK's default."""
    api_server_public: bool
    """Expose the Kubernetes API server on the internet."""
    root_password: pulumi.Input[str]
    """Milvus root password, a Pulumi secret."""
    security: SecuritySpec
    """Cloud-side security defaults (encryption, logging), from the stack's `security` setting."""
    peer_cidrs: NotRequired[Sequence[str]]
    """cross-region-ha: VPC CIDRs of the other region(s), allowed to reach this region's proxies."""
    backup_prefix: NotRequired[str]
    """cross-region-ha: bucket prefix of milvus-backup's backups (the RRSA role may write it)."""


class MilvusDeployment(pulumi.ComponentResource):
    """The whole topology of a mode in one region, with an explicit provider for that region.

    A second region (cross-region HA) is a second instance of this component with its own plan.
    """

    vpc_id: pulumi.Output[str]
    cluster_id: pulumi.Output[str]
    bucket_name: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    milvus_endpoint: pulumi.Output[str]
    load_balancer_dns: pulumi.Output[str] | None
    """cross-region-ha: DNS name of the NLB in front of the proxies (None otherwise)."""
    region_provider: alicloud.Provider
    k8s_provider: pulumi.ProviderResource
    milvus: Milvus
    network: Network

    def __init__(self, name: str, args: MilvusDeploymentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("milvus-zones:index:Deployment", name, {}, opts)
        plan = args["plan"]
        # Named after the region, not the component, so that two regions never share a provider name.
        region = alicloud.Provider(f"{name}-{plan.region}", region=plan.region, opts=pulumi.ResourceOptions(parent=self))
        in_region = pulumi.ResourceOptions(parent=self, providers={"alicloud": region})

        network = Network(
            f"{name}-net",
            {"vpc_cidr": plan.vpc_cidr, "vswitches": plan.vswitches, "egress": plan.egress, "tags": plan.tags},
            opts=in_region,
        )
        cluster = Cluster(
            f"{name}-k8s",
            {
                "control_plane_zones": plan.control_plane_zones,
                "node_vswitch_ids": network.node_vswitch_ids,
                "pod_vswitch_ids": network.pod_vswitch_ids,
                "node_pools": plan.node_pools,
                "service_cidr": plan.service_cidr,
                "kubernetes_version": args["kubernetes_version"],
                "api_server_public": args["api_server_public"],
                "security": args["security"],
                "tags": plan.tags,
            },
            opts=in_region,
        )
        storage = Storage(
            f"{name}-oss",
            {
                "bucket": plan.bucket,
                "role_name": _role_name(name, plan),
                "oidc_provider_arn": cluster.oidc_provider_arn,
                "oidc_issuer_url": cluster.oidc_issuer_url,
                "namespace": plan.namespace,
                "service_account": SERVICE_ACCOUNT,
                "extra_prefixes": [args["backup_prefix"]] if args.get("backup_prefix") else [],
                "security": args["security"],
                "tags": plan.tags,
            },
            opts=in_region,
        )
        load_balancer = None
        if plan.region_role is not None:
            # The other region must find this region's proxies by a name known before the Service
            # exists: Pulumi creates the NLB (DNS name known to the stack) and the Service reuses it.
            load_balancer = alicloud.nlb.LoadBalancer(
                f"{name}-proxy-nlb",
                load_balancer_name=f"{name}-proxy",
                load_balancer_type="Network",
                address_type="Intranet",
                address_ip_version="Ipv4",
                vpc_id=network.vpc_id,
                zone_mappings=[{"zone_id": z, "vswitch_id": network.node_vswitch_ids[z]} for z in plan.compute_zones],
                cross_zone_enabled=True,
                tags=plan.tags,
                opts=in_region,
            )
        milvus = Milvus(
            f"{name}-milvus",
            {
                "plan": plan,
                "role_name": storage.role_name,
                "root_password": args["root_password"],
                "node_vswitch_ids": network.node_vswitch_ids,
                "provider": cluster.provider,
                "wait_for": [*cluster.node_pools, storage],
                **({"load_balancer_id": load_balancer.id, "peer_cidrs": list(args.get("peer_cidrs", []))}
                   if load_balancer is not None else {}),
            },
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.vpc_id = network.vpc_id
        self.cluster_id = cluster.cluster_id
        self.bucket_name = storage.bucket_name
        self.role_arn = storage.role_arn
        self.kubeconfig = cluster.kubeconfig
        self.milvus_endpoint = milvus.endpoint
        self.load_balancer_dns = load_balancer.dns_name if load_balancer is not None else None
        self.region_provider = region
        self.k8s_provider = cluster.provider
        self.milvus = milvus
        self.network = network
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "cluster_id": self.cluster_id,
                "bucket_name": self.bucket_name,
                "role_arn": self.role_arn,
                "kubeconfig": self.kubeconfig,
                "milvus_endpoint": self.milvus_endpoint,
            }
        )


def _role_name(name: str, plan: TopologyPlan) -> str:
    # RAM role names: up to 64 letters, digits, '.', '-'; unique per account, so include the bucket.
    return f"{name}-{plan.bucket.name}"[:64].rstrip("-.")
