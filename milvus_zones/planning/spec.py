"""The validated deployment spec: what a stack's config asks for, checked before anything is built.

Every rule here produces a message that names the setting (its config key, as the user wrote it)
and what is allowed. Backends (self-hosted on ACK today) consume the same spec.
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel, to_snake

from milvus_zones.planning.catalog import (
    BACKUP_IMAGE,
    CHARTS,
    HA_FEATURES_MIN_VERSION,
    INSTANCE_TYPES,
    JOB_IMAGE,
    MILVUS_IMAGES,
    OSS_ZRS_REGIONS,
    REGION_ZONES,
    Image,
    chart_images,
    version_tuple,
)


class Mode(StrEnum):
    SINGLE_ZONE = "single-zone"
    MULTI_ZONE_BASIC = "multi-zone-basic"
    MULTI_ZONE_HA = "multi-zone-ha"
    CROSS_REGION_HA = "cross-region-ha"  # two regions, each a multi-zone deployment (regionMode)

    @property
    def multi_zone(self) -> bool:
        return self is not Mode.SINGLE_ZONE


class Backend(StrEnum):
    SELF_HOSTED = "self-hosted"  # Milvus on an ACK cluster of the stack's own
    MANAGED = "managed"  # Alibaba Cloud's managed Milvus (alicloud.MilvusInstance)


class MessageService(StrEnum):
    WOODPECKER = "woodpecker"
    PULSAR = "pulsar"
    KAFKA = "kafka"


class Redundancy(StrEnum):
    ZRS = "ZRS"
    LRS = "LRS"


MilvusVersion = Literal["2.4", "2.5", "2.6"]

# OSS bucket names: 3-63 characters, lowercase letters, digits and hyphens, no hyphen at either end.
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_ROOT_PATH_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_\-/]{0,127}$")
_K8S_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# Cloud limits, as Alibaba Cloud documents them:
# - tags: at most 20 per resource (Resource Management "Limits": "Maximum number of tags that can be
#   added to a single resource: 20"). Every stack tag also goes on the OSS buckets, whose limits are the
#   tightest (PutBucketTags, OSS error docs 0010-00000002 and 0010-00000213): a key is 1-64 characters
#   of letters, digits, spaces and `+ - = . _ : /`, not starting with `aliyun` or `acs` in any case; the
#   Tag service's rules add: a key or value contains neither `http://` nor `https://`, a value is at
#   most 128 characters and does not start with `acs:` (Tag overview; the TagResources API). The
#   program adds its own `milvus-zones/*` tags (PROGRAM_TAG_KEYS), which count against the 20.
# - ECS instance types are `ecs.<instance family>.<size>` (ECS "Classification and naming of instance
#   types"; EGS "Instance naming conventions": `ecs.<instance-family>.<nx>large`), e.g. ecs.g7.2xlarge,
#   ecs.gn7i-c8g1.2xlarge, ecs.t6-c1m1.large.
# - ACK Kubernetes versions are `<major>.<minor>.<patch>-aliyun.<n>`, e.g. 1.33.3-aliyun.1 (ACK release
#   notes; terraform-provider-alicloud `alicloud_cs_kubernetes_version` data source).
TAG_LIMIT = 20
PROGRAM_TAG_KEYS = ("milvus-zones/mode", "milvus-zones/region-mode", "milvus-zones/region-role")
_TAG_KEY_RE = re.compile(r"^(?!(?i:aliyun|acs))(?!.*https?://)[A-Za-z0-9 +\-=._:/]{1,64}$")
_TAG_VALUE_RE = re.compile(r"^(?!(?i:acs:))(?!.*https?://).{0,128}$", re.DOTALL)
_INSTANCE_TYPE_RE = re.compile(r"^ecs\.[a-z][a-z0-9]*(-[a-z0-9]+)*\.(nano|micro|small|medium|large|[0-9]*xlarge)$")
_ACK_VERSION_RE = re.compile(r"^1\.[0-9]{1,2}\.[0-9]{1,3}-aliyun\.[0-9]{1,3}$")

# Settings one backend reads and the other ignores: set to anything but their default, they are refused.
SELF_HOSTED_ONLY = ("compute_instance_type", "quorum_instance_type", "quorum_nodes_per_zone", "message_service",
                    "bucket_name", "bucket_root_path", "bucket_redundancy", "kubernetes_version", "namespace",
                    "etcd_volume_size_gi", "api_server_public", "image_digests")
SELF_HOSTED_ONLY_NETWORK = ("pod_cidrs", "service_cidr")
MANAGED_ONLY = ("managed_query_cu",)
# host[:port] then optional path segments: an ACR instance (…cr.aliyuncs.com/namespace) or a mirror.
_REGISTRY_RE = re.compile(
    r"^(?=.{1,255}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*)*$"
)
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
# imageDigests keys: `repository:tag` as Docker Hub names it (official images without `library/`).
_IMAGE_NAME_RE = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_FEATURES = "v" + ".".join(map(str, HA_FEATURES_MIN_VERSION))


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class NetworkSpec(_Model):
    """Address plan. vSwitch CIDRs are carved from `vpcCidr` in zone order unless given."""

    vpc_cidr: str = Field(default="10.0.0.0/16", description="CIDR of the VPC.")
    node_cidrs: list[str] | None = Field(
        default=None, description="One node vSwitch CIDR per zone, in zone order."
    )
    pod_cidrs: list[str] | None = Field(
        default=None, description="One Terway pod vSwitch CIDR per zone, in zone order."
    )
    service_cidr: str = Field(
        default="172.16.0.0/20", description="Kubernetes service CIDR; must lie outside the VPC."
    )


class SecuritySpec(_Model):
    """Cloud-side security defaults, each on unless turned off (docs/security.md says what each does)."""

    node_disk_encryption: bool = Field(
        default=True, description="Encrypt node pool system disks (aes-256, ECS' default service key)."
    )
    secrets_encryption: bool = Field(
        default=True, description="Encrypt ACK Secrets with a KMS key the stack creates (rotation and deletion protection on)."
    )
    control_plane_logs: bool = Field(
        default=True, description="Ship the control plane's logs (apiserver, kcm, scheduler, ccm, events) to Log Service."
    )
    control_plane_log_ttl_days: Annotated[int, Field(ge=1, le=3650)] = Field(
        default=30, description="Retention of the control-plane logs, days."
    )
    bucket_access_logging: bool = Field(
        default=True, description="Deliver the data bucket's access logs to a log bucket of the stack."
    )
    bucket_kms_key: bool = Field(
        default=False,
        description="Encrypt the data bucket with a customer-managed KMS key of the stack instead of OSS-managed keys.",
    )
    kms_pending_window_days: Annotated[int, Field(ge=7, le=366)] = Field(
        default=30, description="Days a deleted KMS key of the stack stays recoverable (KMS allows 7 to 366)."
    )


class ClientAccessSpec(_Model):
    """Who may reach Milvus' client port (19530) besides the Milvus namespace itself."""

    cidrs: list[str] | None = Field(
        default=None, description="Source CIDRs allowed to the client port; default: the VPC CIDR."
    )
    namespaces: list[str] = Field(default_factory=list, description="Namespaces whose pods may reach the client port.")

    @field_validator("cidrs")
    @classmethod
    def _cidrs(cls, v: list[str] | None) -> list[str] | None:
        for c in v or []:
            try:
                ipaddress.IPv4Network(c, strict=True)
            except ValueError:
                raise ValueError(f"{c!r} is not an IPv4 CIDR such as 10.0.0.0/16") from None
        return v

    @field_validator("namespaces")
    @classmethod
    def _namespaces(cls, v: list[str]) -> list[str]:
        bad = [n for n in v if not _K8S_NAME_RE.match(n)]
        if bad:
            raise ValueError(f"{bad} are not Kubernetes namespace names (lowercase letters, digits and '-')")
        return v


class EgressIsolationSpec(_Model):
    """Egress NetworkPolicies of the Milvus namespace, each on unless set false (docs/hardening.md)."""

    restricted: bool = Field(
        default=True,
        description="Deny egress by default, then allow what the workloads need (Milvus to etcd, the message service "
                    "and its peers; etcd to its members; the Jobs to Milvus); false leaves egress open.",
    )
    dns: bool = Field(
        default=True,
        description="DNS (UDP/TCP 53) to kube-dns in kube-system and ACK's NodeLocal DNSCache (169.254.20.10).",
    )
    cloud_apis: bool = Field(
        default=True,
        description="HTTPS (443) outside the VPC and the service CIDR for Milvus, the backup and the Jobs: the OSS "
                    "internal endpoint, STS for RRSA, PyPI for the Jobs.",
    )
    cloud_api_cidrs: list[str] | None = Field(
        default=None,
        description="Narrows cloudApis for Milvus and the backup/restore Jobs to these CIDRs (e.g. 100.64.0.0/10, "
                    "Alibaba's service range: OSS internal VIPs); default: all but the VPC and the service CIDR. "
                    "Milvus 2.6 calls STS at sts.aliyuncs.com (hard-coded), so check that it resolves inside them "
                    "(docs/hardening.md). The script Jobs keep the wide rule (PyPI).",
    )
    api_server: bool = Field(
        default=True,
        description="The failover controller to the Kubernetes API server (6443 in the VPC, 443 on the kubernetes Service).",
    )

    @field_validator("cloud_api_cidrs")
    @classmethod
    def _cloud_api_cidrs(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        if not v:
            raise ValueError("an empty list would block HTTPS; leave it unset, or set cloudApis: false")
        for c in v:
            try:
                ipaddress.IPv4Network(c, strict=True)
            except ValueError:
                raise ValueError(f"{c!r} is not an IPv4 CIDR such as 100.64.0.0/10") from None
        return v


class ResourceOverride(_Model):
    """Requests = limits of one component's pods (Kubernetes quantities)."""

    cpu: str = Field(description="CPU per pod, e.g. 500m, 2 or 1.5.")
    memory: str = Field(description="Memory per pod, e.g. 512Mi or 8Gi.")

    @field_validator("cpu", "memory", mode="before")
    @classmethod
    def _text(cls, v: object) -> object:
        return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, v: str) -> str:
        from milvus_zones.planning.sizing import parse_cpu

        parse_cpu(v)
        return v

    @field_validator("memory")
    @classmethod
    def _memory(cls, v: str) -> str:
        from milvus_zones.planning.sizing import parse_memory

        parse_memory(v)
        return v


class PeerRegionSpec(_Model):
    """The second region of cross-region-ha: the same settings as the first region's own keys."""

    region: str = Field(description="Alibaba Cloud region of the peer, e.g. cn-shanghai.")
    zones: list[str] = Field(description="The peer's zones in order: primary, secondary, third.")
    bucket_name: str = Field(description="The peer's OSS bucket (globally unique).")
    network: NetworkSpec = Field(default_factory=NetworkSpec, description="The peer's address plan.")


# Kubernetes CronJob schedules use robfig/cron's standard parser: five fields of numbers, `*`, `,`,
# `-`, `/` (`?` in the day fields), month and weekday names; the Quartz extensions L, W, # are not accepted.
_NUM = r"[0-9*,/-]+"
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"
_CRON_FIELDS = tuple(re.compile(f"^(?:{f})+$", re.IGNORECASE) for f in (
    _NUM, _NUM, r"[0-9*,/?-]", f"[0-9*,/-]|{_MONTHS}", f"[0-9*,/?-]|{_DAYS}"))
BACKUP_DEFAULT_SCHEDULE = "30 2 * * *"  # daily, 02:30 UTC
BACKUP_DEFAULT_RETENTION_DAYS = 7


class BackupSpec(_Model):
    """Scheduled milvus-backup runs (self-hosted) or the managed service's automatic backup."""

    enabled: bool = Field(default=True, description="Back up on a schedule (managed backend: autoBackup).")
    schedule: str = Field(
        default=BACKUP_DEFAULT_SCHEDULE, description="Cron schedule of the backups, five fields, UTC."
    )
    retention_days: Annotated[int, Field(ge=1, le=3650)] = Field(
        default=BACKUP_DEFAULT_RETENTION_DAYS, description="Days a backup is kept before the cleanup deletes it."
    )

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str) -> str:
        from milvus_zones.planning.schedule import ScheduleError, max_interval_s

        fields = v.split()
        if len(fields) != 5 or not all(r.match(f) for r, f in zip(_CRON_FIELDS, fields, strict=True)):
            raise ValueError(f"must be a cron schedule of five fields (minute hour day month weekday), "
                             f"e.g. {BACKUP_DEFAULT_SCHEDULE!r}; got {v!r}")
        try:
            max_interval_s(v)
        except ScheduleError as e:
            raise ValueError(f"{e}; got {v!r}") from None
        return " ".join(fields)

    @model_validator(mode="after")
    def _retention_covers_interval(self) -> BackupSpec:
        from milvus_zones.planning.schedule import max_interval_s

        gap = max_interval_s(self.schedule)
        if self.retention_days * 86400 <= gap:
            raise ValueError(
                f"retentionDays ({self.retention_days}) must be longer than the longest interval between two "
                f"backups of schedule {self.schedule!r} ({gap / 86400:g} days), or no backup is kept at times"
            )
        return self


class GrafanaSpec(_Model):
    """Milvus' own dashboard, provisioned by reference into a Grafana run by grafana-operator."""

    instance_labels: dict[str, str] = Field(
        description="Labels of the Grafana resource(s) to import into (the GrafanaDashboard's instanceSelector).",
    )
    folder: str = Field(default="Milvus", description="Grafana folder of the dashboard.")

    @field_validator("instance_labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            raise ValueError("name at least one label of your Grafana resource, e.g. {dashboards: grafana}")
        return v


class MonitoringSpec(_Model):
    """Prometheus Operator objects for Milvus, etcd and the backups (ARMS reads them too)."""

    enabled: bool = Field(default=False, description="Create PodMonitors and PrometheusRules (needs their CRDs).")
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="Extra labels on the monitors and rules, to match a Prometheus' selectors (e.g. release).",
    )
    grafana: GrafanaSpec | None = Field(
        default=None,
        description="Provision Milvus' dashboard into a grafana-operator Grafana: {instanceLabels, folder (Milvus)}.",
    )

    @model_validator(mode="after")
    def _grafana_needs_metrics(self) -> MonitoringSpec:
        if self.grafana is not None and not self.enabled:
            raise ValueError("grafana needs enabled: true (the dashboard reads the series the monitors collect)")
        return self

def _catalog_instance_type(v: str) -> str:
    if not _INSTANCE_TYPE_RE.match(v):
        raise ValueError(f"{v[:60]!r} is not an ECS instance type name (ecs.<family>.<size>); "
                         f"allowed: {', '.join(sorted(INSTANCE_TYPES))}")
    if v not in INSTANCE_TYPES:
        raise ValueError(f"{v!r} is not in the instance catalog; allowed: {', '.join(sorted(INSTANCE_TYPES))}")
    return v


# Where a component is given a value that only exists at deploy time (a pulumi.Output), the spec sees
# this marker instead: the rules check where an id is used, never its value, so they still apply.
DEPLOY_TIME_VALUE = "(known at deploy time)"
_ID_PREFIXES = {"vpc": "vpc-", "vswitch": "vsw-"}


def _check_id(kind: str, v: str) -> str:
    if v != DEPLOY_TIME_VALUE and not v.startswith(_ID_PREFIXES[kind]):
        raise ValueError(f"{v!r} is not a {kind} id (they start with {_ID_PREFIXES[kind]!r})")
    return v


class ExistingVpcSpec(_Model):
    """A VPC the team already has: milvus-zones creates only the vSwitches it does not list."""

    vpc_id: str = Field(description="Id of the existing VPC (vpc-...); network.vpcCidr must be its CIDR.")
    node_vswitches: dict[str, str] = Field(
        default_factory=dict, description="Zone -> existing node vSwitch id (vsw-...); zones left out get a new one."
    )
    pod_vswitches: dict[str, str] = Field(
        default_factory=dict,
        description="Zone -> existing Terway pod vSwitch id; zones left out get a new one (unused with existingCluster).",
    )

    @field_validator("vpc_id")
    @classmethod
    def _vpc(cls, v: str) -> str:
        return _check_id("vpc", v)

    @field_validator("node_vswitches", "pod_vswitches")
    @classmethod
    def _vswitches(cls, v: dict[str, str]) -> dict[str, str]:
        for vsw in v.values():
            _check_id("vswitch", vsw)
        return v


_NODE_POOL_ID_RE = re.compile(r"^np[0-9a-z]{8,}$")


class ExistingNodePoolSpec(_Model):
    """A node pool of the existing cluster that takes the place of one the plan would create."""

    pool_id: str = Field(description="Id of the ACK node pool (np...), in the existing cluster.")
    instance_type: str = Field(
        description="An ECS instance type of the pool's (workloads are sized to it; checked against the pool's "
                    "instance_types at deploy time)."
    )

    @field_validator("pool_id")
    @classmethod
    def _pool(cls, v: str) -> str:
        if v != DEPLOY_TIME_VALUE and not _NODE_POOL_ID_RE.match(v):
            raise ValueError(f"{v[:60]!r} is not an ACK node pool id (np followed by lowercase letters and digits)")
        return v

    @field_validator("instance_type")
    @classmethod
    def _type(cls, v: str) -> str:
        return _catalog_instance_type(v)


class ExistingClusterSpec(_Model):
    """An ACK cluster the team already has (RRSA enabled): milvus-zones adds its node pools and Milvus."""

    cluster_id: str = Field(description="Id of the existing ACK managed cluster; RRSA must be enabled on it.")
    node_pools: dict[str, ExistingNodePoolSpec] = Field(
        default_factory=dict,
        description="Plan pool key (e.g. compute-h, quorum-j) -> {poolId, instanceType}: a pool of the cluster used "
                    "instead of creating that one; pools left out are created.",
    )

    @field_validator("node_pools")
    @classmethod
    def _distinct(cls, v: dict[str, ExistingNodePoolSpec]) -> dict[str, ExistingNodePoolSpec]:
        ids = [p.pool_id for p in v.values() if p.pool_id != DEPLOY_TIME_VALUE]
        if len(set(ids)) != len(ids):
            raise ValueError("one plan pool per node pool: the same poolId is given for two pools")
        return v

    @field_validator("cluster_id")
    @classmethod
    def _cluster(cls, v: str) -> str:
        if v != DEPLOY_TIME_VALUE and not re.fullmatch(r"c[0-9a-z]{8,}", v):
            raise ValueError(f"{v!r} is not an ACK cluster id (c followed by lowercase letters and digits)")
        return v


class DeploymentSpec(_Model):
    """One Milvus deployment, as read from the `milvus-zones:*` keys of a stack config."""

    mode: Mode = Field(description="Deployment mode: single-zone, multi-zone-basic or multi-zone-ha.")
    backend: Backend = Field(
        default=Backend.SELF_HOSTED, description="self-hosted (Milvus on ACK) or managed (alicloud.MilvusInstance)."
    )
    region: str = Field(description="Alibaba Cloud region, e.g. cn-hangzhou.")
    zones: list[str] = Field(
        description="Zones in order: primary, secondary, third (one zone for single-zone)."
    )
    milvus_version: MilvusVersion = Field(default="2.6", description="Milvus minor version.")
    compute_node_count: Annotated[int, Field(ge=1, le=200)] = Field(
        default=2, description="Total compute (Milvus worker) nodes; HA splits them evenly over two zones."
    )
    compute_instance_type: str = Field(
        default="ecs.g7.2xlarge", description="ECS instance type of compute nodes."
    )
    quorum_instance_type: str | None = Field(
        default=None,
        description="ECS instance type of quorum nodes (etcd, message service); auto: ecs.g7.large with woodpecker, "
                    "ecs.g7.xlarge with pulsar or kafka, whose members share the quorum nodes with etcd.",
    )
    quorum_nodes_per_zone: Annotated[int, Field(ge=1, le=5)] = Field(
        default=1, description="Quorum nodes in each quorum zone (single-zone: 3 nodes in its zone)."
    )
    message_service: MessageService | None = Field(
        default=None,
        description="WAL / message service: woodpecker (2.6 only, default there), pulsar (default for 2.4/2.5) or kafka.",
    )
    network: NetworkSpec = Field(default_factory=NetworkSpec, description="Address plan.")
    bucket_name: str | None = Field(
        default=None, description="OSS bucket for Milvus data (globally unique); self-hosted backend only."
    )
    bucket_root_path: str = Field(default="milvus", description="Prefix under which Milvus writes.")
    bucket_redundancy: Redundancy | None = Field(
        default=None, description="ZRS or LRS; multi-zone modes require ZRS (the default)."
    )
    kubernetes_version: str | None = Field(
        default=None, description="ACK Kubernetes version; ACK's default when unset."
    )
    namespace: str = Field(default="milvus", description="Kubernetes namespace of the release.")
    etcd_volume_size_gi: Annotated[int, Field(ge=10, le=2000)] = Field(
        default=20, description="etcd persistent volume size per member, GiB."
    )
    api_server_public: bool = Field(
        default=False, description="Expose the Kubernetes API server on an internet load balancer."
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Tags for every taggable resource.")
    security: SecuritySpec = Field(default_factory=SecuritySpec, description="Cloud-side security defaults.")


    resources: dict[str, ResourceOverride] = Field(
        default_factory=dict,
        description="Per-component requests = limits, {component: {cpu, memory}}, instead of the sizes derived from the pools.",
    )
    client_access: ClientAccessSpec = Field(
        default_factory=ClientAccessSpec,
        description="NetworkPolicy: CIDRs and namespaces allowed to Milvus' client port (default: the VPC CIDR).",
    )
    egress_isolation: EgressIsolationSpec = Field(
        default_factory=EgressIsolationSpec,
        description="NetworkPolicy egress: {restricted, dns, cloudApis, apiServer} each on unless false; "
                    "cloudApiCidrs narrows cloudApis.",
    )
    monitoring_namespace: str = Field(
        default="monitoring",
        description="NetworkPolicy: the namespace allowed to scrape metrics (Milvus 9091, etcd 2381, failover controller 8080).",
    )
    managed_query_cu: Annotated[int, Field(ge=1, le=256)] = Field(
        default=8, description="Managed backend: compute units of each query node replica."
    )
    region_mode: Mode | None = Field(
        default=None, description="cross-region-ha: the topology in each region, multi-zone-ha (default) or multi-zone-basic."
    )
    peer: PeerRegionSpec | None = Field(default=None, description="cross-region-ha: the second region.")
    primary_region: str | None = Field(
        default=None, description="cross-region-ha: the region that takes writes (default: `region`)."
    )
    milvus_image_tag: str | None = Field(
        default=None,
        description="Milvus image tag (a patch of milvusVersion, e.g. v2.6.22); the catalog's pin when unset.",
    )
    milvus_image_digest: str | None = Field(
        default=None, description="sha256 digest of milvusImageTag, pinned with it (sha256:<64 hex>)."
    )
    image_digests: dict[str, str] = Field(
        default_factory=dict,
        description="Digests of the images the stack runs, `repository:tag` -> sha256:<64 hex> (`milvus-zones images "
                    "pin` writes them); each overrides the image catalog's, and an image without one runs by tag.",
    )
    image_registry: str | None = Field(
        default=None,
        description="Registry every image is pulled from (an ACR instance or mirror with Docker Hub's paths), "
                    "e.g. acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com/mirror; Docker Hub when unset.",
    )
    force_promote: bool = Field(
        default=False,
        description="cross-region-ha, unplanned failover: promote primaryRegion without waiting for the lost region.",
    )
    backup: BackupSpec = Field(default_factory=BackupSpec, description="Scheduled backups and their retention.")
    monitoring: MonitoringSpec = Field(default_factory=MonitoringSpec, description="Monitors and alert rules.")
    existing_vpc: ExistingVpcSpec | None = Field(
        default=None, description="Bring your own VPC: {vpcId, nodeVswitches, podVswitches}; only missing vSwitches are created."
    )
    existing_cluster: ExistingClusterSpec | None = Field(
        default=None,
        description="Bring your own ACK cluster: {clusterId, nodePools}; needs existingVpc (the cluster's VPC).",
    )
    helm_values: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra values for the Milvus chart, merged under ours; keys checked against the pinned chart.",
    )

    # ---- field rules -------------------------------------------------------------------------

    @field_validator(
        "message_service", "bucket_redundancy", "kubernetes_version", "bucket_name", "region_mode", "primary_region",
        "peer", "milvus_image_tag", "milvus_image_digest", "image_registry", "quorum_instance_type", "existing_vpc",
        "existing_cluster", mode="before",
    )
    @classmethod
    def _auto(cls, v: object) -> object:
        # Pulumi config declares optional keys with a default; "auto" / "" mean "derive it".
        return None if v in ("auto", "", {}) else v

    @field_validator("compute_instance_type", "quorum_instance_type")
    @classmethod
    def _known_instance_type(cls, v: str | None) -> str | None:
        return v if v is None else _catalog_instance_type(v)

    @field_validator("resources")
    @classmethod
    def _resource_components(cls, v: dict[str, ResourceOverride]) -> dict[str, ResourceOverride]:
        from milvus_zones.planning.sizing import COMPONENTS

        unknown = sorted(set(v) - set(COMPONENTS))
        if unknown:
            raise ValueError(f"unknown component(s) {', '.join(unknown)}; allowed: {', '.join(COMPONENTS)}")
        return v

    @field_validator("region")
    @classmethod
    def _known_region(cls, v: str) -> str:
        if v not in REGION_ZONES:
            raise ValueError(f"must be one of: {', '.join(sorted(REGION_ZONES))}")
        return v

    @field_validator("bucket_name")
    @classmethod
    def _bucket_name(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not _BUCKET_RE.match(v):
            raise ValueError(
                "must be 3-63 characters of lowercase letters, digits and hyphens, "
                "starting and ending with a letter or digit"
            )
        return v

    @field_validator("bucket_root_path")
    @classmethod
    def _root_path(cls, v: str) -> str:
        if not _ROOT_PATH_RE.match(v):
            raise ValueError("must be a relative path of letters, digits, '_', '-' and '/'")
        return v

    @field_validator("image_registry")
    @classmethod
    def _registry(cls, v: str | None) -> str | None:
        if v is not None and not _REGISTRY_RE.match(v):
            raise ValueError("must be a registry host with an optional path, no scheme and no trailing '/', "
                             "e.g. acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com/mirror")
        return v

    @field_validator("milvus_image_digest")
    @classmethod
    def _digest(cls, v: str | None) -> str | None:
        if v is not None and not _DIGEST_RE.match(v):
            raise ValueError("must be sha256: followed by 64 lowercase hex digits")
        return v

    @field_validator("image_digests")
    @classmethod
    def _digests(cls, v: dict[str, str]) -> dict[str, str]:
        for name, digest in v.items():
            if not _IMAGE_NAME_RE.match(name):
                raise ValueError(f"key {name[:80]!r} is not an image name; keys are repository:tag as Docker Hub names "
                                 "them, e.g. milvusdb/etcd:3.5.25-r1 (`milvus-zones images STACK` lists them)")
            if not isinstance(digest, str) or not _DIGEST_RE.match(digest):
                raise ValueError(f"{name}: {str(digest)[:80]!r} is not a digest; allowed: sha256: followed by "
                                 "64 lowercase hex digits")
        return v

    @field_validator("namespace", "monitoring_namespace")
    @classmethod
    def _namespace(cls, v: str) -> str:
        if not _K8S_NAME_RE.match(v):
            raise ValueError("must be a Kubernetes name: lowercase letters, digits and '-'")
        return v

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        room = TAG_LIMIT - len(PROGRAM_TAG_KEYS)
        if len(v) > room:
            raise ValueError(f"{len(v)} tags; at most {room}: Alibaba Cloud allows {TAG_LIMIT} per resource and "
                             f"the program adds {len(PROGRAM_TAG_KEYS)} of its own ({', '.join(PROGRAM_TAG_KEYS)})")
        for key, value in v.items():
            if not _TAG_KEY_RE.match(key) or key.startswith("milvus-zones/"):
                raise ValueError(
                    f"tag key {key[:40]!r} is not allowed: 1-64 letters, digits, spaces or + - = . _ : /, not "
                    "starting with 'aliyun' or 'acs' (any case) or 'milvus-zones/' (reserved for the mode "
                    "declaration), without http:// or https://"
                )
            if not _TAG_VALUE_RE.match(value):
                raise ValueError(f"tag {key!r}: the value must be at most 128 characters, not starting with 'acs:', "
                                 "without http:// or https://")
        return v

    @field_validator("kubernetes_version")
    @classmethod
    def _ack_version(cls, v: str | None) -> str | None:
        if v is not None and not _ACK_VERSION_RE.match(v):
            raise ValueError(f"{v[:60]!r} is not an ACK Kubernetes version; allowed: <major>.<minor>.<patch>-aliyun.<n>, "
                             "e.g. 1.33.3-aliyun.1, or empty for ACK's default")
        return v

    # ---- cross-field rules (the seed's limits and the geometry) --------------------------------

    @model_validator(mode="after")
    def _rules(self) -> DeploymentSpec:
        problems: list[tuple[str, str]]
        if self.mode is Mode.CROSS_REGION_HA:
            problems = self._cross_region_problems()
            # A region's own check may already have named the image; the CDC rule is the stricter one.
            problems = [p for p in problems if p[0] not in ("milvusImageTag", "milvusImageDigest")]
            problems += self._image_problems()
            if problems:
                raise SpecError(problems)
            return self
        problems = []
        for key, value in (("regionMode", self.region_mode), ("peer", self.peer), ("primaryRegion", self.primary_region),
                           ("forcePromote", self.force_promote or None)):
            if value is not None:
                problems.append((key, f"only used by mode cross-region-ha; mode {self.mode} leaves it unset"))
        region_zones = REGION_ZONES[self.region]
        want = 1 if self.mode is Mode.SINGLE_ZONE else 3
        if len(self.zones) != want:
            more = (" A deployment spans three zones: to spread further, add a second region (mode "
                    "cross-region-ha, docs/operations.md#scale-out)" if len(self.zones) > want else "")
            problems.append(
                ("zones", f"mode {self.mode} needs exactly {want} zone(s) "
                          f"({'primary' if want == 1 else 'primary, secondary, third'}); got {len(self.zones)}."
                          f"{more}".rstrip("."))
            )
        if len(set(self.zones)) != len(self.zones):
            problems.append(("zones", f"zones must be distinct; got {self.zones}"))
        for z in self.zones:
            if z not in region_zones:
                problems.append(
                    ("zones", f"zone {z!r} is not in region {self.region}; allowed: {', '.join(region_zones)}")
                )

        if self.mode is Mode.MULTI_ZONE_HA:
            if self.milvus_version == "2.4":
                problems.append(
                    ("milvusVersion", "multi-zone-ha does not support Milvus 2.4; allowed: 2.5, 2.6")
                )
            if self.compute_node_count < 2 or self.compute_node_count % 2:
                problems.append(
                    ("computeNodeCount",
                     f"multi-zone-ha needs a multiple of 2 (one equal set per compute zone); got {self.compute_node_count}")
                )

        problems.extend(self._backend_problems())
        if self.backend is Backend.MANAGED:
            if self.message_service is not None:
                problems.append(("messageService", "the managed backend runs its own message service; leave it auto"))
            # alicloud.MilvusInstance (pulumi-alicloud 4.0.0) takes auto_backup only: the service picks
            # the schedule and the retention; a setting we cannot apply is refused, not ignored.
            for key in ("schedule", "retentionDays"):
                if to_snake(key) in self.backup.model_fields_set:
                    problems.append((f"backup.{key}", ("the managed backend's automatic backup has no schedule or "
                                                      "retention setting (MilvusInstance auto_backup only); "
                                                      "leave it unset")))
            if self.monitoring.enabled:
                problems.append(("monitoring.enabled", ("the managed backend is monitored by the service itself "
                                                       "(no cluster of the stack's own to run monitors in)")))
        elif self.bucket_name is None:
            problems.append(("bucketName", ("required by the self-hosted backend; set it with "
                                           "`pulumi config set milvus-zones:bucketName <globally-unique-name>`")))
        mq = self.effective_message_service
        if mq is MessageService.WOODPECKER and self.milvus_version != "2.6":
            problems.append(
                ("messageService", f"woodpecker needs Milvus 2.6; for {self.milvus_version} allowed: pulsar, kafka")
            )

        redundancy = self.effective_bucket_redundancy
        if self.mode.multi_zone and redundancy is not Redundancy.ZRS:
            problems.append(("bucketRedundancy", f"mode {self.mode} requires ZRS; got {redundancy}"))
        if redundancy is Redundancy.ZRS and self.region not in OSS_ZRS_REGIONS:
            problems.append(
                ("bucketRedundancy",
                 f"OSS ZRS is not offered in {self.region}; regions with ZRS: {', '.join(sorted(OSS_ZRS_REGIONS))}")
            )

        problems.extend(_network_problems(self.network, len(self.zones)))
        problems.extend(_egress_problems(self.egress_isolation, self.network))
        problems.extend(self._image_problems())
        problems.extend(self._bring_your_own_problems())
        if problems:
            raise SpecError(problems)
        return self

    def _backend_problems(self) -> list[tuple[str, str]]:
        """Settings the chosen backend never reads: refused, so nobody believes they took effect."""
        fields = type(self).model_fields
        problems: list[tuple[str, str]] = []

        def changed(model: BaseModel, name: str) -> bool:
            f = type(model).model_fields[name]
            return getattr(model, name) != f.get_default(call_default_factory=True)

        if self.backend is Backend.MANAGED:
            why = {"message_service": "the managed service runs its own message service",
               "image_digests": "the managed backend pulls no images of this stack's"}
            for name in SELF_HOSTED_ONLY:
                if changed(self, name):
                    reason = why.get(name, "the managed backend does not read it (Alibaba Cloud runs that part)")
                    problems.append((fields[name].alias or name, f"{reason}; remove it, or use backend self-hosted"))
            for name in SELF_HOSTED_ONLY_NETWORK:
                if changed(self.network, name):
                    problems.append((f"network.{NetworkSpec.model_fields[name].alias}",
                                     "the managed backend does not read it (no Kubernetes cluster of the stack's own); "
                                     "remove it, or use backend self-hosted"))
        else:
            for name in MANAGED_ONLY:
                if changed(self, name):
                    problems.append((fields[name].alias or name,
                                     f"only the managed backend reads it; backend {self.backend} ignores it: remove it"))
        return problems

    def _image_problems(self) -> list[tuple[str, str]]:
        """The Milvus image must be a patch of milvusVersion, and have every feature the mode uses."""
        if self.backend is Backend.MANAGED and self.image_registry is not None:
            return [("imageRegistry", "the managed backend pulls no images of this stack's; leave it unset")]
        if self.milvus_image_digest is not None and self.milvus_image_tag is None:
            return [("milvusImageDigest", "pins milvusImageTag; set milvusImageTag too (or leave both unset "
                                          "for the catalog's pin)")]
        if self.backend is not Backend.MANAGED:
            runs = [i.name for i in self.images]
            unknown = sorted(set(self.image_digests) - set(runs))
            if unknown:
                return [("imageDigests", f"{', '.join(unknown)}: not an image this stack runs; it runs "
                                         f"{', '.join(runs)}")]
            both = self.image_digests.get(self.milvus_image.name)
            if self.milvus_image_digest is not None and both is not None and both != self.milvus_image_digest:
                return [("imageDigests", f"{self.milvus_image.name} is pinned twice, differently: by "
                                         "milvusImageDigest and here; keep one")]
        if self.milvus_image_tag is None:
            return []
        if self.backend is Backend.MANAGED:
            return [("milvusImageTag", "the managed backend runs Alibaba Cloud's own image; leave it unset")]
        version = version_tuple(self.milvus_image_tag)
        if version is None or version[:2] != tuple(int(x) for x in self.milvus_version.split(".")):
            return [("milvusImageTag", f"must be a Milvus {self.milvus_version} release tag "
                                       f"v{self.milvus_version}.<patch> (milvusVersion is {self.milvus_version}); "
                                       f"got {self.milvus_image_tag!r}")]
        needs = self.ha_features_used
        if needs and version < HA_FEATURES_MIN_VERSION:
            return [("milvusImageTag", f"{self.milvus_image_tag} lacks {needs}, which mode {self.mode} uses on "
                                       f"Milvus 2.6; allowed: {_FEATURES} or later "
                                       f"(the catalog's {MILVUS_IMAGES['2.6'].tag} when unset)")]
        return []

    @property
    def ha_features_used(self) -> str | None:
        """What of Milvus 2.6.16+ this deployment relies on, or None (2.5 HA uses node-label groups)."""
        if self.milvus_version != "2.6" or self.backend is Backend.MANAGED:
            return None
        if self.mode is Mode.CROSS_REGION_HA:
            return "built-in CDC and streaming-node resource groups"
        if self.mode is Mode.MULTI_ZONE_HA:
            return "streaming-node resource groups (one query and streaming replica per zone)"
        return None

    @property
    def milvus_image(self) -> Image:
        """The Milvus image this deployment runs: the catalog's pin, or the user's tag (and digest)."""
        pinned = MILVUS_IMAGES[self.milvus_version]
        if self.milvus_image_tag is None:
            return pinned.with_digests(self.image_digests)
        # A user's tag carries only the user's digest (a mirror may serve other digests of the same tag).
        digest = self.milvus_image_digest or self.image_digests.get(f"{pinned.repository}:{self.milvus_image_tag}")
        return Image(pinned.repository, self.milvus_image_tag, digest, kind="unknown" if digest else None,
                     source="stack settings milvusImageTag/milvusImageDigest" if self.milvus_image_digest
                     else "stack settings milvusImageTag/imageDigests" if digest else "stack setting milvusImageTag")

    @property
    def images(self) -> list[Image]:
        """Every image this stack runs, once each, with its digest: the stack's (imageDigests), else the
        catalog's, else none (pulled by tag). Empty on the managed backend, which runs Alibaba Cloud's.
        tests/rendering/test_images.py keeps it equal to what the rendered stacks run."""
        if self.backend is Backend.MANAGED:
            return []
        services = {"etcd"}
        mq = self.effective_message_service
        if mq is MessageService.PULSAR:
            services |= {"pulsar", "pulsarv3"}  # v2 in chart 4.2.25, v3 in the others: CHART_IMAGES has one
        elif mq is MessageService.KAFKA:
            services.add("kafka")
        found = [self.milvus_image, *chart_images(self.chart.chart_version, services)]
        # Our Jobs and controller: 2.5 HA's resource-group Job, 2.6 HA's WAL pinning controller,
        # cross-region-ha's replication Job.
        if self.mode in (Mode.MULTI_ZONE_HA, Mode.CROSS_REGION_HA):
            found.append(JOB_IMAGE)
        if self.backup.enabled:
            found.append(BACKUP_IMAGE)  # the backup CronJob (and a restore Job)
        return [i.with_digests(self.image_digests) for i in found]

    def _bring_your_own_problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if self.existing_cluster is not None and self.existing_vpc is None:
            problems.append(("existingCluster", "needs existingVpc: the cluster's VPC and a node vSwitch per zone "
                                                "(missing ones are created in it)"))
        if self.backend is Backend.MANAGED:
            for key, value in (("existingVpc", self.existing_vpc), ("existingCluster", self.existing_cluster),
                               ("helmValues", self.helm_values or None)):
                if value is not None:
                    problems.append((key, "only used by the self-hosted backend; the managed backend leaves it unset"))
        if self.existing_vpc is None:
            return problems
        for key, switches in (("nodeVswitches", self.existing_vpc.node_vswitches),
                              ("podVswitches", self.existing_vpc.pod_vswitches)):
            for zone in switches:
                if zone not in self.zones:
                    problems.append((f"existingVpc.{key}.{zone}",
                                     f"zone {zone} is not one of the zones mode {self.mode} uses here "
                                     f"(zones: {', '.join(self.zones)}); a vSwitch serves only the zone it is in"))
            ids = [i for i in switches.values() if i != DEPLOY_TIME_VALUE]
            if len(set(ids)) != len(ids):
                problems.append((f"existingVpc.{key}", "one vSwitch per zone: the same id is given for two zones"))
        return problems

    def _cross_region_problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        for key, value in (("existingVpc", self.existing_vpc), ("existingCluster", self.existing_cluster)):
            if value is not None:
                problems.append((key, "not supported with cross-region-ha yet: each region's network is created "
                                      "with the routes the regions share"))
        if self.peer is None:
            return [*problems, ("peer", "cross-region-ha needs the second region: {region, zones, bucketName, network}")]
        if self.backend is not Backend.SELF_HOSTED:
            problems.append(("backend", "cross-region-ha is built on the self-hosted backend; allowed: self-hosted"))
        if self.milvus_version != "2.6":
            problems.append(("milvusVersion", "cross-region-ha replicates with Milvus 2.6's built-in CDC; allowed: 2.6"))
        if self.region_mode not in (None, Mode.MULTI_ZONE_HA, Mode.MULTI_ZONE_BASIC):
            problems.append(("regionMode", f"allowed: multi-zone-ha, multi-zone-basic; got {self.region_mode}"))
            return problems
        if self.peer.region == self.region:
            problems.append(("peer.region", f"must differ from region ({self.region}): cross-region-ha spans two regions"))
        if self.primary_region not in (None, self.region, self.peer.region):
            problems.append(("primaryRegion", f"must be one of the stack's regions: {self.region}, {self.peer.region}"))
        if self.peer.bucket_name == self.bucket_name:
            problems.append(("peer.bucketName", "must differ from bucketName: each region keeps its own bucket"))
        try:
            a = ipaddress.ip_network(self.network.vpc_cidr, strict=False)
            b = ipaddress.ip_network(self.peer.network.vpc_cidr, strict=False)
            overlap = a.overlaps(b)
        except ValueError:
            overlap = False  # each region's own check names the bad CIDR
        if overlap:
            problems.append(("peer.network.vpcCidr",
                             f"{b} overlaps {a} (network.vpcCidr): the regions' VPCs are routed to each other"))
        # Each region must be a valid deployment of regionMode on its own.
        for prefix, fields in (("", {}), ("peer.", {"region": self.peer.region, "zones": self.peer.zones,
                                                    "bucket_name": self.peer.bucket_name, "network": self.peer.network})):
            try:
                self._region_spec(fields)
            except SpecError as e:
                # Shared settings are reported once, under their own key; the peer adds only its own keys.
                own = ("region", "zones", "bucketName", "network")
                problems.extend((f"{prefix}{k}", m) for k, m in e.problems if not prefix or k.split(".")[0] in own)
        return problems

    def _region_spec(self, overrides: dict) -> DeploymentSpec:
        base = self.model_dump(exclude={"mode", "region_mode", "peer", "primary_region", "force_promote",
                                        "existing_vpc", "existing_cluster", "image_digests"})
        base.update(overrides)
        if isinstance(base.get("network"), NetworkSpec):
            base["network"] = base["network"].model_dump()
        region = DeploymentSpec(mode=self.region_mode or Mode.MULTI_ZONE_HA, **base)
        # The stack's digests, checked above against what the whole stack runs (a region of
        # multi-zone-basic runs no Job image of its own; the replication Job does).
        return region.model_copy(update={"image_digests": dict(self.image_digests)})

    def region_specs(self) -> tuple[DeploymentSpec, ...]:
        """cross-region-ha: one single-region spec per region, in config order (region, then peer)."""
        assert self.mode is Mode.CROSS_REGION_HA and self.peer is not None
        peer = self.peer
        return (
            self._region_spec({}),
            self._region_spec({"region": peer.region, "zones": peer.zones, "bucket_name": peer.bucket_name,
                               "network": peer.network}),
        )

    @property
    def effective_primary_region(self) -> str:
        return self.primary_region or self.region

    # ---- derived settings ------------------------------------------------------------------------

    @property
    def effective_message_service(self) -> MessageService:
        if self.message_service is not None:
            return self.message_service
        return MessageService.WOODPECKER if self.milvus_version == "2.6" else MessageService.PULSAR

    @property
    def effective_quorum_instance_type(self) -> str:
        if self.quorum_instance_type is not None:
            return self.quorum_instance_type
        return "ecs.g7.large" if self.effective_message_service is MessageService.WOODPECKER else "ecs.g7.xlarge"

    @property
    def effective_bucket_redundancy(self) -> Redundancy:
        if self.bucket_redundancy is not None:
            return self.bucket_redundancy
        return Redundancy.ZRS if self.region in OSS_ZRS_REGIONS or self.mode.multi_zone else Redundancy.LRS

    @property
    def chart(self):
        return CHARTS[self.milvus_version]


class SpecError(Exception):
    """One or more rules broken; each problem is (config key, message).

    Not a ValueError on purpose: pydantic would wrap it and lose the config key.
    """

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{k}: {m}" for k, m in problems))


def _egress_problems(egress: EgressIsolationSpec, net: NetworkSpec) -> list[tuple[str, str]]:
    """cloudApiCidrs name addresses outside the cluster: one that covers the VPC or the service CIDR gets
    them as exceptions (isolation.py), one that overlaps either only in part is refused."""
    problems: list[tuple[str, str]] = []
    try:
        inside = [(k, ipaddress.IPv4Network(c, strict=True)) for k, c in
                  (("network.vpcCidr", net.vpc_cidr), ("network.serviceCidr", net.service_cidr))]
    except ValueError:
        return problems  # _network_problems names it
    for c in egress.cloud_api_cidrs or []:
        n = ipaddress.IPv4Network(c, strict=True)
        for key, cluster in inside:
            if n.overlaps(cluster) and not cluster.subnet_of(n):
                problems.append(("egressIsolation.cloudApiCidrs",
                                 f"{c} overlaps {key} {cluster} in part; it must name addresses outside the cluster "
                                 "(a block that contains the whole range gets it as an exception)"))
    return problems


def _network_problems(net: NetworkSpec, zone_count: int) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []

    def parse(key: str, value: str) -> ipaddress.IPv4Network | None:
        try:
            n = ipaddress.ip_network(value, strict=True)
        except ValueError:
            problems.append((key, f"{value!r} is not a valid IPv4 CIDR such as 10.0.0.0/16"))
            return None
        if not isinstance(n, ipaddress.IPv4Network):
            problems.append((key, f"{value!r} must be an IPv4 CIDR"))
            return None
        return n

    vpc = parse("network.vpcCidr", net.vpc_cidr)
    if vpc is not None and not (8 <= vpc.prefixlen <= 20):
        problems.append(("network.vpcCidr", f"prefix must be /8 to /20; got /{vpc.prefixlen}"))
    if vpc is not None and not vpc.is_private:
        problems.append(("network.vpcCidr", f"{net.vpc_cidr} must be a private range (10/8, 172.16/12, 192.168/16)"))
    svc = parse("network.serviceCidr", net.service_cidr)
    if vpc is not None and svc is not None and vpc.overlaps(svc):
        problems.append(("network.serviceCidr", f"{net.service_cidr} overlaps the VPC {net.vpc_cidr}; choose a range outside it"))

    subnets: list[tuple[str, ipaddress.IPv4Network]] = []
    for key, cidrs in (("network.nodeCidrs", net.node_cidrs), ("network.podCidrs", net.pod_cidrs)):
        if cidrs is None:
            continue
        if len(cidrs) != zone_count:
            problems.append((key, f"needs one CIDR per zone ({zone_count}); got {len(cidrs)}"))
        for c in cidrs:
            n = parse(key, c)
            if n is None:
                continue
            if vpc is not None and not n.subnet_of(vpc):
                problems.append((key, f"{c} is not inside the VPC {net.vpc_cidr}"))
            subnets.append((key, n))
    for i, (ka, a) in enumerate(subnets):
        for kb, b in subnets[i + 1:]:
            if a.overlaps(b):
                problems.append((kb, f"{b} overlaps {a} ({ka}); vSwitch CIDRs must not overlap"))
    return problems
