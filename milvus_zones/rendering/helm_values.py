"""Helm values for the zilliztech Milvus chart, translated from the topology plan.

Pure Python: no Pulumi, no I/O. The plan has already decided zones, replicas and selectors; this
module only maps them onto keys the pinned charts (4.2.25, 4.2.58, 5.0.19) and their subcharts
really have, and writes the instructions the chart cannot express (see `postrender`).

Sources the keys were checked against (chart values files in shared/reference/milvus-helm, the
chart templates of zilliztech/milvus-helm, Milvus source) are named where they are used; see also
docs/ha-resource-groups.md.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import yaml

# CLUSTER_LABEL: shared by the pods of all releases of one deployment (Option A's Service selects on it);
# defined once, in the policy pack's model (part of this distribution).
from milvus_zones_policies.model.names import CLUSTER_LABEL

from milvus_zones.planning.catalog import CHART_IMAGE_KEYS, HA_FEATURES_MIN_VERSION, key_image, version_tuple
from milvus_zones.planning.plan import (
    MODE_TAG,
    ZONE_LABEL,
    ComponentPlan,
    Role,
    Taint,
    TopologyPlan,
    zone_suffix,
)
from milvus_zones.planning.sizing import job_resources
from milvus_zones.planning.spec import MessageService, Mode
from milvus_zones.rendering import hardening
from milvus_zones.rendering.postrender import (
    ANN_HARDENING,
    ANN_LB_CLASS,
    ANN_RG_SELECTORS,
    ANN_SERVICE_SELECTOR,
    ANN_WORKLOAD_PATCHES,
)

# ACK's CSI default class with WaitForFirstConsumer binding, so each zonal disk is created in the
# zone its pod was scheduled to (ACK docs, "StorageClass": alicloud-disk-topology-alltype,
# provisioner diskplugin.csi.alibabacloud.com, volumeBindingMode WaitForFirstConsumer).
DEFAULT_STORAGE_CLASS = "alicloud-disk-topology-alltype"
# ack-pod-identity-webhook: ServiceAccount annotation naming the RAM role whose RRSA credentials it
# injects (the namespace also needs the label pod-identity.alibabacloud.com/injection=on).
RRSA_ROLE_ANNOTATION = "pod-identity.alibabacloud.com/role-name"
# Milvus reads every environment variable as a config key: pkg/config/env_source.go (EnvSource)
# stores each variable under KeyFormatter(name), and paramtable/base_table.go's formatter lower-cases
# and drops "_", "." and "/", the same normalisation config.formatKey applies to
# "common.security.defaultRootPassword". EnvSource has NormalPriority (11), files LowPriority (21),
# so this variable beats milvus.yaml/user.yaml. RootCoord (inside mixCoord) reads the value once,
# in initCredentials/MetaTable.InitCredential, when the root user does not exist yet.
ROOT_PASSWORD_ENV = "COMMON_SECURITY_DEFAULTROOTPASSWORD"
PASSWORD_KEY = "password"
PASSWORD_SECRET = "milvus-root-password"  # the Secret (key PASSWORD_KEY) the program creates in the namespace
# ACK CCM: NLB needs spec.loadBalancerClass (CLB otherwise); zone-maps lists "<zone>:<vSwitch>".
NLB_CLASS = "alibabacloud.com/nlb"
ANN_ADDRESS_TYPE = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type"
ANN_ZONE_MAPS = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-zone-maps"
# ACK CCM: reuse an existing load balancer, and let CCM manage its listeners.
ANN_LB_ID = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id"
ANN_LB_OVERRIDE_LISTENERS = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-force-override-listeners"

# 2.5 resource groups match query nodes by node label: MILVUS_SERVER_LABEL_<KEY>=<value> gives the
# node label KEY; "AZ" does not start with a role name (design brief, section 3).
AZ_LABEL_KEY = "AZ"
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"

# ---- zone-failure tuning (docs/failures.md: what each setting contributes to the modeled RTO) -------
# Milvus session lease (common.session.ttl, seconds): how long a dead component's session outlives it,
# hence how soon the standby mixCoord takes over and the streaming coordinator sees lost streaming nodes.
SESSION_TTL_S = 10
# Proxy -> query node health checks (proxy.healthCheckTimeout in ms, proxy.retryTimesOnHealthCheck):
# a query node is taken out of the proxy's replica selection after this many failed checks.
PROXY_HEALTH_CHECK_TIMEOUT_MS = 1000
PROXY_HEALTH_CHECK_RETRIES = 2
# NLB health checks of the proxies (ACK CCM annotations): unhealthy after threshold x interval.
NLB_HEALTH_CHECK = {"interval": 2, "connect-timeout": 2, "unhealthy-threshold": 2, "healthy-threshold": 2}
ANN_HEALTH = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-"
# Kubernetes adds unreachable/not-ready NoExecute tolerations of 300 s to every pod
# (DefaultTolerationSeconds); Milvus pods leave a lost zone's nodes after this instead.
NODE_FAILURE_TOLERATION_S = 30
NODE_FAILURE_TAINTS = ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready")

# Values-key of each plan component -> the `component` label the chart puts on its pods.
COMPONENT_LABELS = {
    "proxy": "proxy",
    "mixCoordinator": "mixcoord",
    "dataNode": "datanode",
    "indexNode": "indexnode",
    "queryNode": "querynode",
    "streamingNode": "streamingnode",
}

# Milvus chart defaults for kafka.extraEnvVars (identical in 4.2.25, 4.2.58, 5.0.19). Helm replaces
# lists, so adding min.insync.replicas means restating them; tests check they still match.
KAFKA_CHART_ENV = (
    ("KAFKA_CFG_MAX_PARTITION_FETCH_BYTES", "5242880"),
    ("KAFKA_CFG_MAX_REQUEST_SIZE", "5242880"),
    ("KAFKA_CFG_REPLICA_FETCH_MAX_BYTES", "10485760"),
    ("KAFKA_CFG_FETCH_MESSAGE_MAX_BYTES", "5242880"),
    ("KAFKA_CFG_LOG_ROLL_HOURS", "24"),
)
# Milvus chart defaults for etcd.extraEnvVars (identical in 4.2.25, 4.2.58, 5.0.19): restated for the
# same reason, tests check they still match.
ETCD_CHART_ENV = (
    ("ETCD_QUOTA_BACKEND_BYTES", "4294967296"),
    ("ETCD_HEARTBEAT_INTERVAL", "500"),
    ("ETCD_ELECTION_TIMEOUT", "2500"),
)
# etcd's metrics-only listener: /metrics and /health, no KV API. The Milvus chart runs the image
# milvusdb/etcd (3.5.16-r1, 3.5.18-r1, 3.5.25-r1 in charts 4.2.25, 4.2.58, 5.0.19: values.yaml
# etcd.image), Milvus' fork of bitnami's; at etcd v3.5.16, v3.5.18 and v3.5.25 `--listen-metrics-urls`
# is read from env ETCD_LISTEN_METRICS_URLS (server/etcdmain/config.go SetFlagsFromEnv) and served by
# a mux of HandleMetrics and HandleHealth only (server/embed/etcd.go serveMetrics). The image passes
# the container's env through to etcd unless a config file exists (milvus-io/bitnami-docker-etcd
# 3.5.16-r1, 3.5/debian-12/.../etcd/run.sh), which the subchart mounts only with `configuration` or
# `existingConfigmap`, neither set here. Monitoring reaches metrics without 2379, which has no auth.
ETCD_METRICS_PORT = 2381


@dataclass(frozen=True)
class ReleaseContext:
    """What the values need beyond the plan. role_name, lb_vswitch_ids and lb_id name cloud resources,
    known only once Pulumi created them: `release_template` reads none of them, `with_cloud_ids` adds them."""

    role_name: str  # RAM role Milvus assumes through ACK RRSA (pod-identity webhook annotation)
    service_account: str  # Kubernetes service account name for Milvus pods, e.g. "milvus"
    password_secret: str  # Secret in plan.namespace with key "password": the root password
    oss_endpoint: str  # OSS internal endpoint host, e.g. oss-cn-hangzhou-internal.aliyuncs.com
    vpc_cidr: str  # restricts the load balancer's source ranges
    lb_vswitch_ids: dict[str, str]  # zone -> node vSwitch id, for the proxy NLB's zone mappings
    storage_class: str = DEFAULT_STORAGE_CLASS  # for etcd / message-service volumes
    lb_id: str | None = None  # an NLB created by Pulumi for the proxies (cross-region-ha), reused by CCM
    peer_cidrs: tuple[str, ...] = ()  # other regions' VPC CIDRs allowed to reach the proxies (CDC)


@dataclass(frozen=True)
class ReleaseSpec:
    name: str  # Helm release name
    chart: str  # "milvus"
    version: str  # plan.chart.chart_version
    repo: str  # plan.chart.repo
    values: dict
    postrender: bool  # True when the HA post-renderer must run

    @property
    def fullname(self) -> str:
        """The chart's `milvus.fullname` (no overrides set): prefix of every object and Service name."""
        return _fullname(self.name)


@dataclass(frozen=True)
class ChartFacts:
    """What a pinned chart offers, read from its values.yaml / requirements.yaml."""

    etcd_chart: str  # bitnami etcd subchart version (requirements.yaml)
    pulsar_key: str  # values key of the Pulsar subchart matching the Milvus version
    component_spread: bool  # <component>.topologySpreadConstraints (chart >= 4.2.34)
    replica_resource_groups: bool  # replicaResourceGroups (chart >= 5.0.17)
    streaming: bool  # Milvus 2.6 streaming nodes, Woodpecker
    # securityContext / containerSecurityContext / volumes / volumeMounts, global and per component
    # (values.yaml of 4.2.58 and 5.0.19; 4.2.25 has none: the post-renderer applies them there).
    security_keys: bool = True


CHART_FACTS: dict[str, ChartFacts] = {
    # Pulsar v2 (subchart alias `pulsar`, enabled by default); no topologySpreadConstraints keys.
    "4.2.25": ChartFacts("6.3.3", "pulsar", False, False, False, security_keys=False),
    # Pulsar v3 (`pulsarv3`, subchart pulsar 3.3.0) is the default here.
    "4.2.58": ChartFacts("6.3.3", "pulsarv3", True, False, False),
    "5.0.19": ChartFacts("8.12.0", "pulsarv3", True, True, True),
}


# ---- small builders -----------------------------------------------------------------------------


def _fullname(release: str) -> str:
    # charts/milvus/templates/_helpers.tpl "milvus.fullname": the release name when it contains
    # the chart name, else "<release>-milvus"; truncated to 63.
    return (release if "milvus" in release else f"{release}-milvus")[:63].rstrip("-")


def _subchart_service(release: str, name: str) -> str:
    # config.tpl names subchart services "<release>" when the release name contains the subchart
    # name, else "<release>-<name>".
    return release if name in release else f"{release}-{name}"


def etcd_member_endpoints(release: str, namespace: str, replicas: int) -> list[str]:
    """Every member of the etcd subchart by its own DNS name, so a client can fail over between them.

    bitnami etcd 8.12.0 (statefulset.yaml): pods <fullname>-<i> under the headless Service
    <fullname>-headless, advertised as http://<pod>.<fullname>-headless.<ns>.svc.<clusterDomain>:2379.
    """
    full = _subchart_service(release, "etcd")
    return [f"http://{full}-{i}.{full}-headless.{namespace}.svc.cluster.local:2379" for i in range(replicas)]


def etcd_statefulset(release: str) -> str:
    """The etcd subchart's StatefulSet (bitnami common.names.fullname: the same rule as its Service)."""
    return _subchart_service(release, "etcd")


def etcd_client_endpoint(release: str, namespace: str) -> str:
    """URL of the etcd subchart's client Service of a release (config.tpl naming), from inside the cluster."""
    return f"http://{_subchart_service(release, 'etcd')}.{namespace}.svc:2379"


def _toleration(t: Taint) -> dict:
    return {"key": t.key, "operator": "Equal", "value": t.value, "effect": t.effect}


def _spread(key: str, match_labels: dict[str, str]) -> dict:
    return {
        "maxSkew": 1,
        "topologyKey": key,
        "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": dict(match_labels)},
    }


def _anti_affinity(key: str, match_labels: dict[str, str]) -> dict:
    return {"podAntiAffinity": {REQUIRED: [{"labelSelector": {"matchLabels": dict(match_labels)}, "topologyKey": key}]}}


def _facts(plan: TopologyPlan) -> ChartFacts:
    try:
        return CHART_FACTS[plan.chart.chart_version]
    except KeyError:
        raise ValueError(
            f"no Helm values mapping for chart {plan.chart.chart_version}; known: {', '.join(sorted(CHART_FACTS))}"
        ) from None


def _compute_selector(plan: TopologyPlan) -> dict[str, str]:
    """Labels every compute pool carries (the shared selector for per-group workloads)."""
    pools = plan.pools(Role.COMPUTE)
    common = dict(pools[0].labels)
    for p in pools[1:]:
        common = {k: v for k, v in common.items() if p.labels.get(k) == v}
    return common


def _share(total: int, index: int, parts: int) -> int:
    """Replicas of the index-th of `parts` zones under a maxSkew-1 spread (earlier zones first)."""
    return total // parts + (1 if index < total % parts else 0)


def _resources(plan: TopologyPlan, component: str) -> dict:
    """Chart `resources` of a sized component (requests = limits); {} when the plan carries no sizing."""
    if plan.sizing is None or component not in plan.sizing.components:
        return {}
    return plan.sizing.of(component).values()


def _jvm(plan: TopologyPlan, component: str, direct: bool) -> str | None:
    """JVM heap (and direct memory) inside the container's memory limit: the chart defaults (-Xmx4096m
    with 8 GiB direct memory for bookies and brokers) would exceed it and be OOM-killed."""
    if plan.sizing is None or component not in plan.sizing.components:
        return None
    mem = plan.sizing.of(component).memory_mi
    if direct:  # heap and direct buffers 40% each, the rest for metaspace, threads, page cache
        heap = mem * 2 // 5
        return f"-Xms{heap}m -Xmx{heap}m -XX:MaxDirectMemorySize={heap}m"
    heap = mem // 2
    return f"-Xms{heap}m -Xmx{heap}m"


def _user_yaml(config: dict) -> dict[str, str]:
    return {"user.yaml": yaml.safe_dump(config, sort_keys=True, default_flow_style=False)}


# ---- sections ---------------------------------------------------------------------------------


def _object_storage(plan: TopologyPlan, ctx: ReleaseContext) -> dict:
    # OSS through its S3 API: virtual-host style (OSS rejects path style, milvus-io/milvus#26884),
    # credentials from the Alibaba default chain (cloudProvider aliyun + useIAM), which reads the
    # variables the RRSA webhook injects. No access keys anywhere.
    assert plan.bucket is not None  # self-hosted plans always have one
    return {
        "minio": {"enabled": False},
        "externalS3": {
            "enabled": True,
            "host": ctx.oss_endpoint,
            "port": 443,
            "useSSL": True,
            "bucketName": plan.bucket.name,
            "rootPath": plan.bucket.root_path,
            "cloudProvider": "aliyun",
            "useIAM": True,
            "useVirtualHost": True,
            "region": plan.region,
        },
    }


def _etcd(plan: TopologyPlan, ctx: ReleaseContext, facts: ChartFacts, release: str) -> dict:
    e = plan.etcd
    # bitnami etcd pods carry common.labels.matchLabels: name (chart name) + instance (release).
    members = {"app.kubernetes.io/name": "etcd", "app.kubernetes.io/instance": release}
    values: dict[str, Any] = {
        "enabled": True,
        "replicaCount": e.replicas,
        "persistence": {"enabled": True, "storageClass": ctx.storage_class, "size": f"{e.volume_size_gi}Gi"},
        "pdb": {"create": True, "minAvailable": e.pdb_min_available},
        "nodeSelector": dict(e.node_selector),
        "tolerations": [_toleration(e.toleration)],
        # Hard one-member-per-domain rule; etcd 6.3.3 (charts 4.2.x) has no topologySpreadConstraints.
        "affinity": _anti_affinity(e.spread_key, members),
        "resources": _resources(plan, "etcd"),
        "extraEnvVars": [{"name": k, "value": v} for k, v in ETCD_CHART_ENV]
        + [{"name": "ETCD_LISTEN_METRICS_URLS", "value": f"http://0.0.0.0:{ETCD_METRICS_PORT}"}],
        **hardening.etcd_security(),
    }
    if facts.etcd_chart == "8.12.0":
        values["topologySpreadConstraints"] = [_spread(e.spread_key, members)]
    return values


# Autorecovery's probes (the subchart renders none): with `httpServerEnabled: "true"` and `httpServerPort`
# 8000, which the subchart's autorecovery ConfigMap sets, AutoRecoveryMain.buildAutoRecoveryServer
# starts BookKeeper's HttpService, whose router serves /heartbeat (apache/bookkeeper
# AutoRecoveryMain.java, http/HttpRouter.java). Timings: the subchart's bookkeeper.probe defaults.
AUTORECOVERY_HTTP_PORT = 8000
_AUTORECOVERY_PROBE = {"httpGet": {"path": "/heartbeat", "port": AUTORECOVERY_HTTP_PORT},
                       "initialDelaySeconds": 10, "periodSeconds": 30, "timeoutSeconds": 5, "failureThreshold": 60}


def _pulsar_v3_patches(plan: TopologyPlan, release: str) -> list[dict]:
    """Placement of the init Jobs (pulsar_metadata.nodeSelector/tolerations are read by the templates but
    are not keys of the values) and autorecovery's probes: nothing in the subchart's values sets them."""
    m = plan.message_service
    app = {"app": "pulsarv3", "release": release}
    jobs: list[dict[str, Any]] = [
        {"kind": "Job", "matchLabels": {**app, "component": component},
         "nodeSelector": dict(m.node_selector), "tolerations": [_toleration(m.toleration)]}
        for component in ("bookie-init", "pulsar-init")]
    probes = {"kind": "StatefulSet", "matchLabels": {**app, "component": "recovery"},
              "probes": {"livenessProbe": _AUTORECOVERY_PROBE, "readinessProbe": _AUTORECOVERY_PROBE}}
    return [*jobs, probes]


def _pulsar_v3(plan: TopologyPlan, ctx: ReleaseContext) -> dict:
    m = plan.message_service
    tolerations = [_toleration(m.toleration)]
    # pulsar 3.3.0 templates: required anti-affinity on affinity.anti_affinity_topology_key, on top
    # of the chart-wide affinity.anti_affinity switch (Milvus' values turn both off by default).
    def member(name: str, **extra: Any) -> dict:
        return {
            "replicaCount": m.replicas,
            "nodeSelector": dict(m.node_selector),
            "tolerations": tolerations,
            "affinity": {"anti_affinity": True, "anti_affinity_topology_key": m.spread_key, "type": REQUIRED},
            "pdb": {"usePolicy": True, "maxUnavailable": 1},
            **_pulsar_sizing(plan, name),
            **extra,
        }

    sc = ctx.storage_class
    return {
        "enabled": True,
        "persistence": True,
        "volumes": {"persistence": True},
        "affinity": {"anti_affinity": True, "type": REQUIRED},
        "zookeeper": member("zookeeper", volumes={"persistence": True, "data": {"storageClassName": sc}}),
        "bookkeeper": member(
            "bookkeeper",
            volumes={"persistence": True, "journal": {"storageClassName": sc}, "ledgers": {"storageClassName": sc}},
            # The init Jobs' containers (bookie-init, pulsar-init): sizing.PULSAR_INIT_PODS.
            metadata={"resources": job_resources()},
        ),
        "pulsar_metadata": {"resources": job_resources()},
        "broker": member("broker"),
        "proxy": member("proxy"),
        "autorecovery": {"nodeSelector": dict(m.node_selector), "tolerations": tolerations,
                         **_pulsar_sizing(plan, "autorecovery")},
    }


def _pulsar_sizing(plan: TopologyPlan, name: str) -> dict:
    """`resources` and the JVM memory flags of one Pulsar component (same keys in Pulsar 2.7.8 and 3.3.0)."""
    resources = _resources(plan, f"pulsar.{name}")
    if not resources:
        return {}
    # autorecovery reads BOOKIE_MEM, the others PULSAR_MEM (Milvus values of both Pulsar subcharts).
    env = "BOOKIE_MEM" if name == "autorecovery" else "PULSAR_MEM"
    return {"resources": resources,
            "configData": {env: _jvm(plan, f"pulsar.{name}", direct=name in ("bookkeeper", "broker"))}}


def _pulsar_v2(plan: TopologyPlan, ctx: ReleaseContext, release: str) -> tuple[dict, list[dict]]:
    """Pulsar v2 (chart 2.7.8): replicas through values, placement through post-render patches.

    Only replicaCount keys are in Milvus' own values for the v2 subchart; its placement keys could
    not be checked against the 2.7.8 chart, so the post-renderer applies them to the rendered
    StatefulSets and fails if their labels (app/release/component) are not found.
    """
    m = plan.message_service
    pdb = {"usePolicy": True, "maxUnavailable": 1}  # pulsar 2.7.8 values: <component>.pdb
    values = {
        "enabled": True,
        "zookeeper": {"pdb": pdb, **_pulsar_sizing(plan, "zookeeper")},
        # The init Jobs stay unsized here: pulsar-init's container has no values key, and bookie-init's
        # (bookkeeper.metadata.resources) runs the bookie's own PULSAR_MEM (no -Xmx128M in 2.7.8's template).
        "bookkeeper": {"replicaCount": m.replicas, "pdb": pdb, **_pulsar_sizing(plan, "bookkeeper")},
        "broker": {"replicaCount": m.replicas, "pdb": pdb, **_pulsar_sizing(plan, "broker")},
        "proxy": {"replicaCount": m.replicas, "pdb": pdb, **_pulsar_sizing(plan, "proxy")},
        "autorecovery": _pulsar_sizing(plan, "autorecovery"),
    }
    patches = [
        {
            "kind": "StatefulSet",
            "matchLabels": {"app": "pulsar", "release": release, "component": component},
            "nodeSelector": dict(m.node_selector),
            "tolerations": [_toleration(m.toleration)],
            "spreadTopologyKey": m.spread_key,
            "storageClassName": ctx.storage_class,
        }
        for component in ("zookeeper", "bookie", "broker", "proxy")
    ]
    # The init Jobs on the quorum pools, which keep room for them (sizing.PULSAR_INIT_PODS).
    patches += [
        {"kind": "Job", "matchLabels": {"app": "pulsar", "release": release, "component": component},
         "nodeSelector": dict(m.node_selector), "tolerations": [_toleration(m.toleration)]}
        for component in ("bookie-init", "pulsar-init")
    ]
    return values, patches


def _kafka(plan: TopologyPlan, ctx: ReleaseContext, release: str) -> tuple[dict, list[dict]]:
    m = plan.message_service
    brokers = {"app.kubernetes.io/name": "kafka", "app.kubernetes.io/instance": release}
    values = {
        "enabled": True,
        "replicaCount": m.replicas,
        "nodeSelector": dict(m.node_selector),
        "tolerations": [_toleration(m.toleration)],
        "affinity": _anti_affinity(m.spread_key, brokers),
        "persistence": {"enabled": True, "storageClass": ctx.storage_class},
        "pdb": {"create": True, "maxUnavailable": 1},
        "defaultReplicationFactor": m.replicas,
        "offsetsTopicReplicationFactor": m.replicas,
        # acks=all then needs a copy in a second zone before a write is acknowledged.
        "extraEnvVars": [{"name": k, "value": v} for k, v in KAFKA_CHART_ENV]
        + [{"name": "KAFKA_CFG_MIN_INSYNC_REPLICAS", "value": str(max(1, m.replicas - 1))}],
        "zookeeper": {"enabled": True, "replicaCount": m.replicas,
                      "persistence": {"enabled": True, "storageClass": ctx.storage_class},
                      "resources": _resources(plan, "kafka.zookeeper"), "pdb": {"create": True, "maxUnavailable": 1}},
        "resources": _resources(plan, "kafka"),
    }
    if _jvm(plan, "kafka", direct=False):
        values["heapOpts"] = _jvm(plan, "kafka", direct=False)
    # Kafka's ZooKeeper is a sub-subchart whose values are not in the reference set: place it by patch.
    patches = [
        {
            "kind": "StatefulSet",
            "matchLabels": {"app.kubernetes.io/name": "zookeeper", "app.kubernetes.io/instance": release},
            "nodeSelector": dict(m.node_selector),
            "tolerations": [_toleration(m.toleration)],
            "spreadTopologyKey": m.spread_key,
            "storageClassName": ctx.storage_class,
        }
    ]
    return values, patches


def _message_service(plan: TopologyPlan, ctx: ReleaseContext, facts: ChartFacts, release: str) -> tuple[dict, list[dict]]:
    kind = plan.message_service.kind
    values: dict[str, Any] = {"pulsar": {"enabled": False}, "pulsarv3": {"enabled": False}, "kafka": {"enabled": False}}
    patches: list[dict] = []
    if kind is MessageService.WOODPECKER:
        if not facts.streaming:
            raise ValueError(f"woodpecker needs chart 5.x (Milvus 2.6); chart is {plan.chart.chart_version}")
        # Embedded in the streaming nodes, the log in the bucket (storage type "minio" = object storage).
        values["streaming"] = {"enabled": True, "woodpecker": {"embedded": True, "storage": {"type": "minio"}}}
        values["woodpecker"] = {"enabled": True}
    elif kind is MessageService.PULSAR:
        if facts.pulsar_key == "pulsarv3":
            values["pulsarv3"] = _pulsar_v3(plan, ctx)
            patches = _pulsar_v3_patches(plan, release)
        else:
            values["pulsar"], patches = _pulsar_v2(plan, ctx, release)
    elif kind is MessageService.KAFKA:
        values["kafka"], patches = _kafka(plan, ctx, release)
    if facts.streaming and kind is not MessageService.WOODPECKER:
        # 2.6 always runs streaming nodes; the WAL is then the Pulsar/Kafka subchart.
        values["streaming"] = {"enabled": True}
        values["woodpecker"] = {"enabled": False}
    return values, patches


def _external_message_service(plan: TopologyPlan, facts: ChartFacts, primary: str) -> dict:
    """Option A's standby release: the primary release's message service, subcharts off."""
    kind = plan.message_service.kind
    values: dict[str, Any] = {"pulsar": {"enabled": False}, "pulsarv3": {"enabled": False}, "kafka": {"enabled": False}}
    if kind is MessageService.PULSAR:
        name = "pulsarv3" if facts.pulsar_key == "pulsarv3" else "pulsar"
        values["externalPulsar"] = {"enabled": True, "host": f"{_subchart_service(primary, name)}-proxy", "port": 6650}
    elif kind is MessageService.KAFKA:
        values["externalKafka"] = {
            "enabled": True,
            "brokerList": f"{_subchart_service(primary, 'kafka')}:9092",
            "securityProtocol": "PLAINTEXT",  # the kafka subchart's client listener (auth.clientProtocol: plaintext)
        }
    else:
        raise ValueError(f"Option A shares a Pulsar or Kafka message service; got {kind}")
    return values


def _component(
    plan: TopologyPlan,
    facts: ChartFacts,
    c: ComponentPlan,
    release: str,
    *,
    replicas: int | None = None,
    node_selector: dict[str, str] | None = None,
    spread: bool | None = None,
) -> dict:
    values: dict[str, Any] = {
        "replicas": c.replicas if replicas is None else replicas,
        "nodeSelector": dict(c.node_selector if node_selector is None else node_selector),
        "resources": _resources(plan, c.name),
    }
    if c.name == "indexNode":
        values["enabled"] = True  # off by default from chart 5.x; 4.x plans still run index nodes
    if c.active_standby:
        values["activeStandby"] = {"enabled": True}
    if c.zone_spread if spread is None else spread:
        if not facts.component_spread or c.name == "streamingNode":
            # streamingNode has no topologySpreadConstraints key in any pinned chart's values.
            raise ValueError(f"chart {plan.chart.chart_version} has no {c.name}.topologySpreadConstraints")
        labels = {"app.kubernetes.io/instance": release, "component": COMPONENT_LABELS[c.name]}
        values["topologySpreadConstraints"] = [_spread(ZONE_LABEL, labels)]
    return values


def _set_images(plan: TopologyPlan, values: dict) -> None:
    """The pinned Milvus image on every Milvus container, every subchart image pinned by its digest
    (the stack's imageDigests, else the catalog's) and every image from the stack's registry.

    Chart keys (read in each pinned chart's values and templates): `image.all.repository/tag` feed
    every Milvus Deployment (`"{{ repository }}:{{ tag }}"`), so a tag of `v2.6.22@sha256:...` pins the
    content. The subcharts render `repository:tag` too, each its own way (docs/images.md): bitnami's
    common.images.image `printf "%s/%s:%s"` (etcd 6.3.3, kafka and zookeeper 15.5.1; etcd 8.12.0 prints
    `repository@digest` from `image.digest`, which drops the tag, so its tag key is used as well),
    Pulsar's imageFullName and the Pulsar v2 templates `repository:tag`; so `tag: <tag>@<digest>`
    pins each. They take the registry through their own keys (catalog.CHART_IMAGE_KEYS).
    """
    image = plan.milvus_image
    version = version_tuple(image.tag)
    features = (plan.resource_groups and plan.chart.major >= 5) or plan.cdc
    if features and (version is None or version < HA_FEATURES_MIN_VERSION):
        # The spec refuses this first; kept so no other caller can render HA on a Milvus without it.
        raise ValueError(f"resource groups / CDC need Milvus {'.'.join(map(str, HA_FEATURES_MIN_VERSION))}+; "
                             f"image is {image.tag}")
    registry = plan.image_registry
    values["image"] = {"all": {"tag": image.reference_tag}}
    if registry is not None:
        values["image"]["all"]["repository"] = f"{registry}/{image.repository}"
    running = {"milvus"}
    if values.get("etcd", {}).get("enabled"):
        running.add("etcd")
    running.update(k for k in ("pulsar", "pulsarv3", "kafka") if values.get(k, {}).get("enabled"))
    for key in CHART_IMAGE_KEYS[plan.chart.chart_version]:
        if key.service not in running:
            continue
        catalog = key_image(plan.chart.chart_version, key)
        pinned = plan.image(catalog) if catalog is not None else None
        if registry is None and (pinned is None or pinned.digest is None):
            continue
        block = values
        for step in key.path:
            block = block.setdefault(step, {})
        if pinned is not None and pinned.digest is not None:
            block["tag"] = pinned.reference_tag
        if registry is None:
            continue
        if key.style == "registry":
            block["registry"] = registry
        else:
            block["repository"] = f"{registry}/{key.repository}"


def _set_root_password(plan: TopologyPlan, values: dict, ctx: ReleaseContext) -> None:
    """Root password from the Secret, on the component that creates the root user (RootCoord in mixCoord)."""
    if "mixCoordinator" not in values:
        raise ValueError("the plan has no mixCoordinator, which creates the root user")
    values["mixCoordinator"]["extraEnv"] = [
        {"name": ROOT_PASSWORD_ENV, "valueFrom": {"secretKeyRef": {"name": ctx.password_secret, "key": PASSWORD_KEY}}}
    ]


def _service(plan: TopologyPlan, ctx: ReleaseContext, selector: dict[str, str] | None = None) -> dict:
    if not plan.proxy_load_balancer:
        return {"type": "ClusterIP"}
    # The NLB's zone mappings (or the NLB it reuses): with_cloud_ids.
    annotations = {
        ANN_ADDRESS_TYPE: "intranet",
        ANN_LB_CLASS: NLB_CLASS,
        # TCP health checks of each proxy: a lost zone's proxies leave the NLB within seconds.
        ANN_HEALTH + "health-check-flag": "on",
        ANN_HEALTH + "health-check-type": "tcp",
        **{ANN_HEALTH + ("health-check-" + k if k in ("interval", "connect-timeout") else k): str(v)
           for k, v in NLB_HEALTH_CHECK.items()},
    }
    if selector is not None:
        annotations[ANN_SERVICE_SELECTOR] = json.dumps(selector, sort_keys=True)
    # Cross-region, the other region's CDC connects through the interconnect, from its own VPC CIDR.
    sources = [ctx.vpc_cidr, *ctx.peer_cidrs]
    return {"type": "LoadBalancer", "annotations": annotations, "loadBalancerSourceRanges": sources}


def node_failure_tolerations(seconds: int = NODE_FAILURE_TOLERATION_S) -> list[dict]:
    """Explicit NoExecute tolerations that replace the 300 s ones Kubernetes would add."""
    return [{"key": k, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": seconds}
            for k in NODE_FAILURE_TAINTS]


def _base_config(plan: TopologyPlan, facts: ChartFacts) -> dict:
    config: dict[str, Any] = {
        "common": {"security": {"authorizationEnabled": True}},
        # Set, not defaulted (by-dev), so every release of this deployment names the same metadata
        # and channels, and the etcd keys in the docs are predictable.
        "etcd": {"rootPath": plan.name},
        "msgChannel": {"chanNamePrefix": {"cluster": plan.name}},
    }
    if plan.message_service.kind is MessageService.WOODPECKER:
        config["mq"] = {"type": "woodpecker"}
        config["woodpecker"] = {"storage": {"type": "minio"}}
    if plan.mode.multi_zone:
        config["common"]["session"] = {"ttl": SESSION_TTL_S}
    if plan.mode is Mode.MULTI_ZONE_HA:
        config["proxy"] = {
            "healthCheckTimeout": PROXY_HEALTH_CHECK_TIMEOUT_MS,
            "retryTimesOnHealthCheck": PROXY_HEALTH_CHECK_RETRIES,
        }
    return config


def _mode_labels(plan: TopologyPlan) -> dict[str, str]:
    """The mode declaration (and cross-region role) on every Milvus object, as on the cloud resources."""
    return {k: v for k, v in plan.tags.items() if k.startswith("milvus-zones/")} or {MODE_TAG: str(plan.mode)}


def _service_account(ctx: ReleaseContext, create: bool) -> dict:
    # The RRSA role annotation of the account the chart creates: with_cloud_ids.
    return {"create": create, "name": ctx.service_account}


def _spec(plan: TopologyPlan, name: str, values: dict, postrender: bool) -> ReleaseSpec:
    return ReleaseSpec(name, "milvus", plan.chart.chart_version, plan.chart.repo, values, postrender)


def _patches_annotation(annotations: dict[str, str], patches: list[dict]) -> None:
    if patches:
        annotations[ANN_WORKLOAD_PATCHES] = json.dumps(patches, sort_keys=True, separators=(",", ":"))
    # Always: the post-renderer hardens what no chart key reaches (docs/hardening.md).
    annotations[ANN_HARDENING] = hardening.directive()


def _security_values(facts: ChartFacts) -> dict:
    """Chart-global security keys, where the chart has them (every Milvus component inherits them)."""
    if not facts.security_keys:
        return {}
    volumes, mounts = hardening.milvus_volumes()
    return {
        "securityContext": hardening.milvus_pod_security(),
        "containerSecurityContext": hardening.milvus_container_security(),
        "volumes": volumes,
        "volumeMounts": mounts,
    }


# ---- releases ---------------------------------------------------------------------------------


def _single_release(plan: TopologyPlan, ctx: ReleaseContext, facts: ChartFacts) -> ReleaseSpec:
    """single-zone, multi-zone-basic, and multi-zone-ha on a chart with replicaResourceGroups (Option B)."""
    release = plan.name
    mq, patches = _message_service(plan, ctx, facts, release)
    values: dict[str, Any] = {
        "cluster": {"enabled": True},
        "labels": _mode_labels(plan),
        "serviceAccount": _service_account(ctx, create=True),
        **_object_storage(plan, ctx),
        "etcd": _etcd(plan, ctx, facts, release),
        **mq,
        "extraConfigFiles": _user_yaml(_base_config(plan, facts)),
        "service": _service(plan, ctx),
        **_security_values(facts),
    }
    if plan.mode.multi_zone:
        values["tolerations"] = node_failure_tolerations()  # chart-global: every Milvus component
    for c in plan.components:
        values[c.name] = _component(plan, facts, c, release)
    _set_root_password(plan, values, ctx)
    _set_images(plan, values)
    if plan.cdc:
        if not facts.streaming:
            raise ValueError(f"Milvus CDC needs Milvus 2.6 (chart 5.x); got chart {plan.chart.chart_version}")
        values["cdc"] = {"enabled": True, "nodeSelector": _compute_selector(plan), "resources": _resources(plan, "cdc")}
    annotations: dict[str, str] = {}
    if plan.resource_groups:
        if not facts.replica_resource_groups:
            raise ValueError(f"chart {plan.chart.chart_version} has no replicaResourceGroups")
        _resource_group_values(plan, values, annotations)
    _patches_annotation(annotations, patches)
    if annotations:
        values["annotations"] = annotations
    postrender = bool(annotations) or ANN_LB_CLASS in values["service"].get("annotations", {})
    return _spec(plan, release, values, postrender)


def _resource_group_values(plan: TopologyPlan, values: dict, annotations: dict[str, str]) -> None:
    """Option B: one query/streaming Deployment per group (chart), pinned per zone (post-renderer)."""
    rgs = plan.resource_groups
    for attr in ("query_nodes", "streaming_nodes"):
        counts = {getattr(rg, attr) for rg in rgs}
        if len(counts) != 1:
            # The chart renders every group's Deployment from the one queryNode/streamingNode block.
            raise ValueError(f"resource groups need equal {attr} for chart replicaResourceGroups; got {counts}")
    shared = _compute_selector(plan)
    # Primary group first: the chart makes it streaming.primaryResourceGroup, where the WAL lives.
    values["replicaResourceGroups"] = [rg.name for rg in rgs]
    # The HPA would target the single querynode Deployment, which groups replace.
    values["queryNode"] = {"replicas": rgs[0].query_nodes, "nodeSelector": dict(shared), "hpa": {"enabled": False},
                           "resources": _resources(plan, "queryNode")}
    values["streamingNode"] = {"replicas": rgs[0].streaming_nodes, "nodeSelector": dict(shared),
                               "resources": _resources(plan, "streamingNode")}
    annotations[ANN_RG_SELECTORS] = json.dumps(
        {rg.name: dict(sorted(rg.node_selector.items())) for rg in rgs}, sort_keys=True, separators=(",", ":")
    )


def _option_a(plan: TopologyPlan, ctx: ReleaseContext, facts: ChartFacts) -> list[ReleaseSpec]:
    """multi-zone-ha without replicaResourceGroups (2.5): one release per compute zone, one cluster.

    The primary release carries etcd and the message service (spread over the quorum zones like in
    every multi-zone mode); the secondary runs compute only and points at them. Both share the
    bucket/rootPath, etcd.rootPath and channel prefix, run mixCoord active-standby, and label their
    query nodes with their zone so resource groups (created by node_filter) take one replica each.
    """
    rgs = plan.resource_groups
    if facts.streaming:
        raise ValueError("Option A is only generated for charts without replicaResourceGroups (Milvus 2.5)")
    primary = plan.name
    names = [primary] + [f"{plan.name}-{zone_suffix(rg.zone)}" for rg in rgs[1:]]
    cluster_labels = {MODE_TAG: str(plan.mode), CLUSTER_LABEL: plan.name}
    config = _base_config(plan, facts)
    config["rootCoord"] = {"dmlChannelNum": 16}  # Milvus' default, pinned so both releases agree
    config["queryCoord"] = {
        "clusterLevelLoadReplicaNumber": len(rgs),
        "clusterLevelLoadResourceGroups": [rg.name for rg in rgs],
    }
    shared = _compute_selector(plan)
    # The primary's Service fronts the proxies of every release (selected by the shared label).
    proxy_selector = {"app.kubernetes.io/name": "milvus", "component": "proxy", CLUSTER_LABEL: plan.name}

    specs: list[ReleaseSpec] = []
    for i, (rg, release) in enumerate(zip(rgs, names, strict=True)):
        first = i == 0
        pinned = {**shared, **rg.node_selector}
        values: dict[str, Any] = {
            "cluster": {"enabled": True},
            "labels": dict(cluster_labels),
            # One ServiceAccount (with the RRSA role) for both releases; two would clash in Helm.
            "serviceAccount": _service_account(ctx, create=first),
            **_object_storage(plan, ctx),
            "extraConfigFiles": _user_yaml(config),
            "tolerations": node_failure_tolerations(),
            **_security_values(facts),
        }
        patches: list[dict] = []
        if first:
            mq, patches = _message_service(plan, ctx, facts, release)
            values.update({"etcd": _etcd(plan, ctx, facts, release), **mq})
            values["service"] = _service(plan, ctx, selector=proxy_selector)
        else:
            values["etcd"] = {"enabled": False}
            values["externalEtcd"] = {"enabled": True, "endpoints": [f"{_subchart_service(primary, 'etcd')}:2379"]}
            values.update(_external_message_service(plan, facts, primary))
            values["service"] = {"type": "ClusterIP"}
        for c in plan.components:
            replicas = _share(c.replicas, i, len(rgs)) if c.zone_spread else (c.replicas if first else 0)
            values[c.name] = _component(plan, facts, c, release, replicas=replicas, node_selector=pinned, spread=False)
        _set_root_password(plan, values, ctx)
        _set_images(plan, values)
        values["queryNode"] = {
            "replicas": rg.query_nodes,
            "nodeSelector": dict(pinned),
            "hpa": {"enabled": False},
            "extraEnv": [{"name": f"MILVUS_SERVER_LABEL_{AZ_LABEL_KEY}", "value": rg.zone}],
            "resources": _resources(plan, "queryNode"),
        }
        annotations: dict[str, str] = {}
        _patches_annotation(annotations, patches)
        if annotations:
            values["annotations"] = annotations
        postrender = bool(annotations) or ANN_LB_CLASS in values["service"].get("annotations", {})
        specs.append(_spec(plan, release, values, postrender))
    return specs


def release_template(plan: TopologyPlan, ctx: ReleaseContext) -> list[ReleaseSpec]:
    """The Helm release(s) of this deployment, primary first: names, charts and every value except
    those naming cloud resources (ctx's role_name, lb_vswitch_ids, lb_id are not read). Known before
    Pulumi creates anything, so the program names its releases, PDBs and NetworkPolicies from it."""
    facts = _facts(plan)
    if plan.mode is Mode.MULTI_ZONE_HA and not facts.replica_resource_groups:
        return _option_a(plan, ctx, facts)
    return [_single_release(plan, ctx, facts)]


def with_cloud_ids(plan: TopologyPlan, template: list[ReleaseSpec], role_name: str, lb_vswitch_ids: dict[str, str],
                   lb_id: str | None = None) -> list[ReleaseSpec]:
    """The template's releases with the ids of the cloud resources their values name (a new copy):
    the RAM role of the ServiceAccount the chart creates, and the proxies' NLB zone mappings, or the
    NLB Pulumi created when `lb_id` is set (cross-region-ha: its DNS name is known to the stack, CCM
    adds the listeners, the zone mappings are the NLB's own)."""
    out = []
    for spec in template:
        values = copy.deepcopy(spec.values)
        account = values.get("serviceAccount") or {}
        if account.get("create"):
            account["annotations"] = {RRSA_ROLE_ANNOTATION: role_name}
        service = values.get("service") or {}
        if service.get("type") == "LoadBalancer":
            missing = [z for z in plan.compute_zones if z not in lb_vswitch_ids]
            if missing:
                raise ValueError(f"lb_vswitch_ids has no vSwitch for compute zone(s) {', '.join(missing)}")
            annotations = service["annotations"]
            if lb_id:
                annotations[ANN_LB_ID] = lb_id
                annotations[ANN_LB_OVERRIDE_LISTENERS] = "true"
            else:
                annotations[ANN_ZONE_MAPS] = ",".join(f"{z}:{lb_vswitch_ids[z]}" for z in plan.compute_zones)
        out.append(dataclasses.replace(spec, values=values))
    return out


def releases(plan: TopologyPlan, ctx: ReleaseContext) -> list[ReleaseSpec]:
    """The Helm release(s) of this deployment, primary first, every value set."""
    return with_cloud_ids(plan, release_template(plan, ctx), ctx.role_name, ctx.lb_vswitch_ids, ctx.lb_id)


def resource_group_configs(plan: TopologyPlan) -> dict[str, dict]:
    """Declarative resource groups for Option A (2.5), for a post-install Job's update_resource_groups.

    Milvus never creates node-filtered groups from config; each group takes exactly its zone's
    query nodes (node label AZ=<zone>, from MILVUS_SERVER_LABEL_AZ).
    """
    return {
        rg.name: {
            "requests": {"node_num": rg.query_nodes},
            "limits": {"node_num": rg.query_nodes},
            "node_filter": {"node_labels": {AZ_LABEL_KEY: rg.zone}},
        }
        for rg in plan.resource_groups
    }


__all__ = [
    "CHART_FACTS",
    "DEFAULT_STORAGE_CLASS",
    "ReleaseContext",
    "ReleaseSpec",
    "etcd_member_endpoints",
    "node_failure_tolerations",
    "release_template",
    "releases",
    "resource_group_configs",
    "with_cloud_ids",
]
