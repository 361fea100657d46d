"""MilvusZones: the public component. A team's settings in, a Milvus deployment of that mode out.

The args are the stack config's settings (snake_case here, camelCase in the stack config and in
other languages), validated by the same spec with the same messages; the planner runs inside, and
the building blocks (MilvusDeployment, CrossRegionDeployment, ManagedMilvus, ...) do the rest.

No postponed annotations (PEP 563) here: Pulumi's schema inference reads these annotations
as objects (pulumi.provider.experimental.analyzer).
"""

from collections.abc import Awaitable, Mapping
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud
from milvus_zones.components.config import check_fit
from milvus_zones.components.cross_region import CrossRegionDeployment
from milvus_zones.components.deployment import MilvusDeployment
from milvus_zones.components.managed import ManagedMilvus
from milvus_zones.components.milvus import helm_values_problems

from milvus_zones.planning.plan import backup_summary, plan, plan_cross_region, plan_managed, zone_suffix
from milvus_zones.planning.spec import DEPLOY_TIME_VALUE, Backend, DeploymentSpec, Mode, SpecError
from milvus_zones.planning.stackconfig import spec_from_settings

TYPE = "milvus-zones:index:MilvusZones"


class NetworkArgs(TypedDict):
    """Address plan. vSwitch CIDRs are carved from vpcCidr in zone order unless given."""

    vpc_cidr: NotRequired[str]
    """CIDR of the VPC (default 10.0.0.0/16); with existingVpc, the existing VPC's CIDR."""
    node_cidrs: NotRequired[list[str]]
    """One node vSwitch CIDR per zone, in zone order (used for the vSwitches that are created)."""
    pod_cidrs: NotRequired[list[str]]
    """One Terway pod vSwitch CIDR per zone, in zone order."""
    service_cidr: NotRequired[str]
    """Kubernetes service CIDR (default 172.16.0.0/20); must lie outside the VPC."""


class PeerRegionArgs(TypedDict):
    """cross-region-ha: the second region, with the same meaning as the first region's settings."""

    region: str
    """Alibaba Cloud region of the peer, e.g. cn-shanghai."""
    zones: list[str]
    """The peer's zones in order: primary, secondary, third."""
    bucket_name: str
    """The peer's OSS bucket (globally unique)."""
    network: NotRequired[NetworkArgs]
    """The peer's address plan; its VPC CIDR must not overlap the first region's."""


class ResourcesArgs(TypedDict):
    """Requests = limits of one component's pods, instead of the size derived from its pool."""

    cpu: str
    """CPU per pod, e.g. 500m, 2 or 1.5."""
    memory: str
    """Memory per pod, e.g. 512Mi or 8Gi."""


class ClientAccessArgs(TypedDict):
    """Who may reach Milvus' client port (NetworkPolicy)."""

    cidrs: NotRequired[list[str]]
    """Source CIDRs allowed to the client port; default: the VPC CIDR."""
    namespaces: NotRequired[list[str]]
    """Namespaces whose pods may reach the client port."""


class BackupArgs(TypedDict):
    """Scheduled milvus-backup runs (self-hosted) or the managed service's automatic backup."""

    enabled: NotRequired[bool]
    """Back up on a schedule (default true; managed backend: autoBackup)."""
    schedule: NotRequired[str]
    """Cron schedule of the backups, five fields, UTC (default 30 2 * * *)."""
    retention_days: NotRequired[int]
    """Days a backup is kept before the cleanup deletes it (default 7)."""


class GrafanaArgs(TypedDict):
    """Milvus' dashboard imported by grafana-operator (GrafanaDashboard, by URL at the running image's tag)."""

    instance_labels: dict[str, str]
    """Labels of the Grafana resource(s) to import into (the dashboard's instanceSelector)."""
    folder: NotRequired[str]
    """Grafana folder of the dashboard (default Milvus)."""


class EgressIsolationArgs(TypedDict):
    """NetworkPolicy egress of the Milvus namespace, each on unless false (docs/hardening.md)."""

    restricted: NotRequired[bool]
    """Deny egress by default, then allow what the workloads need."""
    dns: NotRequired[bool]
    """DNS to kube-dns and ACK's NodeLocal DNSCache."""
    cloud_apis: NotRequired[bool]
    """HTTPS outside the VPC and the service CIDR (OSS, STS for RRSA, PyPI for the Jobs)."""
    cloud_api_cidrs: NotRequired[list[str]]
    """Narrows cloud_apis for Milvus and the backup/restore Jobs to these CIDRs (e.g. 100.64.0.0/10); the script
    Jobs keep the wide rule. Milvus 2.6 calls STS at sts.aliyuncs.com: docs/hardening.md#egress."""
    api_server: NotRequired[bool]
    """The failover controller to the Kubernetes API server."""


class MonitoringArgs(TypedDict):
    """Monitors and alert rules (needs the Prometheus Operator's CRDs)."""

    enabled: NotRequired[bool]
    """Create PodMonitors and PrometheusRules (default false)."""
    labels: NotRequired[dict[str, str]]
    """Extra labels on the monitors and rules, to match a Prometheus' selectors (e.g. release)."""
    grafana: NotRequired[GrafanaArgs]
    """Provision Milvus' dashboard into a grafana-operator Grafana (needs enabled)."""


class SecurityArgs(TypedDict):
    """Cloud-side security defaults, each on unless turned off (docs/security.md)."""

    node_disk_encryption: NotRequired[bool]
    """Encrypt node pool system disks (aes-256, ECS' default service key)."""
    secrets_encryption: NotRequired[bool]
    """Encrypt ACK Secrets with a KMS key the stack creates (rotation and deletion protection on)."""
    control_plane_logs: NotRequired[bool]
    """Ship the control plane's logs (apiserver, kcm, scheduler, ccm, events) to Log Service."""
    control_plane_log_ttl_days: NotRequired[int]
    """Retention of the control-plane logs, days."""
    bucket_access_logging: NotRequired[bool]
    """Deliver the data bucket's access logs to a log bucket of the stack."""
    bucket_kms_key: NotRequired[bool]
    """Encrypt the data bucket with a customer-managed KMS key of the stack instead of OSS-managed keys (default off)."""
    kms_pending_window_days: NotRequired[int]
    """Days a deleted KMS key of the stack stays recoverable (KMS allows 7 to 366)."""


class ExistingVpcArgs(TypedDict):
    """A VPC the team already has. Only the vSwitches it does not list are created, in its CIDR."""

    vpc_id: pulumi.Input[str]
    """Id of the existing VPC (vpc-...); set network.vpcCidr to its CIDR."""
    node_vswitches: NotRequired[dict[str, pulumi.Input[str]]]
    """Zone -> existing node vSwitch id; each is checked (vpc.get_switches) to be in that VPC and zone."""
    pod_vswitches: NotRequired[dict[str, pulumi.Input[str]]]
    """Zone -> existing Terway pod vSwitch id (not used with existingCluster)."""


class ExistingNodePoolArgs(TypedDict):
    """A node pool of the existing cluster used instead of one the plan would create."""

    pool_id: pulumi.Input[str]
    """Id of the ACK node pool (np...); labelled and tainted as the plan's pool (checked at deploy time)."""
    instance_type: str
    """An ECS instance type of the pool's: the workloads are sized to it (checked against its instance_types)."""


class ExistingClusterArgs(TypedDict):
    """An ACK managed cluster the team already has, in existingVpc, with RRSA enabled."""

    cluster_id: pulumi.Input[str]
    """Id of the cluster; milvus-zones adds its node pools, the OSS role and Milvus, nothing else."""
    node_pools: NotRequired[dict[str, ExistingNodePoolArgs]]
    """Plan pool key (compute-h, quorum-j, ...) -> a pool of the cluster to use instead; pools left out are created."""
    kubeconfig: NotRequired[pulumi.Input[str]]
    """Its kubeconfig (a secret). Without it, a Kubernetes provider given in opts.providers is used,
    else the kubeconfig is read with cs.get_cluster_credential."""


class MilvusZonesArgs(TypedDict):
    """The settings of one deployment: the stack config's `milvus-zones:*` keys, snake_case."""

    mode: str
    """Deployment mode: single-zone, multi-zone-basic, multi-zone-ha or cross-region-ha."""
    region: str
    """Alibaba Cloud region, e.g. cn-hangzhou."""
    zones: list[str]
    """Zones in order: primary, secondary, third (one zone for single-zone)."""
    root_password: pulumi.Input[str]
    """Milvus root password (the managed backend's administrator password); pass a Pulumi secret."""
    backend: NotRequired[str]
    """self-hosted (default: Milvus on ACK) or managed (Alibaba Cloud's managed Milvus, alicloud.MilvusInstance)."""
    milvus_version: NotRequired[str]
    """Milvus minor version: 2.4 (chart 4.2.25), 2.5 (4.2.58) or 2.6 (5.0.19, default); multi-zone-ha excludes 2.4."""
    compute_node_count: NotRequired[int]
    """Total compute nodes (default 2); multi-zone-ha needs a multiple of 2 and splits them evenly over two zones."""
    compute_instance_type: NotRequired[str]
    """ECS instance type of compute nodes (default ecs.g7.2xlarge)."""
    quorum_instance_type: NotRequired[str]
    """ECS instance type of quorum nodes, etcd and the message service (default ecs.g7.large)."""
    quorum_nodes_per_zone: NotRequired[int]
    """Quorum nodes per quorum zone (default 1; single-zone puts three times this in its zone)."""
    message_service: NotRequired[str]
    """WAL / message service: auto (default), woodpecker (2.6 only), pulsar or kafka."""
    network: NotRequired[NetworkArgs]
    """Address plan: vpcCidr, serviceCidr, and optionally nodeCidrs / podCidrs (one per zone, in zone order)."""
    bucket_name: NotRequired[str]
    """OSS bucket for Milvus data; globally unique; required by the self-hosted backend."""
    bucket_root_path: NotRequired[str]
    """Prefix under which Milvus writes in the bucket (default milvus); the RAM role is limited to it."""
    bucket_redundancy: NotRequired[str]
    """auto (default), ZRS or LRS; the multi-zone modes require ZRS."""
    kubernetes_version: NotRequired[str]
    """ACK Kubernetes version, e.g. 1.33.3-aliyun.1; ACK's default when unset."""
    namespace: NotRequired[str]
    """Kubernetes namespace of the Milvus release (default milvus)."""
    etcd_volume_size_gi: NotRequired[int]
    """Persistent volume size of each etcd member, GiB (default 20)."""
    api_server_public: NotRequired[bool]
    """Expose the Kubernetes API server through an internet-facing load balancer (default false)."""
    tags: NotRequired[dict[str, str]]
    """Tags applied to every taggable resource (the key prefix milvus-zones/ is reserved)."""
    managed_query_cu: NotRequired[int]
    """Managed backend: compute units of each query node replica (default 8)."""
    region_mode: NotRequired[str]
    """cross-region-ha: the topology inside each region, multi-zone-ha (default) or multi-zone-basic."""
    peer: NotRequired[PeerRegionArgs]
    """cross-region-ha: the second region."""
    primary_region: NotRequired[str]
    """cross-region-ha: the region that takes writes (default: region); changing it is a switchover."""
    force_promote: NotRequired[bool]
    """cross-region-ha, unplanned failover only: promote primaryRegion without waiting for the lost region."""
    existing_vpc: NotRequired[ExistingVpcArgs]
    """Bring your own VPC (self-hosted, single region): only the missing vSwitches are created, no NAT egress."""
    existing_cluster: NotRequired[ExistingClusterArgs]
    """Bring your own ACK cluster (needs existingVpc): only its node pools, the OSS role and Milvus are added."""
    helm_values: NotRequired[dict[str, Any]]
    """Extra Milvus chart values (monitoring, extra env, ...), merged under ours; every key must be the pinned
    chart's, and what the mode's guarantees rest on (zone pinning, etcd, auth, storage, image) is refused."""
    milvus_image_tag: NotRequired[str]
    """Milvus image tag (a patch of milvusVersion, e.g. v2.6.22); the catalog's pin when unset."""
    milvus_image_digest: NotRequired[str]
    """sha256 digest of milvusImageTag, pinned with it (sha256:<64 hex>)."""
    image_digests: NotRequired[dict[str, str]]
    """Digests of the images the stack runs, {"repository:tag": "sha256:<64 hex>"}; each overrides the catalog's
    (`milvus-zones images STACK` lists the names; `milvus-zones images pin` reads them from the registry)."""
    image_registry: NotRequired[str]
    """Registry every image is pulled from (an ACR instance or a mirror with Docker Hub's paths); Docker Hub when unset."""
    resources: NotRequired[dict[str, ResourcesArgs]]
    """Per-component requests = limits, {component: {cpu, memory}}, instead of the sizes derived from the pools."""
    client_access: NotRequired[ClientAccessArgs]
    """NetworkPolicy: CIDRs and namespaces allowed to Milvus' client port (default: the VPC CIDR)."""
    egress_isolation: NotRequired[EgressIsolationArgs]
    """NetworkPolicy egress: {restricted, dns, cloud_apis, api_server} each on unless false; cloud_api_cidrs."""
    monitoring_namespace: NotRequired[str]
    """NetworkPolicy: the namespace allowed to scrape metrics (Milvus 9091, etcd 2381, failover controller 8080)."""
    backup: NotRequired[BackupArgs]
    """Scheduled backups and their retention."""
    monitoring: NotRequired[MonitoringArgs]
    """Monitors and alert rules."""
    security: NotRequired[SecurityArgs]
    """Cloud-side security defaults: disk and Secrets encryption, control-plane logs, bucket access logs and key."""
    region_providers: NotRequired[dict[str, alicloud.Provider]]
    """cross-region-ha: region -> the team's alicloud provider for that region (opts.providers holds one only)."""


class RegionSummary(TypedDict):
    """One region of a cross-region-ha deployment."""

    role: str
    """primary or standby."""
    compute: list[str]
    """Zones that run Milvus compute."""
    quorum: list[str]
    """Zones of the etcd members (and the message service)."""


class InvalidSettings(pulumi.RunError):
    """Settings the spec refuses. A RunError: Pulumi shows the message alone, without a traceback."""

    def __init__(self, name: str, problems: list[tuple[str, str]]):
        self.problems = problems
        lines = "\n".join(f"  {_setting_name(k)}: {m}" for k, m in problems)
        super().__init__(f"MilvusZones {name}: invalid settings:\n{lines}")


# Args that are not spec settings (the spec checks settings; these are credentials and providers).
_NOT_SETTINGS = frozenset({"root_password", "region_providers"})


class MilvusZones(pulumi.ComponentResource):
    """Milvus across availability zones on Alibaba Cloud, in one of the managed service's deployment modes.

    Settings are checked before anything is registered: a bad one raises InvalidSettings naming it.
    Cloud resources use the alicloud provider in opts.provider / opts.providers when one is given
    (cross-region-ha: region_providers), else one built for the region.
    """

    mode: pulumi.Output[str]
    """The deployment mode."""
    backend: pulumi.Output[str]
    """self-hosted or managed."""
    region: pulumi.Output[str]
    """The (first) region."""
    compute_zones: pulumi.Output[list[str]]
    """Zones that run Milvus compute (first region)."""
    quorum_zones: pulumi.Output[list[str]]
    """Zones of the etcd members (first region; self-hosted)."""
    primary_zone: pulumi.Output[str]
    """The primary zone (first region)."""
    milvus_version: pulumi.Output[str]
    """Milvus version and the chart that installs it, e.g. "2.6.22 (chart 5.0.19)"; the minor on managed."""
    vpc_id: pulumi.Output[str]
    """VPC of the (first region's) deployment, created or given."""
    cluster_id: pulumi.Output[str]
    """ACK cluster id (single-region self-hosted)."""
    bucket_name: pulumi.Output[str]
    """OSS bucket of Milvus data (single-region self-hosted)."""
    oss_role_arn: pulumi.Output[str]
    """RAM role Milvus assumes through RRSA to reach the bucket (single-region self-hosted)."""
    milvus_endpoint: pulumi.Output[str]
    """Where clients connect: host:19530 (self-hosted; cross-region-ha: the DNS name that follows the primary)."""
    kubeconfig: pulumi.Output[str]
    """Kubeconfig of the cluster (secret; empty when the team's own Kubernetes provider was used)."""
    instance_id: pulumi.Output[str]
    """Managed backend: the MilvusInstance id."""
    kms_key_id: pulumi.Output[str]
    """Managed backend: the KMS key the instance is encrypted with."""
    primary_region: pulumi.Output[str]
    """cross-region-ha: the region that takes writes."""
    standby_region: pulumi.Output[str]
    """cross-region-ha: the read-only region CDC replicates to."""
    regions: pulumi.Output[dict[str, RegionSummary]]
    """cross-region-ha: region -> its role and zones."""
    cluster_ids: pulumi.Output[dict[str, str]]
    """Region -> ACK cluster id."""
    bucket_names: pulumi.Output[dict[str, str]]
    """Region -> OSS bucket."""
    kubeconfigs: pulumi.Output[dict[str, str]]
    """Region -> kubeconfig (secret)."""
    backup: pulumi.Output[dict[str, Any]]
    """Backups: schedule, retention and the RPO they give (self-hosted; cross-region-ha: the primary's), or the
    managed service's automatic backup."""

    def __init__(self, name: str, args: MilvusZonesArgs, opts: pulumi.ResourceOptions | None = None):
        spec = settings_spec(name, args)  # before registering anything: a bad setting creates nothing
        password = args.get("root_password")
        if password is None:
            raise InvalidSettings(name, [("rootPassword", "required: the Milvus root password, a Pulumi secret")])
        _check_helm_values(name, spec)
        super().__init__(TYPE, name, {}, opts)
        # The building block keeps the name and, by alias, the URNs it had at the top of the program,
        # so stacks deployed before MilvusZones existed update in place instead of being replaced.
        child = pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)])
        none: pulumi.Output[Any] = pulumi.Output.from_input(None)
        out: dict[str, pulumi.Output[Any]] = dict.fromkeys(_OUTPUTS, none)
        out["mode"] = pulumi.Output.from_input(str(spec.mode))
        out["backend"] = pulumi.Output.from_input(str(spec.backend))
        out["region"] = pulumi.Output.from_input(spec.region)

        self.deployment: MilvusDeployment | CrossRegionDeployment | ManagedMilvus
        if spec.mode is Mode.CROSS_REGION_HA:
            cross = plan_cross_region(spec)
            xr = CrossRegionDeployment(
                name,
                {"plan": cross, "kubernetes_version": spec.kubernetes_version,
                 "api_server_public": spec.api_server_public, "root_password": password,
                 "security": spec.security, "region_providers": dict(args.get("region_providers") or {})},
                opts=child,
            )
            self.deployment = xr
            first = cross.regions[0]
            out.update(
                compute_zones=pulumi.Output.from_input(list(first.compute_zones)),
                quorum_zones=pulumi.Output.from_input(list(first.quorum_zones)),
                primary_zone=pulumi.Output.from_input(first.compute_zones[0]),
                milvus_version=pulumi.Output.from_input(_version(cross.primary)),
                vpc_id=xr.regions[first.region].vpc_id,
                milvus_endpoint=xr.client_endpoint,
                primary_region=pulumi.Output.from_input(cross.replication.primary),
                standby_region=pulumi.Output.from_input(cross.replication.standby),
                regions=pulumi.Output.from_input({
                    p.region: {"role": p.region_role, "compute": list(p.compute_zones), "quorum": list(p.quorum_zones)}
                    for p in cross.regions
                }),
                cluster_ids=pulumi.Output.all(**{r: d.cluster_id for r, d in xr.regions.items()}),
                bucket_names=pulumi.Output.all(**{r: d.bucket_name for r, d in xr.regions.items()}),
                kubeconfigs=_secret_map({r: d.kubeconfig for r, d in xr.regions.items()}),
                backup=pulumi.Output.from_input(backup_summary(cross.primary.backup)),
            )
        elif spec.backend is Backend.MANAGED:
            topology = plan(spec, name)  # helmValues: refused for the managed backend by the spec
            instance = plan_managed(spec, topology)
            managed = ManagedMilvus(name, {"plan": topology, "instance": instance, "admin_password": password,
                                           "kms_pending_window_days": spec.security.kms_pending_window_days},
                                    opts=child)
            self.deployment = managed
            out.update(
                compute_zones=pulumi.Output.from_input(list(instance.vswitch_zones)),
                primary_zone=pulumi.Output.from_input(instance.zone_id),
                milvus_version=pulumi.Output.from_input(spec.milvus_version),
                vpc_id=managed.vpc_id,
                instance_id=managed.instance_id,
                kms_key_id=managed.kms_key_id,
                backup=pulumi.Output.from_input(backup_summary(None, managed_auto_backup=instance.auto_backup)),
            )
        else:
            topology = plan(spec, name)
            d = MilvusDeployment(name, {"plan": topology, "kubernetes_version": spec.kubernetes_version,
                                        "api_server_public": spec.api_server_public, "root_password": password,
                                        "security": spec.security, "helm_values": spec.helm_values,
                                        **_bring_your_own(args)}, opts=child)
            self.deployment = d
            out.update(
                compute_zones=pulumi.Output.from_input(list(topology.compute_zones)),
                quorum_zones=pulumi.Output.from_input(list(topology.quorum_zones)),
                primary_zone=pulumi.Output.from_input(topology.compute_zones[0]),
                milvus_version=pulumi.Output.from_input(_version(topology)),
                vpc_id=d.vpc_id,
                cluster_id=d.cluster_id,
                bucket_name=d.bucket_name,
                oss_role_arn=d.role_arn,
                milvus_endpoint=d.milvus_endpoint,
                kubeconfig=d.kubeconfig,
                cluster_ids=pulumi.Output.all(**{spec.region: d.cluster_id}),
                bucket_names=pulumi.Output.all(**{spec.region: d.bucket_name}),
                kubeconfigs=_secret_map({spec.region: d.kubeconfig}),
                backup=pulumi.Output.from_input(backup_summary(topology.backup)),
            )
        self.spec = spec
        for key, value in out.items():
            setattr(self, key, value)
        self.register_outputs(out)


_OUTPUTS = [k for k in MilvusZones.__annotations__ if not k.startswith("_")]


def settings_spec(name: str, args: Mapping[str, Any]) -> DeploymentSpec:
    """The validated spec of a component's args, or InvalidSettings naming each bad setting."""
    problems: list[tuple[str, str]] = []
    settings: dict[str, Any] = {}
    for key, given in args.items():
        if key in _NOT_SETTINGS or _camel(key) in {_camel(k) for k in _NOT_SETTINGS}:
            continue
        value = given
        if _camel(key) in ("existingVpc", "existingCluster") and isinstance(given, Mapping):
            # Ids may come from resources of the team's program: the spec checks where they go, not their value.
            value = {k: _deploy_time(v) for k, v in given.items() if k != "kubeconfig"}
        elif _is_deploy_time(value):
            problems.append((_camel(key), "must be a plain value, not a pulumi.Output: the plan (what goes in which "
                                          "zone) is decided before anything is created"))
            continue
        settings[_camel(key)] = _camel_keys(value) if _camel(key) in _OBJECT_SETTINGS else value
    if problems:
        raise InvalidSettings(name, problems)
    try:
        spec = spec_from_settings(settings)
        check_fit(spec)  # workloads that do not fit their pools are bad settings too
        return spec
    except SpecError as e:
        raise InvalidSettings(name, e.problems) from None


def _secret_map(values: dict[str, pulumi.Output[str]]) -> pulumi.Output[Any]:
    merged: pulumi.Output[Any] = pulumi.Output.all(**values)
    return pulumi.Output.secret(merged)


def _check_helm_values(name: str, spec: DeploymentSpec) -> None:
    if not spec.helm_values or spec.backend is Backend.MANAGED:
        return
    if spec.mode is Mode.CROSS_REGION_HA:
        raise InvalidSettings(name, [("helmValues", "not supported with cross-region-ha yet")])
    problems = helm_values_problems(plan(spec, name), spec.helm_values)
    if problems:
        raise InvalidSettings(name, [(f"helmValues.{k}", m) for k, m in problems])


def _bring_your_own(args: Mapping[str, Any]) -> dict[str, Any]:
    """Existing VPC / cluster args -> MilvusDeployment's, keyed by the plan's vSwitch keys."""
    out: dict[str, Any] = {}
    vpc = args.get("existing_vpc")
    if vpc:
        out["vpc_id"] = vpc["vpc_id"]
        existing: dict[str, Any] = {}
        for purpose, key in (("node", "node_vswitches"), ("pod", "pod_vswitches")):
            for zone, vsw in (vpc.get(key) or {}).items():
                existing[f"{purpose}-{zone_suffix(zone)}"] = vsw
        out["existing_vswitch_ids"] = existing
    cluster = args.get("existing_cluster")
    if cluster:
        out["cluster_id"] = cluster["cluster_id"]
        pools = cluster.get("node_pools") or {}
        if pools:  # the ids as given (they may be Outputs); the spec only saw where they go
            out["existing_pool_ids"] = {key: p.get("pool_id", p.get("poolId")) for key, p in pools.items()}
        if cluster.get("kubeconfig") is not None:
            out["kubeconfig"] = cluster["kubeconfig"]
    return out


def _version(topology) -> str:
    # The image the release runs (the catalog's pin or milvusImageTag), not the chart's default appVersion.
    return f"{topology.milvus_image.tag.removeprefix('v')} (chart {topology.chart.chart_version})"


def _is_deploy_time(value: Any) -> bool:
    if isinstance(value, (pulumi.Output, Awaitable)):
        return True
    if isinstance(value, Mapping):
        return any(_is_deploy_time(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_is_deploy_time(v) for v in value)
    return False


def _deploy_time(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _deploy_time(v) for k, v in value.items()}
    return DEPLOY_TIME_VALUE if _is_deploy_time(value) else value


# Settings that are objects of named fields (not maps keyed by zones or tags): their keys are spelled
# camelCase before validation, so a message names a key the way the stack config and other languages do.
_OBJECT_SETTINGS = frozenset({"network", "peer", "existingVpc", "existingCluster", "clientAccess", "backup", "monitoring",
                              "security", "egressIsolation"})


def _camel_keys(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    return {_camel(k): (_camel_keys(v) if _camel(k) == "network" else v) for k, v in value.items()}


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


def _setting_name(key: str) -> str:
    """`computeNodeCount (compute_node_count)`: the stack config's name and the Python arg's, where they differ."""
    parts = key.split(".")
    snake = [_snake(parts[0])]
    if len(parts) > 1:  # fields of an object setting are args too; chart keys and zone names are not
        snake.append(_snake(parts[1]) if parts[0] in _OBJECT_SETTINGS else parts[1])
    python = ".".join([*snake, *parts[2:]])
    return key if python == key else f"{key} ({python})"
