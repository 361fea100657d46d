"""ACK Pro managed cluster over the mode's zones, with node pools per zone and role."""

import json
from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud
import pulumi_kubernetes as k8s

from milvus_zones.planning.plan import NodePoolPlan

# Terway gives pods VPC addresses from the pod vSwitches; the CSI plugins provision zonal disks for
# etcd; the pod-identity webhook injects RRSA credentials into pods whose service account asks for it.
ADDONS = [
    # NetworkPolicy: Terway enforces Kubernetes NetworkPolicies (ACK docs, "Configure add-ons with
    # Terraform": terway-eniip config {"IPVlan": ..., "NetworkPolicy": "true"}); IPVlan stays off, so
    # nodes need no Alibaba Cloud Linux image.
    {"name": "terway-eniip", "config": json.dumps({"IPVlan": "false", "NetworkPolicy": "true"})},
    {"name": "csi-plugin"},
    {"name": "csi-provisioner"},
    {"name": "ack-pod-identity-webhook"},
]


class ClusterArgs(TypedDict):
    control_plane_zones: Sequence[str]
    """Zones whose node vSwitches the control plane uses, in order."""
    node_vswitch_ids: dict[str, pulumi.Input[str]]
    """Zone -> node vSwitch id."""
    pod_vswitch_ids: dict[str, pulumi.Input[str]]
    """Zone -> Terway pod vSwitch id."""
    node_pools: Sequence[NodePoolPlan]
    """Node pools from the plan: zones, size, instance type, labels and taints."""
    service_cidr: str
    """Kubernetes service CIDR (outside the VPC)."""
    kubernetes_version: str | None
    """ACK version; None for ACK's default."""
    api_server_public: bool
    """Put the API server behind an internet-facing load balancer."""
    tags: dict[str, str]
    """Tags for every taggable resource."""
    cluster_id: NotRequired[pulumi.Input[str]]
    """An existing ACK managed cluster (RRSA enabled) to add the node pools to instead of a new cluster."""
    kubeconfig: NotRequired[pulumi.Input[str]]
    """Existing cluster: its kubeconfig (a secret); without it, a Kubernetes provider passed in `opts.providers`
    is used, else the kubeconfig is read with cs.get_cluster_credential."""


class Cluster(pulumi.ComponentResource):
    """An ACK Pro cluster (RRSA on, deletion protection on) and its node pools.

    `provider` is a Kubernetes provider configured with the new cluster's kubeconfig; resources that
    go into the cluster use it and depend on `node_pools` so they are scheduled only once nodes exist.
    """

    cluster_id: pulumi.Output[str]
    """The new cluster's id, or the existing one's."""
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    provider: pulumi.ProviderResource
    node_pools: list[alicloud.cs.NodePool]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("milvus-zones:index:Cluster", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        zones = list(args["control_plane_zones"])
        node_ids = args["node_vswitch_ids"]
        pod_ids = args["pod_vswitch_ids"]

        def in_order(ids: dict[str, pulumi.Input[str]], order: Sequence[str]) -> list[pulumi.Input[str]]:
            # A list of per-zone Outputs (not one Output of a list) keeps property dependencies exact.
            return [ids[z] for z in order]

        existing = args.get("cluster_id")
        cluster: alicloud.cs.ManagedKubernetes | None = None
        if existing is None:
            cluster = alicloud.cs.ManagedKubernetes(
                f"{name}-ack",
                name=f"{name}-ack",
                cluster_spec="ack.pro.small",
                version=args["kubernetes_version"],
                vswitch_ids=in_order(node_ids, zones),
                pod_vswitch_ids=in_order(pod_ids, zones),
                service_cidr=args["service_cidr"],
                proxy_mode="ipvs",
                # Egress is the Network's NAT gateway per zone; ACK's own single NAT would be one zone's.
                new_nat_gateway=False,
                is_enterprise_security_group=True,
                enable_rrsa=True,
                deletion_protection=True,
                slb_internet_enabled=args["api_server_public"],
                addons=ADDONS,
                tags=args["tags"],
                # Deleting the cluster deletes etcd's disks with it: refuse it in Pulumi as well as in ACK.
                opts=pulumi.ResourceOptions(parent=self, protect=True),
            )

            cluster_id: pulumi.Output[str] = cluster.id
        else:
            cluster_id = pulumi.Output.from_input(existing)

        self.node_pools = []
        for pool in args["node_pools"]:
            self.node_pools.append(
                alicloud.cs.NodePool(
                    f"{name}-{pool.key}",
                    cluster_id=cluster_id,
                    node_pool_name=pool.key,
                    vswitch_ids=in_order(node_ids, pool.zones),
                    instance_types=[pool.instance_type],
                    desired_size=str(pool.desired_size),
                    multi_az_policy=pool.multi_az_policy,
                    instance_charge_type="PostPaid",
                    system_disk_category="cloud_essd",
                    system_disk_size=120,
                    labels=[{"key": k, "value": v} for k, v in sorted(pool.labels.items())],
                    taints=[{"key": t.key, "value": t.value, "effect": t.effect} for t in pool.taints],
                    # Upgrades one node at a time, a new node first (surge), so a pool's zone never runs
                    # short; no automatic upgrade, so zones are upgraded one after another (docs/operations.md).
                    management={"enable": True, "auto_repair": True, "auto_upgrade": False, "max_unavailable": 1,
                                "surge": 1},
                    # Needs node autoscaling enabled on the cluster (ACK console/API); see docs/failures.md.
                    scaling_config=(
                        {"enable": True, "min_size": pool.desired_size, "max_size": pool.max_size}
                        if pool.max_size else None
                    ),
                    tags=args["tags"],
                    opts=child,
                )
            )

        user_provider = self.get_provider("kubernetes:index:Provider") if existing is not None else None
        if existing is not None and args.get("kubeconfig") is not None:
            self.kubeconfig = pulumi.Output.secret(args["kubeconfig"])
        elif user_provider is not None:
            self.kubeconfig = pulumi.Output.secret("")  # the team's provider holds it; we never see it
        else:
            # Not a temporary credential: it would expire between runs, and the provider keeps it (secret) in state.
            credential = alicloud.cs.get_cluster_credential_output(
                cluster_id=cluster_id,
                opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[cluster] if cluster is not None else []),
            )
            self.kubeconfig = pulumi.Output.secret(credential.kube_config)
        if user_provider is not None and args.get("kubeconfig") is None:
            self.provider = user_provider
        else:
            self.provider = k8s.Provider(
                f"{name}-k8s",
                kubeconfig=self.kubeconfig,
                enable_server_side_apply=True,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster] if cluster is not None else []),
            )

        self.cluster_id = cluster_id
        if cluster is not None:
            self.oidc_provider_arn = cluster.rrsa_metadata.apply(lambda m: m.ram_oidc_provider_arn if m else None)
            self.oidc_issuer_url = cluster.rrsa_metadata.apply(lambda m: m.rrsa_oidc_issuer_url if m else None)
        else:
            rrsa = self._existing_rrsa(cluster_id)
            self.oidc_provider_arn = rrsa.apply(lambda c: c.ram_oidc_provider_arn)
            self.oidc_issuer_url = rrsa.apply(lambda c: c.rrsa_oidc_issuer_url)
        self.register_outputs(
            {
                "cluster_id": self.cluster_id,
                "oidc_provider_arn": self.oidc_provider_arn,
                "oidc_issuer_url": self.oidc_issuer_url,
                "kubeconfig": self.kubeconfig,
            }
        )

    def _existing_rrsa(self, cluster_id: pulumi.Output[str]) -> pulumi.Output:
        """The existing cluster's RRSA OIDC provider, which the OSS role trusts; refused when RRSA is off."""
        found = alicloud.cs.get_managed_kubernetes_clusters_output(
            ids=[cluster_id], enable_details=True, opts=pulumi.InvokeOutputOptions(parent=self)
        )

        def rrsa(args: list):
            cid, result = args
            clusters = [c for c in result.clusters if c.id == cid]
            if not clusters:
                raise pulumi.RunError(f"{self._name}: no ACK managed cluster {cid} in this provider's region")
            config = clusters[0].rrsa_config
            if config is None or not config.enabled:
                raise pulumi.RunError(
                    f"{self._name}: cluster {cid} has RRSA disabled; Milvus reaches OSS through an RRSA role, "
                    "never keys: enable it (ACK console: Cluster information > Security and audit > RRSA OIDC)"
                )
            return config

        return pulumi.Output.all(cluster_id, found).apply(rrsa)
