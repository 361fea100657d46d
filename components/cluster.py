"""ACK Pro managed cluster over the mode's zones, with node pools per zone and role."""

import json
from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud
import pulumi_kubernetes as k8s
from milvus_zones.components.keys import protected_key

from milvus_zones.planning.plan import POOL_MANAGEMENT, NodePoolPlan
from milvus_zones.planning.spec import SecuritySpec

# Terway gives pods VPC addresses from the pod vSwitches; the CSI plugins provision zonal disks for
# etcd; the pod-identity webhook injects RRSA credentials into pods whose service account asks for it.
# What ACK can ship to Log Service from the control plane (ManagedKubernetes control_plane_log_components).
CONTROL_PLANE_LOG_COMPONENTS = ["apiserver", "kcm", "scheduler", "ccm", "controlplane-events"]

ADDONS = [
    # NetworkPolicy: Terway enforces Kubernetes NetworkPolicies (ACK docs, "Configure add-ons with
    # Terraform": terway-eniip config {"IPVlan": ..., "NetworkPolicy": "true"}); IPVlan stays off, so
    # nodes need no Alibaba Cloud Linux image.
    {"name": "terway-eniip", "config": json.dumps({"IPVlan": "false", "NetworkPolicy": "true"})},
    {"name": "csi-plugin"},
    {"name": "csi-provisioner"},
    {"name": "ack-pod-identity-webhook"},
]


# Upgrades one node at a time, a new node first (surge), so a pool's zone never runs short; no automatic
# upgrade, so zones are upgraded one after another (docs/operations.md); auto repair, which the zone-loss
# recovery times assume. Pools created get it; pools of the team's must have it.
MANAGEMENT = POOL_MANAGEMENT


class ClusterArgs(TypedDict):
    control_plane_zones: Sequence[str]
    """Zones whose node vSwitches the control plane uses, in order."""
    node_vswitch_ids: dict[str, pulumi.Input[str]]
    """Zone -> node vSwitch id."""
    pod_vswitch_ids: dict[str, pulumi.Input[str]]
    """Zone -> Terway pod vSwitch id."""
    node_pools: Sequence[NodePoolPlan]
    """Node pools from the plan: zones, size, instance type, labels and taints (an existing one, `existing_id`,
    is read and checked instead of created)."""
    service_cidr: str
    """Kubernetes service CIDR (outside the VPC)."""
    kubernetes_version: str | None
    """ACK version; None for ACK's default."""
    api_server_public: bool
    """Put the API server behind an internet-facing load balancer."""
    security: SecuritySpec
    """Secrets encryption, control-plane logs and node disk encryption (each can be turned off)."""
    tags: dict[str, str]
    """Tags for every taggable resource."""
    cluster_id: NotRequired[pulumi.Input[str]]
    """An existing ACK managed cluster (RRSA enabled) to add the node pools to instead of a new cluster."""
    existing_pool_ids: NotRequired[dict[str, pulumi.Input[str]]]
    """Existing cluster: NodePoolPlan.key -> node pool id, for pools whose plan holds only the deploy-time marker."""
    kubeconfig: NotRequired[pulumi.Input[str]]
    """Existing cluster: its kubeconfig (a secret); without it, a Kubernetes provider passed in `opts.providers`
    is used, else the kubeconfig is read with cs.get_cluster_credential."""


class Cluster(pulumi.ComponentResource):
    """An ACK Pro cluster (RRSA on, deletion protection on) and its node pools.

    By default (`security`): Secrets are encrypted with a KMS key created here, the control plane's
    logs go to Log Service (project k8s-log-<cluster id>, created by ACK), node system disks are encrypted.

    `provider` is a Kubernetes provider configured with the new cluster's kubeconfig; resources that
    go into the cluster use it and depend on `node_pools` so they are scheduled only once nodes exist.
    """

    cluster_id: pulumi.Output[str]
    """The new cluster's id, or the existing one's."""
    secrets_key_id: pulumi.Output[str] | None
    """The KMS key that encrypts Kubernetes Secrets (None with security.secretsEncryption false)."""
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    provider: pulumi.ProviderResource
    node_pools: list[pulumi.Input[pulumi.Resource]]
    """What runs the workloads: the pools created, and each named existing pool once it passed its checks
    (an Output of the read NodePool), so that whatever depends on them waits for the checks."""

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
        security = args["security"]
        key = None
        if existing is None:
            if security.secrets_encryption:
                key = protected_key(f"{name}-secrets-key", f"Encrypts the Kubernetes Secrets of {name}",
                                    security.kms_pending_window_days, args["tags"], child)
            logs = {}
            if security.control_plane_logs:
                logs = {"control_plane_log_components": CONTROL_PLANE_LOG_COMPONENTS,
                        "control_plane_log_ttl": str(security.control_plane_log_ttl_days)}
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
                # Both are needed to turn encryption on (provider docs of encryption_provider_key).
                **({"encryption_provider_key": key.id, "disable_encryption": False} if key is not None else {}),
                **logs,
                tags=args["tags"],
                # Deleting the cluster deletes etcd's disks with it: refuse it in Pulumi as well as in ACK.
                opts=pulumi.ResourceOptions(parent=self, protect=True),
            )

            cluster_id: pulumi.Output[str] = cluster.id
        else:
            cluster_id = pulumi.Output.from_input(existing)

        self.node_pools = []
        for pool in args["node_pools"]:
            if pool.existing_id is not None:
                pool_id = (args.get("existing_pool_ids") or {}).get(pool.key, pool.existing_id)
                self.node_pools.append(self._existing_pool(name, cluster_id, pool, pool_id, in_order(node_ids, pool.zones),
                                                           security.node_disk_encryption))
                continue
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
                    **({"system_disk_encrypted": True, "system_disk_encrypt_algorithm": "aes-256"}
                       if security.node_disk_encryption else {}),
                    labels=[{"key": k, "value": v} for k, v in sorted(pool.labels.items())],
                    taints=[{"key": t.key, "value": t.value, "effect": t.effect} for t in pool.taints],
                    management=dict(MANAGEMENT),
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
        self.secrets_key_id = key.id if key is not None else None
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
                "secrets_key_id": self.secrets_key_id,
                "oidc_provider_arn": self.oidc_provider_arn,
                "oidc_issuer_url": self.oidc_issuer_url,
                "kubeconfig": self.kubeconfig,
            }
        )

    def _existing_pool(self, name: str, cluster_id: pulumi.Output[str], pool: NodePoolPlan, pool_id: pulumi.Input[str],
                       vswitch_ids: list[pulumi.Input[str]], encrypted: bool) -> pulumi.Output[pulumi.Resource]:
        """The existing node pool named for `pool` (existingCluster.nodePools), once it is what the plan needs.

        Read into the stack with `NodePool.get` (a read: never created, updated or deleted; the provider's
        import id is `<cluster_id>:<node_pool_id>`), under `pulumi preview` too. What the read is given
        is what the plan expects (the cloud's own state replaces it); the check then compares the state
        read with the plan: its vSwitches must be the plan's node vSwitches of its zones (checked in
        their zone by the Network), in order (PRIORITY relaunches in the next), and it must carry the
        labels and taints the workloads select and tolerate, the instance type they are sized to, at
        least the nodes they count on, the created pools' MANAGEMENT (auto repair, one node at a time,
        no auto upgrade) and, unless security.nodeDiskEncryption is off, encrypted disks.
        """
        setting = f"existingCluster.nodePools.{pool.key}"
        read = alicloud.cs.NodePool.get(
            f"{name}-{pool.key}",
            pulumi.Output.concat(cluster_id, ":", pool_id),
            cluster_id=cluster_id,
            node_pool_id=pool_id,
            vswitch_ids=vswitch_ids,
            instance_types=[pool.instance_type],
            desired_size=str(pool.desired_size),
            labels=[{"key": k, "value": v} for k, v in sorted(pool.labels.items())],
            taints=[{"key": t.key, "value": t.value, "effect": t.effect} for t in pool.taints],
            scaling_config=({"enable": True, "min_size": pool.desired_size, "max_size": pool.max_size}
                            if pool.max_size else None),
            management=dict(MANAGEMENT),
            **({"system_disk_encrypted": True} if encrypted else {}),
            opts=pulumi.ResourceOptions(parent=self),
        )

        def check(values: list) -> pulumi.Resource:
            listed, labels, taints, types, desired, scaling, management, disk, data_disks, want, given = values
            problems = existing_pool_problems(pool, list(want), listed or [], _pairs(labels, "key", "value"),
                                              _taints(taints), list(types or []), desired, scaling)
            problems += _management_problems(management)
            if encrypted and (not disk or not all(_field(d, "encrypted") in (True, "true") for d in data_disks or [])):
                problems.append("its disks are not all encrypted (system_disk_encrypted, data_disks[].encrypted); "
                                "security.nodeDiskEncryption is on")
            if problems:
                raise pulumi.RunError(
                    f"{self._name}: {setting}: node pool {given} is not what the plan needs for "
                    f"{pool.key}: " + "; ".join(problems) + ". Fix the pool, name another, or leave "
                    f"{pool.key} out of {setting.rsplit('.', 1)[0]} to have it created"
                )
            return read

        return pulumi.Output.all(read.vswitch_ids, read.labels, read.taints, read.instance_types, read.desired_size,
                                 read.scaling_config, read.management, read.system_disk_encrypted, read.data_disks,
                                 pulumi.Output.all(*vswitch_ids), read.node_pool_id).apply(check)

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


def _field(obj: object, name: str) -> object:
    # Output types are read by attribute; a mocked or raw state arrives as a dict in camelCase.
    if isinstance(obj, dict):
        head, *rest = name.split("_")
        camel = head + "".join(w.capitalize() for w in rest)
        return obj.get(name, obj.get(camel))
    return getattr(obj, name, None)


def _pairs(items: object, key: str, value: str) -> dict[str, str]:
    return {str(_field(i, key)): str(_field(i, value) or "") for i in (items or [])}  # type: ignore[attr-defined]


def _taints(items: object) -> set[tuple[str, str, str]]:
    return {(str(_field(t, "key")), str(_field(t, "value") or ""), str(_field(t, "effect") or "NoSchedule"))
            for t in (items or [])}  # type: ignore[attr-defined]


def _management_problems(management: object) -> list[str]:
    problems = []
    if not (_field(management, "enable") and _field(management, "auto_repair")):
        problems.append("it has no auto repair (management.enable and management.auto_repair), which the zone-loss "
                        "recovery times assume")
    unavailable = _field(management, "max_unavailable")
    surge = _field(management, "surge") or _field(management, "surge_percentage")
    if _field(management, "auto_upgrade") or str(unavailable) != "1" or not surge:
        problems.append(f"it does not upgrade one node at a time, a new one first: management.auto_upgrade "
                        f"{bool(_field(management, 'auto_upgrade'))} (allowed: false, zones are upgraded one after "
                        f"another), max_unavailable {unavailable} (allowed: 1), surge {surge or 0} (at least 1)")
    return problems


def existing_pool_problems(pool: NodePoolPlan, want_vswitches: list[str], vswitches: list[str],
                           labels: dict[str, str], taints: set[tuple[str, str, str]], instance_types: list[str],
                           desired: object, scaling: object) -> list[str]:
    """What an existing node pool lacks to stand in for `pool` (empty: it can)."""
    problems: list[str] = []
    zones = ", ".join(pool.zones)
    if list(vswitches) != list(want_vswitches):
        problems.append(f"its vSwitches are {list(vswitches)}; the plan puts {pool.key} in zone(s) {zones}, whose "
                        f"node vSwitches (existingVpc.nodeVswitches) are {list(want_vswitches)}, in that order")
    missing = {k: v for k, v in pool.labels.items() if labels.get(k) != v}
    if missing:
        problems.append("it lacks the node labels " + ", ".join(f"{k}={v}" for k, v in sorted(missing.items()))
                        + " the workloads select")
    want_taints = {(t.key, t.value, t.effect) for t in pool.taints}
    if taints != want_taints:
        shown = ", ".join(f"{k}={v}:{e}" for k, v, e in sorted(want_taints)) or "none"
        problems.append(f"its taints are {sorted(taints) or 'none'}; the plan's workloads tolerate exactly: {shown}")
    if pool.instance_type not in instance_types:
        problems.append(f"its instance types {instance_types} do not include {pool.instance_type} "
                        "(the setting's instanceType, which the workloads are sized to)")
    enabled = bool(_field(scaling, "enable")) if scaling else False
    size = _field(scaling, "min_size") if enabled else desired
    try:
        nodes = int(str(size))
    except ValueError:
        nodes = 0
    if nodes < pool.desired_size:
        problems.append(f"it runs {nodes} node(s); the plan counts on {pool.desired_size}")
    if pool.max_size is not None:
        top = int(str(_field(scaling, "max_size") or 0)) if enabled else 0
        if top < pool.max_size:
            problems.append(f"it must autoscale to at least {pool.max_size} nodes (scaling_config), so nodes of a "
                            f"lost zone can be relaunched in the next; it scales to {top}")
    return problems
