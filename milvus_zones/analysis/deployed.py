"""What a recorded resource graph deploys, zone by zone: read from the resources, not from the plan.

Node pools' zones come from the vSwitches they list, pods' zones from the pools their nodeSelector,
tolerations and spread constraints allow, Milvus settings from the Helm release values (and the
user.yaml inside them). A hand-written or hand-edited stack is read the same way as a generated one.
Pure functions over `offline.Graph`; nothing here imports the planner.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from milvus_zones.engine.offline import Graph, Resource

SWITCH = "alicloud:vpc/switch:Switch"
NODE_POOL = "alicloud:cs/nodePool:NodePool"
BUCKET = "alicloud:oss/bucket:Bucket"
RELEASE = "kubernetes:helm.sh/v3:Release"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
MILVUS_INSTANCE = "alicloud:index/milvusInstance:MilvusInstance"
ZONE_KEYS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
MODE_KEY = "milvus-zones/mode"
FAILOVER_LABEL = "milvus-zones/failover"
RG_SELECTORS = "milvus-zones/resource-group-node-selectors"  # postrender.ANN_RG_SELECTORS
# Milvus chart components (values key), and the chart's default replica count for each.
COMPONENTS = ("proxy", "mixCoordinator", "dataNode", "queryNode", "streamingNode", "indexNode")


def _int(value: Any, default: int | None = None) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return default


def _truthy(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "on", "1")
    return bool(value)


def dig(value: Any, *path: str, default: Any = None) -> Any:
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return default
        value = value[key]
    return default if value is None else value


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(out.get(k), dict) and isinstance(v, dict) else v
    return out


# ---- node pools ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pool:
    name: str
    zones: tuple[str, ...]  # vSwitch order: with PRIORITY the first zone is where nodes are
    size: int  # nodes in normal operation
    max_size: int  # autoscaler upper bound (= size without autoscaling)
    instance_types: tuple[str, ...]
    labels: dict[str, str]
    taints: tuple[dict, ...]
    multi_az_policy: str

    @property
    def autoscaled(self) -> bool:
        return self.max_size > self.size

    def nodes_by_zone(self) -> dict[str, int]:
        """Where the pool's nodes are in normal operation."""
        if not self.zones or self.size <= 0:
            return {}
        if len(self.zones) == 1 or self.multi_az_policy.upper() != "BALANCE":
            return {self.zones[0]: self.size}  # PRIORITY (and unset): the first zone first
        n = len(self.zones)
        return {z: self.size // n + (1 if i < self.size % n else 0) for i, z in enumerate(self.zones)}


def _pools(graph: Graph) -> list[Pool]:
    switch_zone = {s.id: s.inputs.get("zoneId") for s in graph.of_type(SWITCH)}
    switch_zone_by_urn = {s.urn: s.inputs.get("zoneId") for s in graph.of_type(SWITCH)}
    pools = []
    for r in graph.of_type(NODE_POOL):
        p = r.inputs
        ids = p.get("vswitchIds") or []
        zones = [switch_zone.get(i) for i in ids]
        if any(z is None for z in zones):  # ids unknown offline: fall back to the dependencies, in order
            zones = [switch_zone_by_urn.get(u) for u in r.property_dependencies.get("vswitchIds", [])]
        scaling = p.get("scalingConfig") or {}
        size = _int(p.get("desiredSize"))
        autoscale = _truthy(scaling.get("enable"))
        if size is None:
            size = _int(scaling.get("minSize"), 0) if autoscale else 0
        max_size = max(size, _int(scaling.get("maxSize"), size)) if autoscale else size
        labels = p.get("labels") or []
        pools.append(Pool(
            name=str(p.get("nodePoolName") or r.name),
            zones=tuple(z for z in zones if z),
            size=size,
            max_size=max_size,
            instance_types=tuple(p.get("instanceTypes") or ()),
            labels={str(l.get("key")): str(l.get("value")) for l in labels if isinstance(l, Mapping)}
            if isinstance(labels, list) else dict(labels),
            taints=tuple(t for t in p.get("taints") or [] if isinstance(t, Mapping)),
            multi_az_policy=str(p.get("multiAzPolicy") or ""),
        ))
    return pools


# ---- where pods can run -------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    node_selector: dict[str, str]
    tolerations: tuple[dict, ...]
    spread: tuple[dict, ...]  # topologySpreadConstraints
    affinity: dict

    @staticmethod
    def of(block: Mapping | None, fallback: Mapping | None = None) -> Placement:
        def pick(key: str, empty: Any) -> Any:
            own = dig(block or {}, key)
            return own if own else (dig(fallback or {}, key) or empty)

        return Placement(dict(pick("nodeSelector", {})), tuple(pick("tolerations", [])),
                         tuple(pick("topologySpreadConstraints", [])), dict(pick("affinity", {})))

    def tolerates(self, taint: Mapping) -> bool:
        effect = taint.get("effect") or "NoSchedule"
        if effect == "PreferNoSchedule":
            return True
        for t in self.tolerations:
            if t.get("effect") and t.get("effect") != effect:
                continue
            if t.get("operator") == "Exists" and (not t.get("key") or t.get("key") == taint.get("key")):
                return True
            if t.get("key") == taint.get("key") and str(t.get("value") or "") == str(taint.get("value") or ""):
                return True
        return False

    def pools(self, pools: list[Pool]) -> list[Pool]:
        return [p for p in pools
                if all(p.labels.get(k) == v for k, v in self.node_selector.items())
                and all(self.tolerates(t) for t in p.taints)]

    @property
    def hard_zone_spread(self) -> bool:
        for c in self.spread:
            if (c.get("topologyKey") in ZONE_KEYS and c.get("whenUnsatisfiable") == "DoNotSchedule"
                    and _int(c.get("maxSkew")) == 1 and c.get("labelSelector")):
                return True
        for term in dig(self.affinity, "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution",
                        default=[]) or []:
            if isinstance(term, Mapping) and term.get("topologyKey") in ZONE_KEYS:
                return True
        return False

    def toleration_seconds(self, taint_key: str) -> int | None:
        """tolerationSeconds for a NoExecute node-failure taint; None when none is set (Kubernetes adds 300)."""
        found = [t for t in self.tolerations if t.get("effect") in (None, "", "NoExecute")
                 and (t.get("key") == taint_key or (t.get("operator") == "Exists" and not t.get("key")))]
        seconds = [_int(t.get("tolerationSeconds")) for t in found]
        if not found:
            return None
        if any(s is None for s in seconds):
            return -1  # tolerated forever: never evicted
        return min(s for s in seconds if s is not None)


@dataclass(frozen=True)
class Workload:
    """Replicas of one pod template and the zones they can occupy in normal operation."""

    name: str
    replicas: int
    placement: Placement
    zones: tuple[str, ...]  # zones of the matching pools' nodes (normal operation)
    relaunch_zones: tuple[str, ...]  # every zone a matching pool can create nodes in
    pools: tuple[str, ...]
    active_standby: bool = False

    def worst_in(self, zone: str) -> int:
        """Replicas that may be in `zone`, in the worst placement the constraints allow."""
        if zone not in self.zones or self.replicas <= 0:
            return 0
        if len(self.zones) == 1:
            return self.replicas
        if self.placement.hard_zone_spread:
            return -(-self.replicas // len(self.zones))  # maxSkew 1: at most ceil(n / zones) per zone
        return self.replicas

    def survivors(self, zone: str) -> int:
        return self.replicas - self.worst_in(zone)


def workload(name: str, replicas: int, placement: Placement, pools: list[Pool], active_standby: bool = False
             ) -> Workload:
    matching = placement.pools(pools)
    zones = sorted({z for p in matching for z in p.nodes_by_zone()})
    relaunch = sorted({z for p in matching for z in p.zones if p.autoscaled or p.nodes_by_zone().get(z)})
    return Workload(name, replicas, placement, tuple(zones), tuple(relaunch), tuple(p.name for p in matching),
                    active_standby)


# ---- Milvus releases ----------------------------------------------------------------------------


@dataclass
class Release:
    name: str
    chart_version: tuple[int, int, int] | None
    values: dict
    postrender: bool
    user: dict = field(default_factory=dict)  # extraConfigFiles merged (Milvus config overrides)

    @property
    def milvus_minor(self) -> str:
        tag = dig(self.values, "image", "all", "tag")
        m = re.match(r"v?(\d+)\.(\d+)", str(tag or ""))
        if m:
            return f"{m.group(1)}.{m.group(2)}"
        cv = self.chart_version
        if cv is None or cv[0] >= 5:
            return "2.6"
        return "2.4" if cv[:2] == (4, 2) and cv[2] <= 25 else "2.5"

    def config(self, dotted: str) -> Any:
        return dig(self.user, *dotted.split("."))

    @property
    def groups(self) -> list[str]:
        g = self.values.get("replicaResourceGroups") or []
        return [str(x) for x in g] if isinstance(g, list) else []

    def group_selectors(self) -> dict[str, dict[str, str]]:
        """Per-group node selectors the post-renderer adds; empty when none runs (groups share one)."""
        raw = dig(self.values, "annotations", RG_SELECTORS)
        if not raw or not self.postrender:
            return {}
        try:
            data = json.loads(raw)
        except (TypeError, ValueError):
            return {}
        return {str(k): dict(v) for k, v in data.items() if isinstance(v, Mapping)}

    @property
    def etcd_enabled(self) -> bool:
        return _truthy(dig(self.values, "etcd", "enabled"), True) and not _truthy(
            dig(self.values, "externalEtcd", "enabled"))

    def message_service(self) -> str:
        v = self.chart_version or (5, 0, 0)
        if _truthy(dig(self.values, "kafka", "enabled")) or _truthy(dig(self.values, "externalKafka", "enabled")):
            return "kafka"
        if _truthy(dig(self.values, "pulsarv3", "enabled"), v >= (4, 2, 29)) or _truthy(
                dig(self.values, "pulsar", "enabled"), v < (4, 2, 29)) or _truthy(
                dig(self.values, "externalPulsar", "enabled")):
            return "pulsar"
        return "woodpecker" if v >= (5, 0, 0) else "none"

    def component(self, name: str, pools: list[Pool], *, extra_selector: dict[str, str] | None = None,
                  replicas: int | None = None) -> Workload:
        block = self.values.get(name) or {}
        default = 0 if name == "indexNode" and (self.chart_version or (5,)) >= (5,) else 1
        if name == "indexNode" and not _truthy(block.get("enabled"), default == 1):
            default, block = 0, {**block, "replicas": 0}
        place = Placement.of(block, self.values)
        if extra_selector:
            place = Placement({**place.node_selector, **extra_selector}, place.tolerations, place.spread,
                              place.affinity)
        n = replicas if replicas is not None else _int(block.get("replicas"), default)
        standby = _truthy(dig(block, "activeStandby", "enabled"))
        return workload(name, n or 0, place, pools, standby)


def _chart_version(text: Any) -> tuple[int, int, int] | None:
    m = re.match(r"^v?(\d+)\.(\d+)(?:\.(\d+))?", str(text or ""))
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)) if m else None


def _release(r: Resource) -> Release | None:
    chart = str(r.inputs.get("chart") or "")
    if chart.rstrip("/").rsplit("/", 1)[-1].split("-")[0] != "milvus":
        return None
    values = r.inputs.get("values") or {}
    user: dict = {}
    for text in (values.get("extraConfigFiles") or {}).values():
        try:
            doc = yaml.safe_load(text) if isinstance(text, str) else None
        except yaml.YAMLError:
            doc = None
        if isinstance(doc, dict):
            user = _merge(user, doc)
    return Release(str(r.inputs.get("name") or r.name), _chart_version(r.inputs.get("version")), values,
                   bool(r.inputs.get("postrender")), user)


# ---- the failover controller --------------------------------------------------------------------


@dataclass(frozen=True)
class Controller:
    action: str
    workload: Workload
    env: dict[str, str]

    def seconds(self, key: str, default: float) -> float:
        try:
            return float(self.env.get(key, default))
        except ValueError:
            return default


def _controllers(graph: Graph, pools: list[Pool]) -> list[Controller]:
    out = []
    for r in graph.of_type(DEPLOYMENT):
        labels = dig(r.inputs, "metadata", "labels", default={}) or {}
        action = labels.get(FAILOVER_LABEL)
        if not action:
            continue
        spec = r.inputs.get("spec") or {}
        pod = dig(spec, "template", "spec", default={}) or {}
        env = {e.get("name"): str(e.get("value")) for c in pod.get("containers") or [] for e in c.get("env") or []
               if isinstance(e, Mapping) and "value" in e}
        place = Placement.of(pod)
        out.append(Controller(action, workload("failover-controller", _int(spec.get("replicas"), 1) or 0,
                                               place, pools), env))
    return out


# ---- the deployment -----------------------------------------------------------------------------


@dataclass
class Deployed:
    stack: str
    mode: str | None  # the declared milvus-zones/mode, when every declaration agrees
    pools: list[Pool]
    buckets: dict[str, str]  # bucket name -> redundancy type
    releases: list[Release]
    controllers: list[Controller]

    @property
    def zones(self) -> list[str]:
        return sorted({z for p in self.pools for z in p.zones})

    def nodes_by_zone(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for p in self.pools:
            for z, n in p.nodes_by_zone().items():
                out[z] = out.get(z, 0) + n
        return out

    @property
    def primary(self) -> Release | None:
        """The release that runs etcd (the first one otherwise)."""
        return next((r for r in self.releases if r.etcd_enabled), self.releases[0] if self.releases else None)

    def controller(self, action: str) -> Controller | None:
        return next((c for c in self.controllers if c.action == action), None)


def region_of_zone(zone: str) -> str:
    """cn-hangzhou-h -> cn-hangzhou; ap-southeast-1b -> ap-southeast-1."""
    m = re.match(r"^(.*-\d+)[a-z]+$", zone)
    return m.group(1) if m else zone.rsplit("-", 1)[0]


def managed_instances(graph: Graph) -> list[Resource]:
    """The managed service's instances (alicloud.MilvusInstance): recovery is the service's own."""
    return graph.of_type(MILVUS_INSTANCE)


def read_regions(graph: Graph) -> list[Deployed]:
    """One Deployed per region (cross-region stacks hold two), each with its own pools, bucket and release."""
    whole = read(graph)
    regions = sorted({region_of_zone(z) for z in whole.zones})
    if len(regions) <= 1:
        return [whole]
    # Kubernetes resources belong to the region whose cluster their provider points at: the release's.
    providers = {}
    for r in graph.of_type(RELEASE):
        rel = _release(r)
        region = dig(rel.values, "externalS3", "region") if rel else None
        if region:
            providers[r.provider] = region
    out = []
    for region in regions:
        pools = [p for p in whole.pools if p.zones and region_of_zone(p.zones[0]) == region]
        releases = [rel for r in graph.of_type(RELEASE) if providers.get(r.provider) == region
                    and (rel := _release(r)) is not None]
        buckets = {n: red for n, red in whole.buckets.items()
                   if any(dig(rel.values, "externalS3", "bucketName") == n for rel in releases)}
        deps = [r for r in graph.of_type(DEPLOYMENT) if providers.get(r.provider) == region]
        sub = Graph(graph.project, graph.stack, deps, {}, graph.stack_urn)
        out.append(Deployed(f"{graph.stack} [{region}]", whole.mode, pools, buckets, releases,
                            _controllers(sub, pools)))
    return out


def read(graph: Graph) -> Deployed:
    pools = _pools(graph)
    modes = set()
    for r in graph.resources:
        tags = r.inputs.get("tags")
        if isinstance(tags, Mapping) and MODE_KEY in tags:
            modes.add(str(tags[MODE_KEY]))
    buckets = {str(b.inputs.get("bucket") or b.name): str(b.inputs.get("redundancyType") or "LRS")
               for b in graph.of_type(BUCKET)}
    releases = [rel for r in graph.of_type(RELEASE) if (rel := _release(r)) is not None]
    for rel in releases:
        m = dig(rel.values, "labels", MODE_KEY)
        if m:
            modes.add(str(m))
    return Deployed(graph.stack, modes.pop() if len(modes) == 1 else None, pools, buckets, releases,
                    _controllers(graph, pools))
