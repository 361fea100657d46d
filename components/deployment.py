"""One Milvus deployment in one region: network, cluster, storage and Milvus, as the plan lays them out."""

from collections.abc import Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud
from milvus_zones.components.backup import Backup
from milvus_zones.components.cluster import Cluster
from milvus_zones.components.milvus import PASSWORD_SECRET, SERVICE_ACCOUNT, Milvus
from milvus_zones.components.monitoring import Monitoring
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
    vpc_id: NotRequired[pulumi.Input[str]]
    """An existing VPC to build in (network.vpcCidr of the plan must be its CIDR)."""
    existing_vswitch_ids: NotRequired[dict[str, pulumi.Input[str]]]
    """VSwitchPlan.key (e.g. "node-h") -> an existing vSwitch in that VPC and zone; the others are created."""
    cluster_id: NotRequired[pulumi.Input[str]]
    """An existing ACK managed cluster in that VPC (RRSA enabled): only node pools and Milvus are added."""
    kubeconfig: NotRequired[pulumi.Input[str]]
    """Existing cluster: its kubeconfig (secret); or pass a Kubernetes provider in `opts.providers`."""
    existing_pool_ids: NotRequired[dict[str, pulumi.Input[str]]]
    """Existing cluster: NodePoolPlan.key -> the node pool id to use, where the plan's is known only at deploy time."""
    helm_values: NotRequired[dict[str, Any]]
    """Extra chart values merged under ours (milvus_zones.rendering.extra_values checks them)."""


class MilvusDeployment(pulumi.ComponentResource):
    """The whole topology of a mode in one region (a building block of MilvusZones).

    Providers: an `alicloud` provider in `opts.provider` / `opts.providers` (or inherited from a parent)
    is used for every cloud resource; only without one does it build a provider for the plan's region.
    A second region (cross-region HA) is a second instance of this component with its own plan.
    """

    vpc_id: pulumi.Output[str]
    cluster_id: pulumi.Output[str]
    bucket_name: pulumi.Output[str]
    bucket_key_id: pulumi.Output[str] | None
    """Id of the bucket's customer-managed KMS key (security.bucketKmsKey); None with OSS-managed keys."""
    bucket_key_arn: pulumi.Output[str] | None
    """ARN of that key (None with OSS-managed keys)."""
    role_arn: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    milvus_endpoint: pulumi.Output[str]
    load_balancer_dns: pulumi.Output[str] | None
    """cross-region-ha: DNS name of the NLB in front of the proxies (None otherwise)."""
    region_provider: alicloud.Provider
    k8s_provider: pulumi.ProviderResource
    milvus: Milvus
    network: Network
    backup: Backup | None
    """The scheduled backups (None when `backup.enabled` is off)."""

    def __init__(self, name: str, args: MilvusDeploymentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("milvus-zones:index:Deployment", name, {}, opts)
        plan = args["plan"]
        given = self.get_provider("alicloud:index:Provider")
        if isinstance(given, alicloud.Provider):
            region = given  # the team's own (profile, assume-role, endpoints): its region is theirs to match
        else:
            # Named after the region, not the component, so that two regions never share a provider name.
            region = alicloud.Provider(f"{name}-{plan.region}", region=plan.region, opts=pulumi.ResourceOptions(parent=self))
        in_region = pulumi.ResourceOptions(parent=self, providers={"alicloud": region})
        existing_cluster = args.get("cluster_id") is not None
        # An existing cluster keeps its own Terway pod vSwitches: only node vSwitches are needed for the pools.
        vswitches = [v for v in plan.vswitches if v.purpose == "node" or not existing_cluster]

        network = Network(
            f"{name}-net",
            {"vpc_cidr": plan.vpc_cidr, "vswitches": vswitches, "egress": plan.egress, "tags": plan.tags,
             **({"vpc_id": args["vpc_id"]} if args.get("vpc_id") is not None else {}),
             "existing_vswitch_ids": dict(args.get("existing_vswitch_ids") or {})},
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
                **({"cluster_id": args["cluster_id"]} if existing_cluster else {}),
                **({"kubeconfig": args["kubeconfig"]} if args.get("kubeconfig") is not None else {}),
                **({"existing_pool_ids": dict(args["existing_pool_ids"])} if args.get("existing_pool_ids") else {}),
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
                # A restore imports from the backup prefix: Milvus reads it, only milvus-backup writes it.
                "read_prefixes": [plan.backup.prefix] if plan.backup else [],
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
                "helm_values": dict(args.get("helm_values") or {}),
                **({"load_balancer_id": load_balancer.id, "peer_cidrs": list(args.get("peer_cidrs", []))}
                   if load_balancer is not None else {}),
            },
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.backup = None
        if plan.backup is not None:
            self.backup = Backup(
                f"{name}-backup",
                {
                    "plan": plan,
                    "bucket": storage.bucket_name,
                    "fullname": milvus.fullname,
                    "oidc_provider_arn": cluster.oidc_provider_arn,
                    "oidc_issuer_url": cluster.oidc_issuer_url,
                    "password_secret": PASSWORD_SECRET,
                    "k8s_provider": cluster.provider,
                    "wait_for": [milvus],
                    "role_name": f"{_role_name(name, plan)[:56].rstrip('-.')}-backup",
                    "kms_key_arn": storage.bucket_key_arn,
                },
                opts=in_region,
            )

        if plan.monitoring is not None:
            Monitoring(f"{name}-monitoring", {"plan": plan, "k8s_provider": cluster.provider, "wait_for": [milvus]},
                       opts=pulumi.ResourceOptions(parent=self))

        self.vpc_id = network.vpc_id
        self.cluster_id = cluster.cluster_id
        self.bucket_name = storage.bucket_name
        self.bucket_key_id = storage.bucket_key_id
        self.bucket_key_arn = storage.bucket_key_arn
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
                "bucket_key_id": self.bucket_key_id,
                "bucket_key_arn": self.bucket_key_arn,
                "role_arn": self.role_arn,
                "kubeconfig": self.kubeconfig,
                "milvus_endpoint": self.milvus_endpoint,
            }
        )


def _role_name(name: str, plan: TopologyPlan) -> str:
    # RAM role names: up to 64 letters, digits, '.', '-'; unique per account, so include the bucket.
    assert plan.bucket is not None  # self-hosted plans always have one
    return f"{name}-{plan.bucket.name}"[:64].rstrip("-.")
