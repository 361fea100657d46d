"""The topology planner: spec -> what runs in which zone.

This module is the one place where a zone decision is made. It is plain Python on the validated
spec; components only turn the plan into resources, and the Helm values are derived from it.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

# Tags and labels the stacks and the policy pack agree on are defined once, in the pack's model (the
# pack is part of this distribution: pyproject's packages).
from milvus_zones_policies.model.names import MODE_KEY as MODE_TAG
from milvus_zones_policies.model.names import POOL_LABEL, ROLE_LABEL
from milvus_zones_policies.model.names import REGION_MODE_KEY as REGION_MODE_TAG
from milvus_zones_policies.model.names import REGION_ROLE_KEY as REGION_ROLE_TAG

from milvus_zones.planning.catalog import CHARTS, ChartPin, Image
from milvus_zones.planning.spec import Backend, DeploymentSpec, MessageService, Mode, Redundancy, SpecError

if TYPE_CHECKING:
    from milvus_zones.planning.sizing import SizingPlan

ZONE_LABEL = "topology.kubernetes.io/zone"
HOST_LABEL = "kubernetes.io/hostname"


class Role(StrEnum):
    QUORUM = "quorum"  # etcd and the message service: 3 zones in the multi-zone modes
    COMPUTE = "compute"  # Milvus proxies, coordinators, query/data/streaming nodes


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str = "NoSchedule"


@dataclass(frozen=True)
class VSwitchPlan:
    key: str  # e.g. "node-h"
    zone: str
    purpose: str  # "node" or "pod"
    cidr: str


# Every node pool's management (a named existing pool is checked to have it): auto repair, no auto upgrade
# (zones are upgraded one after another), one node at a time with a new one first (docs/operations.md).
POOL_MANAGEMENT = {"enable": True, "auto_repair": True, "auto_upgrade": False, "max_unavailable": 1, "surge": 1}


@dataclass(frozen=True)
class NodePoolPlan:
    key: str  # e.g. "compute-h", "quorum-i", "compute-hi"
    role: Role
    zones: tuple[str, ...]  # ordered; with PRIORITY the first is preferred
    desired_size: int
    instance_type: str
    multi_az_policy: str | None  # PRIORITY for the basic mode's relaunch pool, else None
    labels: dict[str, str]
    taints: tuple[Taint, ...] = ()
    # Autoscaler upper bound (min is desired_size); set where compute must be relaunched elsewhere.
    max_size: int | None = None
    # An ACK node pool of an existing cluster used instead of creating this one (existingCluster.nodePools):
    # read, never created; its vSwitches, labels, taints, instance types and size are checked at deploy time.
    existing_id: str | None = None

    @property
    def selector(self) -> dict[str, str]:
        return {POOL_LABEL: self.labels[POOL_LABEL]}


@dataclass(frozen=True)
class EtcdPlan:
    replicas: int
    zones: tuple[str, ...]  # the zones its members sit in, one member each in the multi-zone modes
    spread_key: str  # topology key of the hard one-member-per-domain rule
    node_selector: dict[str, str]
    toleration: Taint
    volume_size_gi: int
    pdb_min_available: int


@dataclass(frozen=True)
class MessageServicePlan:
    kind: MessageService
    zones: tuple[str, ...]  # where its members (or its durable storage) live
    replicas: int  # members per stateful role (bookies/brokers/...); 0 for woodpecker (embedded)
    spread_key: str
    node_selector: dict[str, str]
    toleration: Taint
    durability: str  # "object-storage" (woodpecker on the bucket) or "replicated"


@dataclass(frozen=True)
class ResourceGroupPlan:
    """One full query replica pinned to one compute zone (multi-zone-ha)."""

    name: str  # lowercase letters and digits only (Kubernetes and Milvus both accept it)
    zone: str
    pool: str  # node pool key
    node_selector: dict[str, str]
    query_nodes: int
    streaming_nodes: int


@dataclass(frozen=True)
class ComponentPlan:
    """A Milvus component outside the resource groups: replicas and how they spread."""

    name: str  # chart value key, e.g. "proxy", "mixCoordinator", "queryNode"
    replicas: int
    node_selector: dict[str, str]
    zone_spread: bool  # hard spread over the compute zones
    active_standby: bool = False


@dataclass(frozen=True)
class FailoverPlan:
    """The WAL pinning controller (milvus_zones/jobs/failover.py, docs/failover-controller.md).

    It runs on the quorum pools (one per zone in the multi-zone modes), so that two replicas spread
    over zones always leave one alive, whichever zone is lost; a Lease makes one of them act.
    """

    action: str  # "switch-wal": pin streaming.primaryResourceGroup to the group the WAL fell back to
    replicas: int
    zones: tuple[str, ...]  # where its replicas may run (hard zone spread)
    node_selector: dict[str, str]
    toleration: Taint
    probe_interval_s: int  # how often it reads the sessions and the key from etcd
    failure_threshold: int  # consecutive rounds without a primary-group session before it pins
    groups: tuple[str, ...] = ()  # resource groups in the chart's order (its primary first)
    lease_duration_s: int = 15  # coordination.k8s.io Lease: a candidate takes over after this
    renew_deadline_s: int = 10  # the holder stops acting when it could not renew for this long


@dataclass(frozen=True)
class AccessPlan:
    """Who may reach Milvus (milvus_zones.rendering.isolation turns it into NetworkPolicies)."""

    client_cidrs: tuple[str, ...]  # sources allowed to the client port
    client_namespaces: tuple[str, ...]
    monitoring_namespace: str  # the only namespace besides Milvus' own allowed to the metrics port
    # Egress NetworkPolicies (EgressIsolationSpec): deny by default, then DNS, HTTPS to cloud APIs, the API server.
    egress_restricted: bool = True
    egress_dns: bool = True
    egress_cloud_apis: bool = True
    egress_api_server: bool = True
    # Where the HTTPS rule of Milvus and the backup/restore Jobs goes; empty: all but the VPC and the service CIDR.
    egress_cloud_api_cidrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class BucketPlan:
    name: str
    root_path: str
    redundancy: Redundancy


@dataclass(frozen=True)
class BackupPlan:
    """milvus-backup on a schedule, into a prefix of the deployment's own (ZRS, versioned) bucket.

    Backups are named `<name_prefix>_<YYYYmmddHHMM>` (UTC): milvus-backup accepts letters, digits
    and `_` (core/backup/func.go ValidateName), and the name alone tells the cleanup a backup's age.
    """

    prefix: str  # milvus-backup's backupRootPath in the bucket, e.g. "backup/milvus"
    schedule: str  # cron, UTC (the CronJob's timeZone is set to Etc/UTC)
    retention_days: int  # the cleanup after each run deletes this stack's backups older than this
    name_prefix: str  # e.g. "milvus" or "milvus_cn_hangzhou"
    suspended: bool = False  # cross-region standby: the CronJob exists but does not run until promoted

    @property
    def interval_s(self) -> int:
        """The longest time between two scheduled runs: the backup RPO, before the run's own duration."""
        from milvus_zones.planning.schedule import max_interval_s

        return max_interval_s(self.schedule)


@dataclass(frozen=True)
class MonitoringPlan:
    labels: dict[str, str]  # extra labels on every monitor and rule (a Prometheus' selectors)
    grafana_labels: dict[str, str] | None = None  # the Grafana(s) to import Milvus' dashboard into
    grafana_folder: str = "Milvus"


BACKUP_ROOT = "backup"


def backup_summary(b: BackupPlan | None, managed_auto_backup: bool | None = None) -> dict[str, object]:
    """The `backup` stack output: what is backed up when, and the RPO that gives against an operator's
    or a client's mistake (a dropped collection, a bad delete), which no zone or region failover covers.

    The RPO is the longest wait between two scheduled runs plus a run's own duration, which depends on
    the data and is not modeled; read at a later time, what a backup holds is what Milvus had flushed
    when it started.
    """
    from milvus_zones.planning.schedule import describe_interval

    if managed_auto_backup is not None:
        return {"enabled": managed_auto_backup, "by": "the managed service (autoBackup)",
                "rpo": "the service's backup schedule" if managed_auto_backup else "no backup"}
    if b is None:
        return {"enabled": False, "rpo": "no backup"}
    return {"enabled": not b.suspended, "by": "milvus-backup CronJob", "schedule": b.schedule,
            "retentionDays": b.retention_days, "prefix": b.prefix, "rpoSeconds": b.interval_s,
            "rpo": f"{describe_interval(b.interval_s)} + run time"}


def backup_name_prefix(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def plan_backup(spec: DeploymentSpec, name: str) -> BackupPlan | None:
    if not spec.backup.enabled or spec.backend is not Backend.SELF_HOSTED:
        return None
    return BackupPlan(prefix=f"{BACKUP_ROOT}/{name}", schedule=spec.backup.schedule,
                      retention_days=spec.backup.retention_days, name_prefix=backup_name_prefix(name))


@dataclass(frozen=True)
class EgressPlan:
    zone: str  # where the NAT gateway lives
    serves: tuple[str, ...]  # zones whose vSwitches route through it


@dataclass(frozen=True)
class TopologyPlan:
    name: str
    mode: Mode
    region: str
    zones: tuple[str, ...]
    compute_zones: tuple[str, ...]
    quorum_zones: tuple[str, ...]
    control_plane_zones: tuple[str, ...]
    chart: ChartPin
    milvus_image: Image  # what every Milvus container runs (catalog pin or milvusImageTag)
    vpc_cidr: str
    service_cidr: str
    vswitches: tuple[VSwitchPlan, ...]
    egress: tuple[EgressPlan, ...]
    node_pools: tuple[NodePoolPlan, ...]
    etcd: EtcdPlan
    message_service: MessageServicePlan
    components: tuple[ComponentPlan, ...]
    resource_groups: tuple[ResourceGroupPlan, ...]
    bucket: BucketPlan | None  # None on the managed backend, which keeps its own storage
    namespace: str
    access: AccessPlan
    tags: dict[str, str] = field(default_factory=dict)
    # The zone-failover controller, where the mode has one.
    failover: FailoverPlan | None = None
    # cross-region-ha: "primary" or "standby"; None in the single-region modes.
    region_role: str | None = None
    # Proxies behind an internal load balancer with endpoints in the compute zones (HA, cross-region).
    proxy_load_balancer: bool = False
    # Milvus 2.6 built-in CDC component on (cross-region-ha, both regions: either may become primary).
    cdc: bool = False
    # Scheduled milvus-backup runs (None when backups are off or on the managed backend).
    backup: BackupPlan | None = None
    # PodMonitors and alert rules (None when monitoring is off).
    monitoring: MonitoringPlan | None = None
    # Registry (host[/path]) every image is pulled from instead of Docker Hub; None for Docker Hub.
    image_registry: str | None = None
    # The stack's imageDigests (`repository:tag` -> digest); each overrides the catalog's (see `image`).
    image_digests: dict[str, str] = field(default_factory=dict)
    # Requests/limits of every workload, fitted to the pools (milvus_zones.planning.sizing); None on the managed backend.
    sizing: SizingPlan | None = None

    def image(self, image: Image) -> Image:
        """A catalog image as this stack runs it: pinned by the stack's digest for it, else the catalog's."""
        return image.with_digests(self.image_digests)

    def pool(self, key: str) -> NodePoolPlan:
        return next(p for p in self.node_pools if p.key == key)

    def pools(self, role: Role) -> tuple[NodePoolPlan, ...]:
        return tuple(p for p in self.node_pools if p.role is role)

    def vswitch(self, purpose: str, zone: str) -> VSwitchPlan:
        return next(v for v in self.vswitches if v.purpose == purpose and v.zone == zone)

    def component(self, name: str) -> ComponentPlan:
        return next(c for c in self.components if c.name == name)

    @property
    def compute_node_count(self) -> int:
        return sum(p.desired_size for p in self.pools(Role.COMPUTE))


def zone_suffix(zone: str) -> str:
    """'cn-hangzhou-h' -> 'h', 'ap-northeast-1a' -> '1a': short, stable names for per-zone parts."""
    tail = zone.rsplit("-", 1)[-1]
    return re.sub(r"[^a-z0-9]", "", tail.lower())


def carve_cidrs(vpc_cidr: str, zone_count: int) -> tuple[list[str], list[str]]:
    """Node vSwitches get the first sixteenths of the VPC, Terway pod vSwitches its last quarters."""
    vpc = ipaddress.ip_network(vpc_cidr)
    sixteenths = list(vpc.subnets(prefixlen_diff=4))
    quarters = list(vpc.subnets(prefixlen_diff=2))
    return [str(s) for s in sixteenths[:zone_count]], [str(q) for q in quarters[1:1 + zone_count]]


def plan(spec: DeploymentSpec, name: str = "milvus") -> TopologyPlan:
    zones = tuple(spec.zones)
    mode = spec.mode
    tags = {**spec.tags, MODE_TAG: str(mode)}

    # -- which zones do what ----------------------------------------------------------------------
    if mode is Mode.SINGLE_ZONE:
        compute_zones = zones[:1]
        quorum_zones = zones[:1]
    else:
        compute_zones = zones[:2]  # primary, secondary
        quorum_zones = zones  # three zones for etcd and the message service
    control_plane_zones = zones

    # -- network ------------------------------------------------------------------------------------
    node_cidrs, pod_cidrs = carve_cidrs(spec.network.vpc_cidr, len(zones))
    node_cidrs = spec.network.node_cidrs or node_cidrs
    pod_cidrs = spec.network.pod_cidrs or pod_cidrs
    vswitches = tuple(
        VSwitchPlan(f"{purpose}-{zone_suffix(z)}", z, purpose, cidr)
        for purpose, cidrs in (("node", node_cidrs), ("pod", pod_cidrs))
        for z, cidr in zip(zones, cidrs, strict=True)
    )
    # One NAT gateway per zone, each zone routing through its own: losing a zone loses only its egress.
    egress = tuple(EgressPlan(z, (z,)) for z in zones)

    # -- node pools ---------------------------------------------------------------------------------
    quorum_taint = Taint(ROLE_LABEL, Role.QUORUM.value)
    pools: list[NodePoolPlan] = []
    quorum_per_zone = 3 * spec.quorum_nodes_per_zone if mode is Mode.SINGLE_ZONE else spec.quorum_nodes_per_zone
    for z in quorum_zones:
        key = f"quorum-{zone_suffix(z)}"
        pools.append(
            NodePoolPlan(key, Role.QUORUM, (z,), quorum_per_zone, spec.effective_quorum_instance_type, None,
                         {ROLE_LABEL: Role.QUORUM.value, POOL_LABEL: key}, (quorum_taint,))
        )
    if mode is Mode.MULTI_ZONE_BASIC:
        # One pool over primary and secondary: nodes go to the primary; when it fails, the pool
        # relaunches them in the secondary (PRIORITY placement falls back to the next vSwitch).
        # Autoscaling up to twice the size: the relaunched nodes are new instances, created while the
        # lost zone's nodes still exist (an operator deletes their Node objects once the zone is
        # confirmed lost: docs/failover-controller.md).
        key = "compute-" + "".join(zone_suffix(z) for z in compute_zones)
        pools.append(
            NodePoolPlan(key, Role.COMPUTE, compute_zones, spec.compute_node_count, spec.compute_instance_type,
                         "PRIORITY", {ROLE_LABEL: Role.COMPUTE.value, POOL_LABEL: key},
                         max_size=2 * spec.compute_node_count)
        )
    else:
        per_zone = spec.compute_node_count // len(compute_zones)
        for z in compute_zones:
            key = f"compute-{zone_suffix(z)}"
            pools.append(
                NodePoolPlan(key, Role.COMPUTE, (z,), per_zone, spec.compute_instance_type, None,
                             {ROLE_LABEL: Role.COMPUTE.value, POOL_LABEL: key})
            )
    pools = _with_existing_pools(pools, spec)
    compute_selector = {ROLE_LABEL: Role.COMPUTE.value}
    quorum_selector = {ROLE_LABEL: Role.QUORUM.value}

    # -- etcd: 3 members, one per zone under a hard rule (per node in single-zone) -----------------
    spread_key = HOST_LABEL if mode is Mode.SINGLE_ZONE else ZONE_LABEL
    etcd = EtcdPlan(
        replicas=3,
        zones=quorum_zones if mode.multi_zone else quorum_zones * 3,
        spread_key=spread_key,
        node_selector=quorum_selector,
        toleration=quorum_taint,
        volume_size_gi=spec.etcd_volume_size_gi,
        pdb_min_available=2,  # a voluntary eviction never breaks quorum
    )

    # -- message service / WAL ------------------------------------------------------------------------
    mq_kind = spec.effective_message_service
    if mq_kind is MessageService.WOODPECKER:
        # Embedded in the streaming nodes; the log itself lives in the (zone-redundant) bucket.
        mq = MessageServicePlan(mq_kind, quorum_zones, 0, spread_key, quorum_selector, quorum_taint, "object-storage")
    else:
        mq = MessageServicePlan(mq_kind, quorum_zones, 3, spread_key, quorum_selector, quorum_taint, "replicated")

    # -- Milvus components ----------------------------------------------------------------------------
    ha = mode is Mode.MULTI_ZONE_HA
    version = spec.milvus_version
    components: list[ComponentPlan] = [
        ComponentPlan("proxy", 2, compute_selector, zone_spread=ha),
        ComponentPlan("mixCoordinator", 2, compute_selector, zone_spread=ha, active_standby=True),
        ComponentPlan("dataNode", 2, compute_selector, zone_spread=ha),
    ]
    if version != "2.6":
        components.append(ComponentPlan("indexNode", 2, compute_selector, zone_spread=ha))
    resource_groups: list[ResourceGroupPlan] = []
    if ha:
        for p in pools:
            if p.role is not Role.COMPUTE:
                continue
            zone = p.zones[0]
            resource_groups.append(
                ResourceGroupPlan(
                    name=f"rg{zone_suffix(zone)}", zone=zone, pool=p.key, node_selector=p.selector,
                    query_nodes=p.desired_size,
                    streaming_nodes=(2 if p.desired_size >= 2 else 1) if version == "2.6" else 0,
                )
            )
    else:
        components.append(ComponentPlan("queryNode", spec.compute_node_count, compute_selector, zone_spread=False))
        if version == "2.6":
            components.append(ComponentPlan("streamingNode", 2, compute_selector, zone_spread=False))

    # -- WAL pinning controller ------------------------------------------------------------------------
    # Only where Milvus falls back by itself and may move back (2.6 resource groups). multi-zone-basic
    # has none: fencing a zone on NotReady alone is unsafe (docs/failover-controller.md).
    failover: FailoverPlan | None = None
    groups = tuple(rg.name for rg in resource_groups)
    if ha and version == "2.6" and len(groups) > 1:
        failover = FailoverPlan(
            action="switch-wal", replicas=2, zones=quorum_zones, node_selector=quorum_selector,
            toleration=quorum_taint, probe_interval_s=1, failure_threshold=3, groups=groups,
        )

    topology = TopologyPlan(
        name=name,
        mode=mode,
        region=spec.region,
        zones=zones,
        compute_zones=compute_zones,
        quorum_zones=quorum_zones,
        control_plane_zones=control_plane_zones,
        chart=CHARTS[version],
        milvus_image=spec.milvus_image,
        vpc_cidr=spec.network.vpc_cidr,
        service_cidr=spec.network.service_cidr,
        vswitches=vswitches,
        egress=egress,
        node_pools=tuple(pools),
        etcd=etcd,
        message_service=mq,
        components=tuple(components),
        resource_groups=tuple(resource_groups),
        bucket=(BucketPlan(spec.bucket_name, spec.bucket_root_path, spec.effective_bucket_redundancy)
                if spec.bucket_name else None),
        namespace=spec.namespace,
        access=AccessPlan(
            client_cidrs=tuple(spec.client_access.cidrs if spec.client_access.cidrs is not None
                               else [spec.network.vpc_cidr]),
            client_namespaces=tuple(spec.client_access.namespaces),
            monitoring_namespace=spec.monitoring_namespace,
            egress_restricted=spec.egress_isolation.restricted,
            egress_dns=spec.egress_isolation.dns,
            egress_cloud_apis=spec.egress_isolation.cloud_apis,
            egress_api_server=spec.egress_isolation.api_server,
            egress_cloud_api_cidrs=tuple(spec.egress_isolation.cloud_api_cidrs or ()),
        ),
        tags=tags,
        failover=failover,
        proxy_load_balancer=mode is Mode.MULTI_ZONE_HA,
        backup=plan_backup(spec, name),
        monitoring=MonitoringPlan(
            dict(spec.monitoring.labels),
            dict(spec.monitoring.grafana.instance_labels) if spec.monitoring.grafana else None,
            spec.monitoring.grafana.folder if spec.monitoring.grafana else "Milvus",
        ) if spec.monitoring.enabled else None,
        image_registry=spec.image_registry,
        image_digests=dict(spec.image_digests),
    )
    return with_sizing(topology, spec)


def _with_existing_pools(pools: list[NodePoolPlan], spec: DeploymentSpec) -> list[NodePoolPlan]:
    """Pools of the existing cluster named in existingCluster.nodePools take the place of planned ones.

    A named pool keeps the plan's zones, labels, taints and size (what the workloads select and count
    on), with the user's instance type, which sizes the workloads. Its zones are known only through
    its vSwitches, so each of them must be a node vSwitch given in existingVpc.nodeVswitches (checked
    there to be in its zone); the pool's own vswitch_ids are checked against them at deploy time.
    """
    named = spec.existing_cluster.node_pools if spec.existing_cluster is not None else {}
    if not named:
        return pools
    keys = [p.key for p in pools]
    problems: list[tuple[str, str]] = []
    for key in named:
        if key not in keys:
            problems.append((f"existingCluster.nodePools.{key}",
                             f"not a pool mode {spec.mode} plans in zones {', '.join(spec.zones)}; "
                             f"its pools: {', '.join(keys)}"))
    given = spec.existing_vpc.node_vswitches if spec.existing_vpc is not None else {}
    out: list[NodePoolPlan] = []
    for pool in pools:
        existing = named.get(pool.key)
        if existing is None:
            out.append(pool)
            continue
        missing = [z for z in pool.zones if z not in given]
        if missing:
            problems.append((f"existingCluster.nodePools.{pool.key}",
                             f"the plan puts {pool.key} in zone(s) {', '.join(pool.zones)}: give the vSwitch the node "
                             f"pool uses there in existingVpc.nodeVswitches ({', '.join(missing)} missing), so its zone "
                             "can be checked"))
        out.append(dataclasses.replace(pool, instance_type=existing.instance_type, existing_id=existing.pool_id))
    if problems:
        raise SpecError(problems)
    return out


def with_sizing(topology: TopologyPlan, spec: DeploymentSpec) -> TopologyPlan:
    """The plan with its workloads sized to its pools (refused with SpecError when they do not fit)."""
    if spec.backend is Backend.MANAGED:
        return topology
    from milvus_zones.planning.sizing import Resources, parse_cpu, parse_memory, size

    overrides = {k: Resources(parse_cpu(o.cpu), parse_memory(o.memory)) for k, o in spec.resources.items()}
    return dataclasses.replace(topology, sizing=size(topology, overrides))


# ---- the managed backend ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ManagedComponentPlan:
    type: str  # MilvusInstance component type: proxy, mix_coordinator, data, query, index, streaming
    cu_num: int
    replica: int


@dataclass(frozen=True)
class ManagedInstancePlan:
    """alicloud.MilvusInstance arguments that depend on the mode (the zone decisions of the managed backend)."""

    db_version: str
    zone_id: str  # the primary zone
    vswitch_zones: tuple[str, ...]  # one vSwitch per compute zone, primary first
    multi_zone_mode: str  # "Single" or "Two"
    ha: bool
    multi_az_storage: bool
    load_replicas: int
    components: tuple[ManagedComponentPlan, ...]
    auto_backup: bool = True  # `backup.enabled`; the service chooses the schedule and retention


def plan_managed(spec: DeploymentSpec, topology: TopologyPlan) -> ManagedInstancePlan:
    """The managed service's own architecture already spreads metadata and the message service over
    three zones in its multi-zone modes; what is ours to decide is the compute zones and sizes."""
    ha = spec.mode is Mode.MULTI_ZONE_HA
    # HA keeps a full set of compute in each of two zones: every component runs an even count >= 2.
    def replicas(n: int) -> int:
        return max(2, n + n % 2) if ha else n

    kinds = [("proxy", 2, 2), ("mix_coordinator", 2, 1), ("data", 4, 1),
             ("query", spec.managed_query_cu, spec.compute_node_count)]
    kinds.append(("streaming", 4, 1) if spec.milvus_version == "2.6" else ("index", 4, 1))
    return ManagedInstancePlan(
        db_version=spec.milvus_version,
        zone_id=topology.compute_zones[0],
        vswitch_zones=topology.compute_zones,
        multi_zone_mode="Two" if spec.mode.multi_zone else "Single",
        ha=ha,
        multi_az_storage=spec.mode.multi_zone,
        load_replicas=2 if ha else 1,
        components=tuple(ManagedComponentPlan(t, cu, replicas(n)) for t, cu, n in kinds),
        auto_backup=spec.backup.enabled,
    )


# ---- cross-region-ha ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplicationPlan:
    """Milvus 2.6 CDC from the primary region's cluster to the standby's (read-only until promoted)."""

    primary: str  # region
    standby: str  # region
    cluster_ids: dict[str, str]  # region -> Milvus cluster id (its msgChannel.chanNamePrefix.cluster)
    endpoints: dict[str, str]  # region -> host name of its proxies, resolvable from both VPCs
    pchannels: int  # DML channels per cluster; equal on both sides, as CDC requires
    force_promote: bool  # unplanned failover: the new primary stops waiting for the lost one


@dataclass(frozen=True)
class EndpointPlan:
    """One client endpoint that follows the primary: a private DNS zone attached to both VPCs."""

    zone: str
    client_record: str  # e.g. "milvus": CNAME to the primary region's record
    region_records: dict[str, str]  # region -> record name, e.g. "cn-hangzhou"
    ttl: int = 30


@dataclass(frozen=True)
class BackupReplicationPlan:
    """cross-region-ha: OSS replication of each region's backup prefix to the other region's bucket."""

    prefix: str  # the backup prefix of both buckets (each region writes below it, under its own name)
    replicate_to: dict[str, tuple[str, str]]  # region -> (peer region, peer bucket)


@dataclass(frozen=True)
class CrossRegionPlan:
    regions: tuple[TopologyPlan, ...]  # config order (region, peer): names never depend on roles
    replication: ReplicationPlan
    endpoint: EndpointPlan
    backup: BackupReplicationPlan

    def region(self, region: str) -> TopologyPlan:
        return next(p for p in self.regions if p.region == region)

    @property
    def primary(self) -> TopologyPlan:
        return self.region(self.replication.primary)


DML_CHANNELS = 16  # Milvus' default rootCoord.dmlChannelNum, pinned so both clusters agree


def region_name(region: str) -> str:
    """Per-region names stay the same whoever is primary, so a switchover replaces nothing."""
    return f"milvus-{region}"


def plan_cross_region(spec: DeploymentSpec) -> CrossRegionPlan:
    primary = spec.effective_primary_region
    regions: list[TopologyPlan] = []
    for rspec in spec.region_specs():
        role = "primary" if rspec.region == primary else "standby"
        p = plan(rspec, name=region_name(rspec.region))
        tags = {**p.tags, MODE_TAG: str(spec.mode), REGION_MODE_TAG: str(rspec.mode), REGION_ROLE_TAG: role}
        # Both regions define the backup CronJob (a switchover replaces nothing); only the primary's runs:
        # the standby holds the same data, replicated by CDC, and its backups would be duplicates.
        backup = dataclasses.replace(p.backup, suspended=role == "standby") if p.backup else None
        p = dataclasses.replace(p, tags=tags, region_role=role, proxy_load_balancer=True, cdc=True, backup=backup)
        regions.append(with_sizing(p, rspec))  # again: CDC runs on the compute pools
    standby = next(p.region for p in regions if p.region != primary)
    zone = "milvus-zones.internal"
    records = {p.region: p.region for p in regions}
    return CrossRegionPlan(
        regions=tuple(regions),
        replication=ReplicationPlan(
            primary=primary,
            standby=standby,
            cluster_ids={p.region: p.name for p in regions},
            endpoints={p.region: f"{records[p.region]}.{zone}" for p in regions},
            pchannels=DML_CHANNELS,
            force_promote=spec.force_promote,
        ),
        endpoint=EndpointPlan(zone=zone, client_record="milvus", region_records=records),
        backup=BackupReplicationPlan(
            prefix=BACKUP_ROOT,
            replicate_to={a.region: (b.region, b.bucket.name) for a in regions for b in regions
                          if a is not b and b.bucket is not None},
        ),
    )
