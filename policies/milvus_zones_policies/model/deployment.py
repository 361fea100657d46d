"""One model of a deployment, read from its resources: the policy pack's and `milvus-zones failures`'.

Node pools and their zones (from the vSwitches they list), where each workload may run (nodeSelector,
tolerations, required nodeAffinity, zone spreads), the Milvus Helm releases and their merged values
(`valueYamlFiles` under `values`, the user.yaml inside), etcd and the message service, the failover
controllers, and one deployment per cluster (a region's, in cross-region-ha). Pure: it reads
resources through the shape pulumi-policy hands them over (`resource_type`, `props`, `urn`, `name`,
`provider`, `dependencies`, `property_dependencies`); `resources.from_graph` gives a recorded graph
that shape. Links go through property dependencies (a node pool's `vswitchIds` -> the Switch
resources -> `zoneId`), because resource ids are unknown at a real `pulumi preview` while
dependencies are always known.

Nothing here reads the milvus-zones library: a hand-written program with the same cloud resources
is judged the same way. docs/policies.md says how each piece is recognised.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import yaml
from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UnknownValueError

from .external import HINT as EXTERNAL_HINT
from .names import (  # noqa: F401  (re-exported: the policies read the names through this module)
    ANN_RG_SELECTORS,
    ANN_WORKLOAD_PATCHES,
    BUCKET,
    BUCKET_ACL,
    BUCKET_PUBLIC_ACCESS_BLOCK,
    BUCKET_SSE,
    BUCKET_VERSIONING,
    CLUSTER_TYPES,
    CONFIG_MAP,
    CROSS_REGION_HA,
    FAILOVER_LABEL,
    HA_MODES,
    HELM_RELEASE,
    K8S_DEPLOYMENT,
    K8S_SERVICE,
    K8S_STATEFULSET,
    MILVUS_INSTANCE,
    MODE_KEY,
    MODES,
    MULTI_ZONE_BASIC,
    MULTI_ZONE_HA,
    MULTI_ZONE_MODES,
    NODE_POOL,
    PDB_TYPES,
    REGION_MODE_KEY,
    REGION_MODES,
    ROLE_LABEL,
    SINGLE_ZONE,
    UNREACHABLE_TAINT,
    VSWITCH,
    ZONE_KEYS,
)
from .values import as_int, dig, is_list, is_map, labels_of, region_of_zone, truthy

HARD_AFFINITY = "requiredDuringSchedulingIgnoredDuringExecution"
WORKLOAD_PATCHES_ANNOTATION = ANN_WORKLOAD_PATCHES
# Milvus chart components (values keys).
COMPONENTS = ("proxy", "mixCoordinator", "dataNode", "queryNode", "streamingNode", "indexNode")


def _unknown_marker(e: UnknownValueError) -> str:
    return e.unknown_type_sentinel


def plain(value: Any) -> Any:
    """Proxy tree -> dicts and lists; values unknown at preview stay as pulumi-policy's sentinels."""
    if is_map(value):
        out = {}
        for k in list(value.keys()):
            try:
                out[str(k)] = plain(value[k])
            except UnknownValueError as e:
                out[str(k)] = _unknown_marker(e)
        return out
    if is_list(value):
        items = []
        for i in range(len(value)):
            try:
                items.append(plain(value[i]))
            except UnknownValueError as e:
                items.append(_unknown_marker(e))
        return items
    return value


# -- zones -----------------------------------------------------------------------------------------

def vswitch_zones(res: PolicyResource, prop: str) -> tuple[set[str], list[str]]:
    """Zones of the vSwitches a resource lists in `prop`, and what could not be resolved."""
    ordered, problems = vswitch_zone_order(res, prop)
    return set(ordered), problems


def vswitch_zone_order(res: PolicyResource, prop: str) -> tuple[tuple[str, ...], list[str]]:
    """Zones of the vSwitches in `prop`, in their order (with PRIORITY the first zone is where nodes go).

    Dependencies give the Switch resources even when their ids are unknown; a listed id with no
    Switch of this stack behind it (a pre-existing vSwitch) has no zone the policies can see.
    """
    switches = [d for d in res.property_dependencies.get(prop, []) if d.resource_type == VSWITCH]
    zones: list[str] = []
    problems: list[str] = []
    for s in switches:
        zone = s.props.get("zoneId")
        if isinstance(zone, str) and zone:
            if zone not in zones:
                zones.append(zone)
        else:
            problems.append(f"vSwitch {s.name} has no zoneId")
    try:
        listed: Any = res.props.get(prop)
        count = len(listed) if is_list(listed) else 0
    except UnknownValueError:
        count = len(switches)  # the list itself is unknown at preview: trust the dependencies
    if count > len(switches):
        problems.append(
            f"{count - len(switches)} of the {count} vSwitches in {prop} are not Switch resources of this "
            "stack, so their zones cannot be checked; create the vSwitches in the stack, or, for a pre-existing "
            f"one, {EXTERNAL_HINT} (externalResources.vswitches: id -> zoneId)"
        )
    return tuple(zones), problems


# The properties a cluster names its vSwitches in, in the provider's precedence: pulumi-alicloud 4.0.0
# `cs.ManagedKubernetes` takes `vswitch_ids` and the deprecated (since provider 1.241.0) but accepted
# `worker_vswitch_ids` (cs/managed_kubernetes.py); the dedicated `cs.Kubernetes` takes `master_vswitch_ids`.
CLUSTER_VSWITCH_PROPS = ("vswitchIds", "workerVswitchIds", "masterVswitchIds")


def cluster_vswitch_prop(res: PolicyResource) -> str:
    """The property that lists the cluster's vSwitches (`vswitchIds` when none does)."""
    for prop in CLUSTER_VSWITCH_PROPS:
        try:
            listed: Any = res.props.get(prop)
        except UnknownValueError:
            return prop  # set, unknown at preview: its dependencies still name the Switches
        if (is_list(listed) and len(listed) > 0) or res.property_dependencies.get(prop):
            return prop
    return CLUSTER_VSWITCH_PROPS[0]


def cluster_zones(res: PolicyResource) -> tuple[set[str], list[str], str]:
    """Zones of the cluster's vSwitches, what could not be resolved, and the property read."""
    prop = cluster_vswitch_prop(res)
    zones, problems = vswitch_zones(res, prop)
    return zones, problems, prop


# -- node pools ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str


@dataclass
class NodePool:
    res: PolicyResource
    name: str
    labels: dict[str, str]
    taints: tuple[Taint, ...]
    zone_order: tuple[str, ...]  # vSwitch order
    zone_problems: list[str]
    desired: int | None
    min_size: int | None
    max_size: int | None  # autoscaler upper bound; None without autoscaling
    instance_types: tuple[str, ...]
    multi_az_policy: str

    @property
    def zones(self) -> frozenset[str]:
        return frozenset(self.zone_order)

    @property
    def size(self) -> int:
        """Nodes at creation: desiredSize, else the autoscaler's minimum."""
        if self.desired is not None:
            return self.desired
        return self.min_size or 0

    @property
    def autoscaled(self) -> bool:
        return (self.max_size or 0) > self.size

    def nodes_by_zone(self) -> dict[str, int]:
        """Where the pool's nodes are in normal operation: PRIORITY (and unset) fills the first zone,
        BALANCE spreads them evenly."""
        if not self.zone_order or self.size <= 0:
            return {}
        if len(self.zone_order) == 1 or self.multi_az_policy.upper() != "BALANCE":
            return {self.zone_order[0]: self.size}
        n = len(self.zone_order)
        return {z: self.size // n + (1 if i < self.size % n else 0) for i, z in enumerate(self.zone_order)}

    def quorum_zones(self) -> frozenset[str]:
        """Zones this pool surely puts a node in: its zone, or all of them when BALANCE spreads them."""
        if self.size < 1:
            return frozenset()
        if len(self.zones) == 1:
            return self.zones
        if self.multi_az_policy.upper() == "BALANCE" and self.size >= len(self.zones):
            return self.zones
        return frozenset()


def _node_pool(res: PolicyResource) -> NodePool:
    p = res.props
    zones, problems = vswitch_zone_order(res, "vswitchIds")
    taints = []
    for t in dig(p, "taints", default=[]) or []:
        if is_map(t):
            taints.append(Taint(str(dig(t, "key", default="")), str(dig(t, "value", default="")),
                                str(dig(t, "effect", default="NoSchedule"))))
    scaling = dig(p, "scalingConfig", default={})
    autoscale = truthy(dig(scaling, "enable"))
    return NodePool(
        res=res,
        name=str(dig(p, "nodePoolName", default=res.name)),
        labels=labels_of(dig(p, "labels", default=[])),
        taints=tuple(taints),
        zone_order=zones,
        zone_problems=problems,
        desired=as_int(dig(p, "desiredSize")),
        min_size=as_int(dig(scaling, "minSize")) if autoscale else None,
        max_size=as_int(dig(scaling, "maxSize")) if autoscale else None,
        instance_types=tuple(str(t) for t in dig(p, "instanceTypes", default=[]) or []),
        multi_az_policy=str(dig(p, "multiAzPolicy", default="")),
    )


# -- where pods may run --------------------------------------------------------------------------

@dataclass(frozen=True)
class Placement:
    """A pod template's scheduling constraints: which node pools (and zones) can host it, how it spreads."""

    node_selector: dict[str, str]
    tolerations: tuple[dict, ...]
    node_terms: tuple[tuple[dict, ...], ...]  # required nodeAffinity: OR of terms, AND of expressions
    spread: tuple[dict, ...] = ()  # topologySpreadConstraints
    anti_affinity: tuple[dict, ...] = ()  # required podAntiAffinity terms

    @staticmethod
    def from_values(block: Any, fallback: Any = None) -> Placement:
        """A chart component's (or pod spec's) nodeSelector, tolerations, affinity and spread; each falls
        back to the chart-global one when the component's is empty."""

        def pick(key: str) -> Any:
            own = dig(block, key)
            if own:
                return own
            return dig(fallback, key) if fallback is not None else None

        selector = pick("nodeSelector") or {}
        tolerations = pick("tolerations") or []
        affinity = pick("affinity") or {}
        terms = dig(affinity, "nodeAffinity", HARD_AFFINITY, "nodeSelectorTerms", default=[]) or []
        anti = dig(affinity, "podAntiAffinity", HARD_AFFINITY, default=[]) or []
        spread = pick("topologySpreadConstraints") or []
        return Placement(
            {str(k): str(v) for k, v in selector.items()} if is_map(selector) else {},
            tuple(plain(t) for t in tolerations if is_map(t)),
            tuple(tuple(plain(e) for e in dig(t, "matchExpressions", default=[]) if is_map(e))
                  for t in terms if is_map(t)),
            tuple(plain(c) for c in spread if is_map(c)) if is_list(spread) else (),
            tuple(plain(t) for t in anti if is_map(t)) if is_list(anti) else (),
        )

    def with_selector(self, extra: Mapping[str, str] | None) -> Placement:
        return replace(self, node_selector={**self.node_selector, **dict(extra)}) if extra else self

    def tolerates(self, taint: Taint) -> bool:
        if taint.effect not in ("NoSchedule", "NoExecute"):
            return True  # PreferNoSchedule only discourages
        for t in self.tolerations:
            effect = t.get("effect") or ""
            if effect and effect != taint.effect:
                continue
            key = t.get("key") or ""
            if (t.get("operator") or "Equal") == "Exists":
                if not key or key == taint.key:
                    return True
            elif key == taint.key and str(t.get("value") or "") == taint.value:
                return True
        return False

    def zones_in(self, pool: NodePool, zones: Iterable[str]) -> frozenset[str]:
        """The subset of `zones` of `pool` where this pod may be scheduled (empty: not on this pool)."""
        if any(pool.labels.get(k) != v for k, v in self.node_selector.items()):
            return frozenset()
        if not all(self.tolerates(t) for t in pool.taints):
            return frozenset()
        zones = frozenset(zones)
        if not self.node_terms:
            return zones
        allowed: set[str] = set()
        for term in self.node_terms:
            for zone in zones:
                labels = {**pool.labels, **{k: zone for k in ZONE_KEYS}}
                if all(_match_expression(e, labels) for e in term):
                    allowed.add(zone)
        return frozenset(allowed)

    def pools(self, pools: Iterable[NodePool]) -> list[NodePool]:
        return [p for p in pools if self.zones_in(p, p.zones or {"?"})]

    @property
    def hard_zone_spread(self) -> bool:
        """One-per-zone placement the scheduler never breaks (see `hard_zone_spread`)."""
        block = {"topologySpreadConstraints": list(self.spread),
                 "affinity": {"podAntiAffinity": {HARD_AFFINITY: list(self.anti_affinity)}}}
        return hard_zone_spread(block)[0]

    def toleration_seconds(self, taint_key: str = UNREACHABLE_TAINT) -> float | None:
        """How long the pod stays on a node with this NoExecute taint: its toleration's seconds,
        inf when tolerated forever, None when no toleration matches (Kubernetes then adds 300 s)."""
        found = [t for t in self.tolerations if (t.get("effect") or "NoExecute") == "NoExecute"
                 and (t.get("key") == taint_key or (t.get("operator") == "Exists" and not t.get("key")))]
        if not found:
            return None
        seconds = [as_int(t.get("tolerationSeconds")) for t in found]
        return float("inf") if any(s is None for s in seconds) else float(min(s for s in seconds if s is not None))


def _match_expression(expr: dict, labels: dict[str, str]) -> bool:
    key: Any = expr.get("key")
    op = expr.get("operator")
    values = [str(v) for v in expr.get("values") or []]
    if op == "In":
        return labels.get(key) in values
    if op == "NotIn":
        return labels.get(key) not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    return False


def hard_zone_spread(block: Any) -> tuple[bool, str]:
    """Does a pod template's values force one-per-zone placement (a constraint the scheduler never breaks)?"""
    for c in dig(block, "topologySpreadConstraints", default=[]) or []:
        if not is_map(c) or c.get("topologyKey") not in ZONE_KEYS:
            continue
        if c.get("whenUnsatisfiable") != "DoNotSchedule":
            return False, "its zone topologySpreadConstraint is soft (whenUnsatisfiable is not DoNotSchedule)"
        if as_int(c.get("maxSkew")) != 1:
            return False, "its zone topologySpreadConstraint allows a skew above 1 (set maxSkew: 1)"
        if not c.get("labelSelector"):
            return False, "its zone topologySpreadConstraint has no labelSelector, so it matches no pods"
        return True, "topologySpreadConstraints on the zone key with DoNotSchedule"
    for term in dig(block, "affinity", "podAntiAffinity", HARD_AFFINITY, default=[]) or []:
        if is_map(term) and term.get("topologyKey") in ZONE_KEYS and term.get("labelSelector"):
            return True, "required podAntiAffinity on the zone key"
    return False, ("no hard zone rule: add topologySpreadConstraints with topologyKey "
                   "topology.kubernetes.io/zone, maxSkew 1, whenUnsatisfiable DoNotSchedule and a labelSelector "
                   "(or a required podAntiAffinity on that key)")


@dataclass(frozen=True)
class Workload:
    """Replicas of one pod template and the zones they can occupy."""

    name: str
    replicas: int
    placement: Placement
    zones: tuple[str, ...]  # zones where a pool it may run on has nodes in normal operation
    relaunch_zones: tuple[str, ...]  # zones where such a pool has or can add nodes
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

    def renamed(self, name: str) -> Workload:
        return replace(self, name=name)


def workload(name: str, replicas: int, placement: Placement, pools: Iterable[NodePool],
             active_standby: bool = False) -> Workload:
    """Where `replicas` pods with `placement` can be, over `pools`."""
    zones: set[str] = set()
    relaunch: set[str] = set()
    matching = []
    for p in pools:
        normal = placement.zones_in(p, p.nodes_by_zone())
        again = placement.zones_in(p, [z for z in p.zone_order if p.autoscaled or p.nodes_by_zone().get(z)])
        if placement.zones_in(p, p.zones or {"?"}):
            matching.append(p.name)
        zones |= normal
        relaunch |= again
    return Workload(name, replicas, placement, tuple(sorted(zones)), tuple(sorted(relaunch)), tuple(matching),
                    active_standby)


# -- Milvus Helm releases ----------------------------------------------------------------------------

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


def chart_is_milvus(chart: Any) -> bool:
    if not isinstance(chart, str):
        return False
    base = chart.rstrip("/").rsplit("/", 1)[-1]
    return base == "milvus" or bool(re.fullmatch(r"milvus-\d+\.\d+\.\d+\.tgz", base))


def parse_version(text: Any) -> tuple[int, int, int] | None:
    if not isinstance(text, str):
        return None
    m = _VERSION.match(text.strip())
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(out.get(k), dict) and isinstance(v, dict) else v
    return out


def _yaml_text(asset: Any) -> str | None:
    text = getattr(asset, "text", None)
    if isinstance(text, str):
        return text
    path = getattr(asset, "path", None)
    if isinstance(path, str):
        try:
            with open(path, encoding="utf-8") as f:
                return f.read()
        except OSError:
            return None
    return None


# Milvus each chart version ships (image.all.tag unset), as far as verified (design brief section 3).
CHART_MILVUS = {(5, 0, 19): (2, 6, 15), (4, 2, 58): (2, 5, 16), (4, 2, 25): (2, 4, 17)}
# Streaming-node resource groups and the WAL's fallback between them arrived in Milvus 2.6.16 (#48632, #49552).
WAL_GROUPS_SINCE = (2, 6, 16)


@dataclass
class MilvusRelease:
    res: PolicyResource
    name: str
    chart_version: tuple[int, int, int] | None
    values: dict  # plain values, valueYamlFiles merged under `values` (values win, as Helm does)
    user: dict = field(default_factory=dict)  # extraConfigFiles merged: the Milvus config overrides

    # -- version --------------------------------------------------------------------------------
    def milvus_minor(self) -> tuple[tuple[int, int] | None, str]:
        """(major, minor) of the Milvus that runs, and where it was read."""
        tag = dig(self.values, "image", "all", "tag")
        parsed = parse_version(tag)
        if parsed:
            return parsed[:2], f"image.all.tag {tag}"
        cv = self.chart_version
        if cv is None:
            return None, "chart version not pinned (the latest chart, Milvus 2.6 or later)"
        text = "chart milvus {}.{}.{}".format(*cv)
        if cv[0] >= 5:
            return (2, 6), text
        if cv[:2] == (4, 2):
            # 4.2.25 ships the last 2.4 (2.4.17); later 4.2.x ship 2.5 (4.2.58 -> 2.5.16).
            return ((2, 4) if cv[2] <= 25 else (2, 5)), text
        return (2, 3), text  # charts before 4.2 ship Milvus 2.3 or older

    def milvus_version(self) -> tuple[tuple[int, int, int] | None, str]:
        """The full Milvus version when it is known (image tag, or a chart whose image was read)."""
        tag = dig(self.values, "image", "all", "tag")
        parsed = parse_version(tag)
        if parsed:
            return parsed, f"image.all.tag {tag}"
        if tag not in (None, ""):  # a set tag replaces the chart's image, even one that names no version
            return None, f"image.all.tag {tag} names no Milvus version"
        cv = self.chart_version
        if cv in CHART_MILVUS:
            return CHART_MILVUS[cv], "chart milvus {}.{}.{}'s default image (no image.all.tag)".format(*cv)
        return None, "not known: image.all.tag unset" + ("" if cv else " and the chart version not pinned")

    def wal_follows_groups(self) -> bool:
        """Does the WAL stay on streaming.primaryResourceGroup and fall back by itself (Milvus 2.6.16+)?"""
        version, _ = self.milvus_version()
        return version is not None and version >= WAL_GROUPS_SINCE

    # -- values as the chart reads them ------------------------------------------------------------
    def get(self, *path: str, default: Any = None) -> Any:
        return dig(self.values, *path, default=default)

    def user_yaml(self) -> dict:
        """extraConfigFiles user.yaml (merged into milvus.yaml by the chart), parsed."""
        return self.user

    def config(self, dotted: str) -> Any:
        """A Milvus setting as user.yaml sets it (None when left to Milvus' default)."""
        return dig(self.user, *dotted.split("."))

    def labels(self) -> dict:
        labels = self.get("labels", default={})
        return labels if is_map(labels) else {}

    def post_render_patch(self, **match: str) -> dict | None:
        """The milvus-zones post-renderer's placement patch for the workload with these labels.

        Only counts when the release runs a post-renderer (`postrender`): the patches, written into
        the global `annotations` value as JSON, are what it applies to the rendered StatefulSets.
        """
        if not self.postrender:
            return None
        raw = dig(self.get("annotations", default={}), ANN_WORKLOAD_PATCHES)
        try:
            patches = json.loads(raw) if isinstance(raw, str) else []
        except json.JSONDecodeError:
            return None
        for patch in patches if isinstance(patches, list) else []:
            labels: Any = patch.get("matchLabels") if isinstance(patch, dict) else None
            if is_map(labels) and all(labels.get(k) == v for k, v in match.items()):
                return patch
        return None

    @property
    def postrender(self) -> bool:
        try:
            return bool(self.res.props.get("postrender"))
        except UnknownValueError:
            return True  # set, but unknown at preview

    @property
    def groups(self) -> list[str]:
        """replicaResourceGroups (chart >= 5.0.17): one query/streaming node Deployment per group."""
        g = self.get("replicaResourceGroups", default=[])
        return [str(x) for x in g] if is_list(g) else []

    def group_selectors(self) -> dict[str, dict[str, str]]:
        """Per-group node selectors the post-renderer adds; empty when none runs (groups share one)."""
        raw = dig(self.get("annotations", default={}), ANN_RG_SELECTORS)
        if not raw or not self.postrender:
            return {}
        try:
            data = json.loads(raw)
        except (TypeError, ValueError):
            return {}
        return {str(k): dict(v) for k, v in data.items() if isinstance(v, Mapping)} if isinstance(data, dict) else {}

    @property
    def cluster_mode(self) -> bool:
        return truthy(self.get("cluster", "enabled"), default=True)

    def query_placement(self) -> Placement:
        return Placement.from_values(self.get("queryNode", default={}), self.values)

    def component(self, name: str, pools: Iterable[NodePool], *, extra_selector: Mapping[str, str] | None = None,
                  replicas: int | None = None) -> Workload:
        """A Milvus component's pods (values key `name`) over `pools`."""
        block = self.get(name, default={}) or {}
        default = 1
        if name == "indexNode" and not truthy(dig(block, "enabled"), default=(self.chart_version or (5,)) < (5,)):
            default, block = 0, {**block, "replicas": 0}  # 5.x: index nodes are off by default
        place = Placement.from_values(block, self.values).with_selector(extra_selector)
        n = replicas if replicas is not None else as_int(dig(block, "replicas"))
        return workload(name, default if n is None else n, place, pools,
                        truthy(dig(block, "activeStandby", "enabled")))

    def group_components(self, name: str, pools: Iterable[NodePool]) -> dict[str, Workload]:
        """Per resource group: its `queryNode` or `streamingNode` pods, pinned by the post-renderer (or not)."""
        selectors = self.group_selectors()
        return {g: self.component(name, pools, extra_selector=selectors.get(g)).renamed(f"{name}[{g}]")
                for g in self.groups}

    @property
    def etcd_enabled(self) -> bool:
        return truthy(self.get("etcd", "enabled"), default=True) and not truthy(self.get("externalEtcd", "enabled"))

    @property
    def etcd_replicas(self) -> int:
        # The chart's default is 3 members (bitnami's own default of 1 is overridden by milvus values).
        return as_int(self.get("etcd", "replicaCount")) or 3

    def message_services(self) -> list[str]:
        """Message services this release deploys or uses, in the chart's own precedence."""
        v = self.chart_version or (5, 0, 0)
        mq_type = str(dig(self.user, "mq", "type", default="")).lower()
        found = []
        if truthy(self.get("externalKafka", "enabled")):
            found.append("externalKafka")
        if truthy(self.get("kafka", "enabled")):
            found.append("kafka")
        if truthy(self.get("externalPulsar", "enabled")):
            found.append("externalPulsar")
        if v >= (4, 2, 21) and truthy(self.get("pulsarv3", "enabled"), default=v >= (4, 2, 29)):
            found.append("pulsarv3")
        if truthy(self.get("pulsar", "enabled"), default=v < (4, 2, 29)):
            found.append("pulsar")
        woodpecker_service = truthy(self.get("woodpecker", "enabled"))
        streaming = truthy(self.get("streaming", "enabled"), default=v >= (5, 0, 0))
        if mq_type == "woodpecker" or woodpecker_service or (not found and streaming and v >= (5, 0, 0)):
            found.append("woodpecker")
        if not found:
            found.append("rocksmq" if not self.cluster_mode else "none")
        return found

    def message_service(self) -> str:
        """The one the WAL is on: the first in the chart's precedence."""
        return self.message_services()[0]

    def woodpecker_storage(self) -> str:
        """minio (the object storage Milvus uses), local or service."""
        from_user = dig(self.user, "woodpecker", "storage", "type")
        return str(from_user or self.get("streaming", "woodpecker", "storage", "type", default="minio"))

    @property
    def uses_external_object_storage(self) -> bool:
        return truthy(self.get("externalS3", "enabled"))

    @property
    def bucket_name(self) -> Any:
        return self.get("externalS3", "bucketName")


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=256)
def _parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)  # a safe loader: libyaml's when present


def load_yaml(text: str) -> Any:
    """YAML text -> data; parsed once per text (every stack policy rebuilds the model), a fresh copy each call."""
    return copy.deepcopy(_parse_yaml(text))


def _user_yaml(values: Mapping) -> dict:
    files = dig(values, "extraConfigFiles", default={})
    merged: dict = {}
    if is_map(files):
        for text in files.values():
            if isinstance(text, str):
                try:
                    doc = load_yaml(text)
                except yaml.YAMLError:
                    continue
                if isinstance(doc, dict):
                    merged = _deep_merge(merged, doc)
    return merged


def _milvus_release(res: PolicyResource) -> MilvusRelease | None:
    try:
        chart = res.props.get("chart")
    except UnknownValueError:
        return None
    if not chart_is_milvus(chart):
        return None
    values = release_values(res)
    name = res.props.get("name") or res.name
    return MilvusRelease(res, str(name), parse_version(res.props.get("version")), values, _user_yaml(values))


def release_values(res: PolicyResource) -> dict:
    """A Helm release's values as Helm merges them: `valueYamlFiles` in order, then `values` on top."""
    values: dict = {}
    try:
        files = res.props.get("valueYamlFiles") or []
    except UnknownValueError:
        files = []
    for asset in files:
        text = _yaml_text(asset)
        if text:
            try:
                doc = load_yaml(text)
            except yaml.YAMLError:
                doc = None
            if isinstance(doc, dict):
                values = _deep_merge(values, doc)
    own = plain(res.props.get("values") or {})
    if isinstance(own, dict):
        values = _deep_merge(values, own)
    return values


# -- etcd and the message service run on their own ----------------------------------------------------

# Defaults of the bitnami charts a stack may install on their own, as read in the versions the Milvus chart
# 5.0.19 bundles (charts/etcd-8.12.0, charts/kafka-15.5.1 values.yaml): a release that leaves a key unset
# gets these (other versions of those charts may differ: set the keys).
BITNAMI_DEFAULTS: dict[str, dict[str, Any]] = {
    "etcd": {"replicaCount": 1, "persistence": True, "pdb": True},
    "kafka": {"replicaCount": 1, "persistence": True, "pdb": False},
}


@dataclass
class Quorum:
    """A quorum workload (etcd, Kafka) and what the zone and data-safety rules read of it: the chart's
    own subchart, or one the stack runs on its own that Milvus' external endpoints name."""

    res: PolicyResource
    what: str  # for messages: "etcd of Milvus release x", "StatefulSet etcd (milvus/etcd)", ...
    replicas: int
    block: dict  # nodeSelector, tolerations, affinity, topologySpreadConstraints as a pod template's
    persistent: bool
    pdb: bool  # a PodDisruptionBudget covers its pods
    source: str  # "chart" (the Milvus release's own), "release" or "statefulset"

    def placement(self) -> Placement:
        return Placement.from_values(self.block)


def _host_candidates(endpoint: str, namespace: str | None) -> list[tuple[str, str | None]]:
    """(Service name, namespace) pairs an endpoint may name, as Kubernetes DNS resolves them:
    `svc`, `svc.ns`, `svc.ns.svc[.cluster.local]` and a StatefulSet pod's `pod.svc.ns.svc[...]`
    (a pod's name under its headless Service). An address or an outside name gives none."""
    host = endpoint.strip().split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    labels = [x for x in host.lower().split(".") if x]
    if not labels or all(x.isdigit() for x in labels) or ":" in host:
        return []
    if "svc" in labels:
        before = labels[:labels.index("svc")]
        if len(before) == 2:
            return [(before[0], before[1])]
        if len(before) == 3:
            return [(before[1], before[2])]
        return []
    if len(labels) == 1:
        return [(labels[0], namespace)]
    if len(labels) == 2:  # `svc.ns`, or a pod of a headless Service in the same namespace (search path)
        return [(labels[0], labels[1]), (labels[1], namespace)]
    return []


def _selects(selector: Any, labels: Mapping[str, str]) -> bool:
    return is_map(selector) and bool(selector) and all(labels.get(str(k)) == str(v) for k, v in selector.items())


def _bitnami_fullname(release: str, chart: str, values: Mapping) -> str:
    """bitnami common.names.fullname (apache pulsar's pulsar.fullname is the same rule): fullnameOverride, else
    the release name when it contains the chart's name (or nameOverride), else `<release>-<name>`."""
    if dig(values, "fullnameOverride"):
        return str(dig(values, "fullnameOverride"))[:63].rstrip("-")
    name = str(dig(values, "nameOverride") or chart)
    return (release if name in release else f"{release}-{name}")[:63].rstrip("-")


def chart_base(chart: Any) -> str:
    return chart.rstrip("/").rsplit("/", 1)[-1].split(":", 1)[0] if isinstance(chart, str) else ""


def _pdb_covers(pdbs: Iterable[PolicyResource], labels: Mapping[str, str], namespace: str | None) -> bool:
    for pdb in pdbs:
        selector = dig(pdb.props, "spec", "selector", "matchLabels", default={})
        ns = dig(pdb.props, "metadata", "namespace")
        if _selects(selector, labels) and (ns is None or namespace is None or ns == namespace):
            return True
    return False


def _statefulset_quorum(sts: PolicyResource, pdbs: list[PolicyResource]) -> Quorum:
    spec = dig(sts.props, "spec", default={}) or {}
    pod = plain(dig(spec, "template", "spec", default={}) or {})
    labels = labels_of(dig(spec, "template", "metadata", "labels", default={}))
    ns = dig(sts.props, "metadata", "namespace")
    name = dig(sts.props, "metadata", "name", default=sts.name)
    replicas = as_int(dig(spec, "replicas"))
    return Quorum(sts, f"StatefulSet {sts.name} ({ns or 'default'}/{name})", 1 if replicas is None else replicas,
                  pod if isinstance(pod, dict) else {}, bool(dig(spec, "volumeClaimTemplates")),
                  _pdb_covers(pdbs, labels, ns), "statefulset")


def _release_quorum(rel: PolicyResource, chart: str, pdbs: list[PolicyResource]) -> Quorum:
    values = release_values(rel)
    defaults = BITNAMI_DEFAULTS[chart]
    name = str(rel.props.get("name") or rel.name)
    replicas = as_int(dig(values, "replicaCount"))
    labels = {"app.kubernetes.io/name": str(dig(values, "nameOverride") or chart), "app.kubernetes.io/instance": name}
    return Quorum(rel, f"Helm release {rel.name} (chart {chart})",
                  defaults["replicaCount"] if replicas is None else replicas, values,
                  truthy(dig(values, "persistence", "enabled"), default=defaults["persistence"]),
                  truthy(dig(values, "pdb", "create"), default=defaults["pdb"])
                  or _pdb_covers(pdbs, labels, rel.props.get("namespace")), "release")


# -- Pulsar: the Milvus chart's subchart, or the apache chart / StatefulSets the stack runs on its own ----------

PULSAR_PARTS = ("zookeeper", "bookkeeper", "broker")  # the quorum members the zone rules judge
# The apache chart's `component` label and Service suffix of each part (`<part>.component` in pulsar 2.7.8 and
# 3.3.0 values.yaml); proxy too: Milvus' pulsar address names the proxy Service when one runs.
PULSAR_COMPONENTS = {"zookeeper": "zookeeper", "bookkeeper": "bookie", "broker": "broker", "proxy": "proxy"}
PULSAR_CHARTS = frozenset({"pulsar"})  # apache/pulsar-helm-chart's chart name


@dataclass(frozen=True)
class PulsarDefaults:
    """What a Pulsar release leaves unset gets: anti-affinity switches, replicas, anti-affinity types, whether
    `<part>.affinity.anti_affinity_topology_key` and `<part>.topologySpreadConstraints` exist, and the broker's
    managedLedgerDefault quorums."""

    global_anti: bool
    part_anti: bool
    replicas: Mapping[str, int]
    types: Mapping[str, str]
    topology_key: bool
    write_quorum: int
    ack_quorum: int
    spread_key: bool = False


_PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
_APACHE_TYPES = {"zookeeper": HARD_AFFINITY, "bookkeeper": HARD_AFFINITY, "broker": _PREFERRED}
# Read in milvus-helm 5.0.19 / 4.2.58 values.yaml (`pulsarv3`: per-part anti_affinity false, replicas 3/3/2,
# broker configData quorums 2) over its subchart pulsar 3.3.0 (global anti_affinity true, types), 4.2.25's `pulsar`
# block (global anti_affinity false, replicas 3/3/1) over pulsar 2.7.8 (no topology key: always the hostname), and
# the apache chart 3.3.0 on its own (values.yaml: replicas 3/4/3, quorums 1; see `apache_pulsar_defaults`).
PULSAR_DEFAULTS = {
    "pulsarv3": PulsarDefaults(True, False, {"zookeeper": 3, "bookkeeper": 3, "broker": 2}, _APACHE_TYPES, True, 2, 2),
    "pulsar": PulsarDefaults(False, True, {"zookeeper": 3, "bookkeeper": 3, "broker": 1}, _APACHE_TYPES, False, 2, 2),
    "apache": PulsarDefaults(True, True, {"zookeeper": 3, "bookkeeper": 4, "broker": 3}, _APACHE_TYPES, True, 1, 1),
}
# StatefulSets written by hand: replicas and placement are their own; without a broker ConfigMap (envFrom) that
# sets managedLedgerDefaultWriteQuorum/AckQuorum the model assumes 1 copy (the apache chart's before 4.0.0),
# the least Pulsar runs with, so a zone loss is never counted as survived on an assumption.
PULSAR_CONF_DEFAULTS = PULSAR_DEFAULTS["apache"]


def apache_pulsar_defaults(version: tuple[int, int, int] | None) -> PulsarDefaults:
    """The apache chart's defaults at a release's pinned version (unpinned: the latest). Read in
    apache/pulsar-helm-chart: `<part>.topologySpreadConstraints` since 3.6.0 (#526), broker quorums 2
    since 4.0.0 (#570, 1 before); replicas, switches and types the same from 3.3.0 to 4.7.0."""
    base = PULSAR_DEFAULTS["apache"]
    quorum = 2 if version is None or version >= (4, 0, 0) else 1
    return replace(base, spread_key=version is None or version >= (3, 6, 0), write_quorum=quorum, ack_quorum=quorum)


@dataclass(frozen=True)
class PulsarPart:
    """One quorum member set of a Pulsar (zookeeper, bookkeeper, broker) as Kubernetes runs it."""

    part: str
    replicas: int
    block: dict  # the pod template's nodeSelector, tolerations, affinity, topologySpreadConstraints
    res: PolicyResource  # where its violations are reported

    def placement(self) -> Placement:
        return Placement.from_values(self.block)

    @property
    def one_per_zone(self) -> tuple[bool, str]:
        return hard_zone_spread(self.block)

    @property
    def at_most_one_per_zone(self) -> bool:
        """A required pod anti-affinity on a zone key: replicas beyond the zone count never schedule."""
        terms = dig(self.block, "affinity", "podAntiAffinity", HARD_AFFINITY, default=[]) or []
        return any(is_map(t) and t.get("topologyKey") in ZONE_KEYS and t.get("labelSelector") for t in terms)


@dataclass
class Pulsar:
    """A Pulsar Milvus writes its WAL to: its parts, and how many bookies must hold and acknowledge an entry."""

    res: PolicyResource
    what: str  # for messages: "pulsarv3" (values of the Milvus release), "Helm release pulsar (chart pulsar)", ...
    source: str  # "chart" (the Milvus release's values or its rendered StatefulSets), "release", "statefulset"
    key: str  # values prefix the remediation names: "pulsarv3", "pulsar", "" (an apache release), or none
    parts: list[PulsarPart]
    write_quorum: int
    ack_quorum: int

    def part(self, name: str) -> PulsarPart | None:
        return next((p for p in self.parts if p.part == name), None)


def _pulsar_from_values(res: PolicyResource, values: Any, defaults: PulsarDefaults, *, app: str, release: str,
                        what: str, source: str, key: str, patch=None) -> Pulsar:
    """The StatefulSets the apache chart renders from these values (templates/<part>-statefulset.yaml: the
    anti-affinity applies when the global and the part's switch are both on, on the part's topology key;
    required, or preferred with weight 100); `patch(part)` is a post-renderer's placement replacing it."""
    global_anti = truthy(dig(values, "affinity", "anti_affinity"), default=defaults.global_anti)
    parts = []
    for part in PULSAR_PARTS:
        if not truthy(dig(values, "components", part), default=True):
            continue
        comp = dig(values, part, default={}) or {}
        replicas = as_int(dig(comp, "replicaCount"))
        anti = global_anti and truthy(dig(comp, "affinity", "anti_affinity"), default=defaults.part_anti)
        topology = (dig(comp, "affinity", "anti_affinity_topology_key") if defaults.topology_key else None) \
            or "kubernetes.io/hostname"
        kind = str(dig(comp, "affinity", "type", default=defaults.types[part]))
        keys = ("nodeSelector", "tolerations", *(("topologySpreadConstraints",) if defaults.spread_key else ()))
        block = {k: plain(comp[k]) for k in keys if dig(comp, k)}
        found = patch(part) if patch is not None else None
        if found is not None:
            anti, topology, kind = True, found.get("spreadTopologyKey"), HARD_AFFINITY
            block = {"nodeSelector": found.get("nodeSelector", {}), "tolerations": found.get("tolerations", [])}
        if anti:
            term = {"labelSelector": {"matchLabels": {"app": app, "release": release,
                                                      "component": PULSAR_COMPONENTS[part]}}, "topologyKey": topology}
            block["affinity"] = {"podAntiAffinity": {HARD_AFFINITY: [term]} if kind == HARD_AFFINITY
                                 else {kind: [{"weight": 100, "podAffinityTerm": term}]}}
        parts.append(PulsarPart(part, defaults.replicas[part] if replicas is None else replicas, block, res))
    config = dig(values, "broker", "configData", default={}) or {}
    return Pulsar(res, what, source, key, parts,
                  as_int(dig(config, "managedLedgerDefaultWriteQuorum")) or defaults.write_quorum,
                  as_int(dig(config, "managedLedgerDefaultAckQuorum")) or defaults.ack_quorum)


def pulsar_labels(res: PolicyResource) -> tuple[str, str, str | None, str] | None:
    """(app, release, namespace, component) of a StatefulSet labelled as the apache chart labels its objects
    (`app`, `release`, `cluster`, `component`: templates/_helpers.tpl pulsar.standardLabels), else None."""
    if res.resource_type != K8S_STATEFULSET:
        return None
    labels = labels_of(dig(res.props, "metadata", "labels", default={}))
    component = labels.get("component") or ""
    if not labels.get("app") or not labels.get("release") or component not in PULSAR_COMPONENTS.values():
        return None
    namespace = dig(res.props, "metadata", "namespace")
    return labels["app"], labels["release"], None if namespace is None else str(namespace), component


def _pulsar_from_statefulsets(sets: list[PolicyResource], configmaps: list[PolicyResource], *, report_on=None,
                              what: str, source: str, key: str, defaults: PulsarDefaults) -> Pulsar:
    """A Pulsar from its StatefulSets; the broker's quorums from the ConfigMaps its containers read (envFrom)."""
    by_component = {lab[3]: s for s in sets if (lab := pulsar_labels(s)) is not None}
    parts = []
    for part in PULSAR_PARTS:
        sts = by_component.get(PULSAR_COMPONENTS[part])
        if sts is None:
            continue
        pod = plain(dig(sts.props, "spec", "template", "spec", default={}) or {})
        pod = pod if isinstance(pod, dict) else {}
        replicas = as_int(dig(sts.props, "spec", "replicas"))
        block = {k: pod[k] for k in ("nodeSelector", "tolerations", "affinity", "topologySpreadConstraints") if pod.get(k)}
        parts.append(PulsarPart(part, 1 if replicas is None else replicas, block, report_on or sts))
    write, ack = defaults.write_quorum, defaults.ack_quorum
    broker = by_component.get("broker")
    if broker is not None:
        ns = dig(broker.props, "metadata", "namespace")
        names = [str(dig(ref, "configMapRef", "name")) for c in dig(broker.props, "spec", "template", "spec",
                                                                     "containers", default=[]) or []
                 for ref in dig(c, "envFrom", default=[]) or [] if dig(ref, "configMapRef", "name")]
        for cm in configmaps:
            data = dig(cm.props, "data", default={}) or {}
            if dig(cm.props, "metadata", "name") in names and dig(cm.props, "metadata", "namespace") == ns:
                write = as_int(dig(data, "managedLedgerDefaultWriteQuorum")) or write
                ack = as_int(dig(data, "managedLedgerDefaultAckQuorum")) or ack
    return Pulsar(report_on or (broker or sets[0]), what, source, key, parts, write, ack)


# -- the failover controllers ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Controller:
    """A failover controller: a Deployment labelled milvus-zones/failover=<action>."""

    res: PolicyResource
    action: str
    workload: Workload
    env: dict[str, str]

    def seconds(self, key: str, default: float) -> float:
        try:
            return float(self.env.get(key, default))
        except ValueError:
            return default

    @property
    def survives_a_zone(self) -> bool:
        """Two or more replicas held in different zones, so one outlives any zone."""
        return self.workload.replicas >= 2 and self.workload.placement.hard_zone_spread


def _controller(res: PolicyResource, pools: Iterable[NodePool]) -> Controller | None:
    action = dig(res.props, "metadata", "labels", FAILOVER_LABEL)
    if not action:
        return None
    spec = dig(res.props, "spec", default={}) or {}
    pod = dig(spec, "template", "spec", default={}) or {}
    env = {}
    for c in dig(pod, "containers", default=[]) or []:
        for e in dig(c, "env", default=[]) or []:
            if is_map(e) and dig(e, "name") and dig(e, "value") is not None:
                env[str(dig(e, "name"))] = str(dig(e, "value"))
    replicas = as_int(dig(spec, "replicas"))
    return Controller(res, str(action), workload("failover-controller", 1 if replicas is None else replicas,
                                                 Placement.from_values(pod), pools), env)


def tag_mode(tags: Any, key: str = MODE_KEY) -> str | None:
    if is_map(tags) and key in tags:
        value = tags[key]
        return str(value) if value is not None else None
    return None


# -- the stack -------------------------------------------------------------------------------------

@dataclass
class Declaration:
    source: str  # e.g. "cluster ack (tags)"
    urn: str
    mode: str


def _declarations(cluster, pools, buckets, releases, key: str = MODE_KEY) -> list[Declaration]:
    out: list[Declaration] = []
    for c in [cluster] if cluster is not None else []:
        m = tag_mode(c.props.get("tags"), key)
        if m is not None:
            out.append(Declaration(f"cluster {c.name} (tags)", c.urn, m))
    for p in pools:
        m = tag_mode(dig(p.res.props, "tags"), key)
        if m is not None:
            out.append(Declaration(f"node pool {p.res.name} (tags)", p.res.urn, m))
    for b in buckets:
        m = tag_mode(b.props.get("tags"), key)
        if m is not None:
            out.append(Declaration(f"bucket {b.name} (tags)", b.urn, m))
    for rel in releases:
        m = tag_mode(rel.labels(), key)
        if m is not None:
            out.append(Declaration(f"Helm release {rel.res.name} (values.labels)", rel.res.urn, m))
    return out


@dataclass
class Deployment:
    """One cluster with its node pools and Milvus releases: a region's deployment in cross-region-ha,
    the whole stack otherwise."""

    topology: Topology
    cluster: PolicyResource | None
    pools: list[NodePool]
    releases: list[MilvusRelease]
    controllers: list[Controller] = field(default_factory=list)
    buckets: list[PolicyResource] = field(default_factory=list)  # the ones it stores into or owns

    def declarations(self) -> list[Declaration]:
        """This deployment's own `milvus-zones/mode` declarations: its cluster, pools, releases, buckets."""
        return _declarations(self.cluster, self.pools, self.buckets, self.releases)

    @property
    def declared_mode(self) -> str | None:
        """The mode this deployment's own declarations agree on (None: none, several, or not a mode)."""
        modes = {d.mode for d in self.declarations()}
        return next(iter(modes)) if len(modes) == 1 and next(iter(modes)) in MODES else None

    @property
    def top_mode(self) -> str | None:
        """The mode the deployment is part of: its own declaration, else the stack's (when the stack
        agrees on one); cross-region-ha for each region of a cross-region stack."""
        if self.declarations():
            return self.declared_mode
        return self.topology.mode()

    @property
    def name(self) -> str:
        return f"cluster {self.cluster.name}" if self.cluster is not None else "the stack"

    @property
    def zones(self) -> list[str]:
        """Zones of the deployment's node pools."""
        return sorted({z for p in self.pools for z in p.zones})

    def nodes_by_zone(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for p in self.pools:
            for z, n in p.nodes_by_zone().items():
                out[z] = out.get(z, 0) + n
        return out

    @property
    def primary(self) -> MilvusRelease | None:
        """The release that runs etcd (the first one otherwise): the one whose settings the cluster runs on."""
        return next((r for r in self.releases if r.etcd_enabled), self.releases[0] if self.releases else None)

    def controller(self, action: str) -> Controller | None:
        return next((c for c in self.controllers if c.action == action), None)

    def bucket_redundancy(self, rel: MilvusRelease | None) -> str:
        """The redundancy type of the bucket `rel` stores into (LRS when it cannot be told)."""
        bucket = self.topology.bucket_of(rel) if rel is not None else None
        if bucket is None and len(self.topology.buckets) == 1:
            bucket = self.topology.buckets[0]
        return str(dig(bucket.props, "redundancyType", default="LRS")) if bucket is not None else "LRS"

    def compute_pools(self) -> list[NodePool]:
        """Pools that can host the Milvus query nodes of any release; without a release, pools
        labelled milvus-zones/role=compute."""
        if self.releases:
            found: set[str] = set()
            for rel in self.releases:
                found |= {p.res.urn for p in rel.query_placement().pools(self.pools)}
            return [p for p in self.pools if p.res.urn in found]
        return [p for p in self.pools if p.labels.get(ROLE_LABEL) == "compute"]

    def region_mode_declarations(self) -> list[Declaration]:
        return _declarations(self.cluster, self.pools, [], self.releases, REGION_MODE_KEY)

    def mode(self, stack_mode: str | None = None) -> str | None:
        """The mode this deployment is held to: its own declared mode (a stack may hold several
        deployments of different modes), else `stack_mode`; in cross-region-ha the region's declared
        `milvus-zones/region-mode` (multi-zone-ha when undeclared)."""
        top = self.top_mode or stack_mode
        if top != CROSS_REGION_HA:
            return top
        declared = {d.mode for d in self.region_mode_declarations()}
        if len(declared) == 1 and next(iter(declared)) in REGION_MODES:
            return next(iter(declared))
        return MULTI_ZONE_HA

    def regions(self) -> set[str]:
        zones: set[str] = set()
        if self.cluster is not None:
            zones, _, _ = cluster_zones(self.cluster)
        if not zones:
            zones = {z for p in self.pools for z in p.zones}
        return {region_of_zone(z) for z in zones}


STACK_TYPE = "pulumi:pulumi:Stack"


def ancestry(res: PolicyResource) -> tuple[str, ...]:
    """URNs of the components above `res`, outermost first (the stack itself left out)."""
    chain: list[str] = []
    seen: set[str] = set()
    parent = getattr(res, "parent", None)
    while parent is not None and parent.urn not in seen:
        seen.add(parent.urn)
        if parent.resource_type != STACK_TYPE:
            chain.append(parent.urn)
        parent = getattr(parent, "parent", None)
    return tuple(reversed(chain))


def _common(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _reaches(start: PolicyResource, targets: set[str], by_urn: dict[str, PolicyResource], depth: int = 4) -> str | None:
    """The first of `targets` reachable from `start` through dependencies (breadth first)."""
    seen, frontier = {start.urn}, [start]
    for _ in range(depth):
        nxt = []
        for r in frontier:
            for d in [*r.dependencies, *(x for ds in r.property_dependencies.values() for x in ds)]:
                if d.urn in targets:
                    return d.urn
                if d.urn not in seen:
                    seen.add(d.urn)
                    nxt.append(by_urn.get(d.urn, d))
        frontier = nxt
    return None


class Topology:
    """The stack's resources by role; each role is sorted out on first use (policies need few)."""

    def __init__(self, resources: list[PolicyResource]):
        self.resources = list(resources)

    @staticmethod
    def of(resources: list[PolicyResource]) -> Topology:
        return Topology(resources)

    @functools.cached_property
    def clusters(self) -> list[PolicyResource]:
        return [r for r in self.resources if r.resource_type in CLUSTER_TYPES]

    @functools.cached_property
    def pools(self) -> list[NodePool]:
        return [_node_pool(r) for r in self.resources if r.resource_type == NODE_POOL]

    @functools.cached_property
    def buckets(self) -> list[PolicyResource]:
        return [r for r in self.resources if r.resource_type == BUCKET]

    @functools.cached_property
    def releases(self) -> list[MilvusRelease]:
        found = (_milvus_release(r) for r in self.resources if r.resource_type == HELM_RELEASE)
        out = [rel for rel in found if rel is not None]
        # Milvus as rendered objects (helm.v3.Chart, helm.v4.Chart): read back into chart values.
        from .rendered import rendered_releases

        for res, values in rendered_releases(self.resources, load_yaml, plain):
            out.append(MilvusRelease(res, str(res.props["name"]), parse_version(res.props.get("version")), values,
                                     _user_yaml(values)))
        return out

    @functools.cached_property
    def instances(self) -> list[PolicyResource]:
        return [r for r in self.resources if r.resource_type == MILVUS_INSTANCE]

    def of_type(self, *types: str) -> list[PolicyResource]:
        return [r for r in self.resources if r.resource_type in types]

    @functools.cached_property
    def deployments(self) -> list[Deployment]:
        """One per cluster: its pools (by `clusterId`) and releases (by their Kubernetes provider's
        dependency on it). With one cluster or none, the whole stack is one deployment."""
        if len(self.clusters) <= 1:
            cluster = self.clusters[0] if self.clusters else None
            pools = list(self.pools)
            ctl = [c for r in self.of_type(K8S_DEPLOYMENT) if (c := _controller(r, pools)) is not None]
            return [Deployment(self, cluster, pools, list(self.releases), ctl, list(self.buckets))]
        by_urn = {r.urn: r for r in self.resources}
        clusters = {c.urn for c in self.clusters}
        deps = {c.urn: Deployment(self, c, [], []) for c in self.clusters}
        loose = Deployment(self, None, [], [])
        for p in self.pools:
            owner = next((d.urn for d in p.res.property_dependencies.get("clusterId", []) if d.urn in clusters), None)
            (deps[owner] if owner else loose).pools.append(p)
        def owner_of(res: PolicyResource) -> str | None:
            provider = res.provider
            if provider is not None and provider.urn in by_urn:
                return _reaches(by_urn[provider.urn], clusters, by_urn)
            return None

        for rel in self.releases:
            owner = owner_of(rel.res)
            (deps[owner] if owner else loose).releases.append(rel)
        if loose.pools or loose.releases:
            loose.pools = loose.pools or list(self.pools)  # an unplaced release may run on any pool
        for r in self.of_type(K8S_DEPLOYMENT):
            owner = owner_of(r)
            dep = deps[owner] if owner else loose
            c = _controller(r, dep.pools)
            if c is not None:
                dep.controllers.append(c)
        out = list(deps.values())
        if loose.pools or loose.releases:
            out.append(loose)
        for b in self.buckets:
            owner_dep = next((d for d in out for rel in d.releases if self.bucket_of(rel) is b), None)
            owner_dep = owner_dep or self._nearest(b, out)
            if owner_dep is not None:
                owner_dep.buckets.append(b)
        return out

    @staticmethod
    def _anchors(dep: Deployment) -> list[PolicyResource]:
        return [*([dep.cluster] if dep.cluster is not None else []), *(p.res for p in dep.pools),
                *(r.res for r in dep.releases)]

    def _nearest(self, res: PolicyResource, deps: list[Deployment]) -> Deployment | None:
        """The deployment `res` belongs to by the component tree: the one whose cluster (pools,
        releases) shares the deepest component ancestor with it, when exactly one does (a bucket of
        one MilvusZones sits under that component; in a flat program nothing tells)."""
        mine = ancestry(res)
        depth = {id(d): max((_common(mine, ancestry(a)) for a in self._anchors(d)), default=0) for d in deps}
        best = max(depth.values(), default=0)
        winners = [d for d in deps if depth[id(d)] == best]
        return winners[0] if best > 0 and len(winners) == 1 else None

    def deployment_of(self, res: PolicyResource) -> Deployment | None:
        """The deployment a resource outside the cluster (an NLB, a bucket) belongs to, when it can be told."""
        deps = self.deployments
        if len(deps) == 1:
            return deps[0]
        for d in deps:
            if any(b.urn == res.urn for b in d.buckets) or any(a.urn == res.urn for a in self._anchors(d)):
                return d
        return self._nearest(res, deps)

    def loose_declarations(self) -> list[Declaration]:
        """Declarations on buckets that belong to none of the deployments."""
        placed = {b.urn for d in self.deployments for b in d.buckets}
        return _declarations(None, [], [b for b in self.buckets if b.urn not in placed], [])

    def deployment_modes(self) -> dict[str, str | None]:
        """Each deployment (by name) that holds Milvus or node pools, and its declared mode."""
        return {d.name: d.top_mode for d in self.deployments if d.releases or d.pools}

    # -- the mode ----------------------------------------------------------------------------------
    def declarations(self) -> list[Declaration]:
        """Every `milvus-zones/mode` declaration of the self-hosted deployment(s)."""
        out = _declarations(None, self.pools, self.buckets, self.releases)
        for c in self.clusters:
            out[:0] = _declarations(c, [], [], [])
        return out

    def mode(self) -> str | None:
        """The declared mode when every declaration agrees on a known mode; None otherwise (also when
        the stack holds deployments of different modes: each is then held to its own)."""
        modes = {d.mode for d in self.declarations()}
        if len(modes) == 1:
            (m,) = modes
            return m if m in MODES else None
        return None

    def modes(self) -> set[str]:
        """The known modes the stack's deployments are held to: one in most stacks, several when one
        program deploys several Milvus (each deployment consistent on its own)."""
        whole = self.mode()
        if whole is not None:
            return {whole}
        return {m for m in self.deployment_modes().values() if m is not None}

    @functools.cached_property
    def _service_targets(self) -> dict[tuple[str, str | None], PolicyResource]:
        """(Service name, namespace) -> the StatefulSet or quorum chart release behind it."""
        out: dict[tuple[str, str | None], PolicyResource] = {}
        sets = self.of_type(K8S_STATEFULSET)
        for sts in sets:
            ns = dig(sts.props, "metadata", "namespace")
            svc = dig(sts.props, "spec", "serviceName")
            if svc:
                out[(str(svc), ns)] = sts
        for svc in self.of_type(K8S_SERVICE):
            selector = dig(svc.props, "spec", "selector", default={})
            ns = dig(svc.props, "metadata", "namespace")
            name = dig(svc.props, "metadata", "name")
            for sts in sets:
                labels = labels_of(dig(sts.props, "spec", "template", "metadata", "labels", default={}))
                same_ns = dig(sts.props, "metadata", "namespace") == ns
                if name and same_ns and _selects(selector, labels):
                    out[(str(name), ns)] = sts
        for rel in self.of_type(HELM_RELEASE):
            chart = chart_base(rel.props.get("chart"))
            ns = rel.props.get("namespace")
            if chart in BITNAMI_DEFAULTS:
                full = _bitnami_fullname(str(rel.props.get("name") or rel.name), chart, release_values(rel))
                out[(full, ns)] = out[(f"{full}-headless", ns)] = rel
            elif chart in PULSAR_CHARTS:  # Services <fullname>-<broker|proxy>.component (templates/*-service.yaml)
                values = release_values(rel)
                full = _bitnami_fullname(str(rel.props.get("name") or rel.name), chart, values)
                for part in ("broker", "proxy"):
                    out[(f"{full}-{dig(values, part, 'component') or PULSAR_COMPONENTS[part]}", ns)] = rel
        return out

    def target_at(self, endpoints: Any, namespace: str | None) -> PolicyResource | None:
        """The in-stack StatefulSet or chart release every one of `endpoints` names, or None (external)."""
        items = [str(e) for e in endpoints] if is_list(endpoints) else \
            [e for e in str(endpoints or "").split(",") if e.strip()]
        found: set[str] = set()
        target = None
        for e in items:
            hit = None
            for name, ns in _host_candidates(e, namespace):
                hit = self._service_targets.get((name, ns)) or self._service_targets.get((name, None))
                if hit is None and ns is None:
                    hit = next((t for (n, _), t in self._service_targets.items() if n == name), None)
                if hit is not None:
                    break
            if hit is None:
                return None
            found.add(hit.urn)
            target = hit
        return target if target is not None and len(found) == 1 else None

    def quorum_at(self, endpoints: Any, namespace: str | None) -> Quorum | None:
        """The in-stack StatefulSet or bitnami release every one of `endpoints` names, or None (external)."""
        target = self.target_at(endpoints, namespace)
        if target is None:
            return None
        pdbs = self.of_type(*PDB_TYPES)
        if target.resource_type == K8S_STATEFULSET:
            return _statefulset_quorum(target, pdbs)
        chart = chart_base(target.props.get("chart"))
        return _release_quorum(target, chart, pdbs) if chart in BITNAMI_DEFAULTS else None

    @functools.cached_property
    def _pulsar_sets(self) -> dict[tuple[str, str, str | None], list[PolicyResource]]:
        """StatefulSets labelled as the apache Pulsar chart labels them, by (app, release, namespace)."""
        out: dict[tuple[str, str, str | None], list[PolicyResource]] = {}
        for sts in self.of_type(K8S_STATEFULSET):
            found = pulsar_labels(sts)
            if found is not None:
                out.setdefault(found[:3], []).append(sts)
        return out

    def pulsar_of(self, rel: MilvusRelease, service: str) -> Pulsar | None:
        """The Pulsar a release writes to: its subchart (`pulsarv3`, `pulsar`) as rendered StatefulSets of a
        Chart when the stack holds them, else as its values render it; or (`externalPulsar`) the apache chart
        release or Pulsar StatefulSets of the stack that externalPulsar.host names. None: outside the stack."""
        namespace = rel.res.props.get("namespace")
        if service in ("pulsarv3", "pulsar"):
            defaults = PULSAR_DEFAULTS[service]
            sets = self._pulsar_sets.get((service, rel.name, namespace))
            if sets:
                return _pulsar_from_statefulsets(sets, self.of_type(CONFIG_MAP), report_on=rel.res, what=service,
                                                 source="chart", key=service, defaults=defaults)
            return _pulsar_from_values(
                rel.res, rel.get(service, default={}), defaults, app=service, release=rel.name, what=service,
                source="chart", key=service,
                patch=lambda part: rel.post_render_patch(app="pulsar", component=PULSAR_COMPONENTS[part]))
        if service == "externalPulsar":
            return self.pulsar_at([rel.get("externalPulsar", "host", default="")], namespace)
        return None

    def pulsar_at(self, endpoints: Any, namespace: str | None) -> Pulsar | None:
        """The Pulsar of the stack whose broker or proxy Service `endpoints` name (see `target_at`)."""
        target = self.target_at(endpoints, namespace)
        if target is None:
            return None
        if target.resource_type == HELM_RELEASE and chart_base(target.props.get("chart")) in PULSAR_CHARTS:
            values = release_values(target)
            return _pulsar_from_values(target, values, apache_pulsar_defaults(parse_version(target.props.get("version"))),
                                       app=str(dig(values, "nameOverride") or "pulsar"),
                                       release=str(target.props.get("name") or target.name),
                                       what=f"Helm release {target.name} (chart pulsar)", source="release", key="")
        found = pulsar_labels(target)
        if found is None:
            return None
        app, release, ns, _ = found
        return _pulsar_from_statefulsets(self._pulsar_sets[(app, release, ns)], self.of_type(CONFIG_MAP),
                                         what=f"Pulsar StatefulSets of release {release} ({ns or 'default'})",
                                         source="statefulset", key="", defaults=PULSAR_CONF_DEFAULTS)

    def etcd_of(self, rel: MilvusRelease) -> Quorum | None:
        """The etcd a release uses: its own subchart's, or the in-stack one its externalEtcd.endpoints name
        (None: outside the stack)."""
        if rel.etcd_enabled:
            block = rel.get("etcd", default={}) or {}
            pdb = truthy(dig(block, "pdb", "create")) or _pdb_covers(
                self.of_type(*PDB_TYPES), {"app.kubernetes.io/name": str(dig(block, "name") or "etcd"),
                                           "app.kubernetes.io/instance": rel.name}, rel.res.props.get("namespace"))
            return Quorum(rel.res, f"etcd of Milvus release {rel.res.name}", rel.etcd_replicas, block,
                          truthy(dig(block, "persistence", "enabled"), default=True), pdb, "chart")
        return self.quorum_at(rel.get("externalEtcd", "endpoints", default=[]), rel.res.props.get("namespace"))

    def bucket_of(self, rel: MilvusRelease) -> PolicyResource | None:
        """The OSS bucket a release stores into: by name, else by the dependency of its values."""
        deps = [d for d in rel.res.property_dependencies.get("values", []) if d.resource_type == BUCKET]
        name = rel.bucket_name
        for b in self.buckets:
            if isinstance(name, str) and b.props.get("bucket") == name:
                return b
        if len(deps) == 1:
            return deps[0]
        return None


def bucket_refs(res: PolicyResource) -> tuple[set[str], Any]:
    """(URNs of Bucket resources `res.bucket` depends on, the literal bucket value)."""
    urns = {d.urn for d in res.property_dependencies.get("bucket", []) if d.resource_type == BUCKET}
    try:
        literal = res.props.get("bucket")
    except UnknownValueError:
        literal = None
    return urns, literal


def attached_to(bucket: PolicyResource, res: PolicyResource) -> bool:
    urns, literal = bucket_refs(res)
    if bucket.urn in urns:
        return True
    try:
        return isinstance(literal, str) and literal == bucket.props.get("bucket")
    except UnknownValueError:
        return False

