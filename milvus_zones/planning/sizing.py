"""Requests and limits of every workload, derived from what the plan places on each node pool.

Pure Python on the topology plan. A pool's nodes offer their ECS type's vCPUs and memory minus what
ACK keeps for itself (`allocatable`); each pool's pods share that by weight, node by node, with a
floor per component below which it is not worth running. Every pod gets requests = limits
(Guaranteed QoS: last to be evicted, and a query node's memory is bounded by what was planned).

What lands on a pool, per mode:
- single-zone, multi-zone-basic: the one compute pool holds every Milvus component (in basic it is
  the pool ACK relaunches in the secondary zone with the same type and size, so the same fit holds
  after a zone loss);
- multi-zone-ha: each compute zone's pool holds its own resource group (query and streaming nodes)
  and, after the other zone is lost, every replica of the zone-spread components (proxies,
  mixCoordinator, data/index nodes, CDC): the surviving zone must carry the whole cluster;
- quorum pools: the etcd members and message-service members of their zone (single-zone: all of
  them, one per node), the failover controller's replica, and with Pulsar room for its two init
  Jobs (PULSAR_INIT_PODS);
- the pools the proxies run on (every compute pool): room for the project's own Jobs (JOB, JOB_PODS),
  which run on the proxies' node selector and would otherwise stay Pending on nodes the Milvus pods fill.
A configuration that does not fit is refused with the setting to change.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from milvus_zones.planning.catalog import INSTANCE_TYPES, InstanceType
from milvus_zones.planning.spec import MessageService, Mode, SpecError

if TYPE_CHECKING:
    from milvus_zones.planning.plan import NodePoolPlan, TopologyPlan

# ---- what ACK leaves for pods (Alibaba Cloud ACK docs, "Resource reservation policy") ---------------
# ACK: Allocatable = Capacity - Reserved - Eviction threshold, Reserved split 50/50 between
# kubeReserved and systemReserved. Its worked example: a 4-vCPU, 8 GiB node reports Capacity
# cpu 4 / memory 7925980Ki and Allocatable cpu 3900m / memory 5824732Ki.
# The OS sees less memory than the type's nominal GiB (kernel, firmware): ACK's example node has
# 7925980Ki of 8 GiB.
CAPACITY_FRACTION = 7925980 / (8 * 1024 * 1024)
# Reserved CPU and memory by tiers of the node's size. ACK's own tier table was not in the stored
# copy of its page; these are the tiers Tencent TKE publishes ("Node Resource Reservation"), which
# give ACK's example node exactly its 100m of CPU and ~300 MiB less memory than ACK reserves: the
# DaemonSet budget below covers the difference (tests/planning/test_sizing.py checks the example).
CPU_FLAT_M = 100  # for the first 4 cores
CPU_TIERS = ((4, 0.0), (64, 0.025), (128, 0.0125), (math.inf, 0.005))  # (up to cores, rate beyond the flat part)
MEMORY_TIERS_GIB = ((4, 0.25), (8, 0.20), (16, 0.10), (128, 0.06), (math.inf, 0.02))
EVICTION_MI = 100  # kubelet's hard eviction threshold memory.available<100Mi
# What the cluster's own DaemonSets (terway-eniip, csi-plugin, kube-proxy, the pod-identity webhook's
# node parts, logging agents) take on every node: an allowance, not a measurement.
DAEMONSET_CPU_M = 250
DAEMONSET_MEMORY_MI = 512


@dataclass(frozen=True, order=True)
class Resources:
    cpu_m: int
    memory_mi: int

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.cpu_m + other.cpu_m, self.memory_mi + other.memory_mi)

    def fits(self, other: Resources) -> bool:
        return self.cpu_m <= other.cpu_m and self.memory_mi <= other.memory_mi

    def __str__(self) -> str:
        return f"{self.cpu_m}m CPU / {self.memory_mi}Mi"

    def values(self) -> dict:
        """Chart `resources`: requests = limits (Guaranteed QoS)."""
        q = {"cpu": f"{self.cpu_m}m", "memory": f"{self.memory_mi}Mi"}
        return {"requests": dict(q), "limits": dict(q)}


ZERO = Resources(0, 0)


def _tiered(total: float, tiers) -> float:
    out, low = 0.0, 0.0
    for high, rate in tiers:
        if total <= low:
            break
        out += (min(total, high) - low) * rate
        low = high
    return out


def allocatable(instance: InstanceType) -> Resources:
    """What one node of this type leaves for our pods: ACK's allocatable minus the DaemonSet allowance."""
    cpu_reserved = CPU_FLAT_M + 1000 * _tiered(instance.vcpu, CPU_TIERS)
    capacity_gib = instance.memory_gib * CAPACITY_FRACTION
    memory_reserved = 1024 * _tiered(capacity_gib, MEMORY_TIERS_GIB)
    cpu = instance.vcpu * 1000 - cpu_reserved - DAEMONSET_CPU_M
    memory = capacity_gib * 1024 - memory_reserved - EVICTION_MI - DAEMONSET_MEMORY_MI
    return Resources(int(cpu), int(memory))


# ---- the workloads -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    weight: int  # share of a node against the other pods on it
    # Below this the component is refused rather than starved. Our minimums, not measurements: a
    # query node holds at least 4 GiB of segments, a worker (data/index/streaming node) half a core.
    floor: Resources
    # Where a Milvus/subchart values key holds its resources ("queryNode" -> values["queryNode"]).
    pool: str  # "compute" or "quorum"


PROFILES: dict[str, Profile] = {
    # Query nodes hold the loaded segments in memory: they take what the other pods leave.
    "queryNode": Profile(12, Resources(1000, 4096), "compute"),
    "streamingNode": Profile(2, Resources(500, 1024), "compute"),
    "dataNode": Profile(2, Resources(500, 1024), "compute"),
    "indexNode": Profile(3, Resources(500, 2048), "compute"),
    "mixCoordinator": Profile(1, Resources(250, 512), "compute"),
    "proxy": Profile(1, Resources(250, 512), "compute"),
    "cdc": Profile(1, Resources(250, 512), "compute"),
    "etcd": Profile(2, Resources(250, 512), "quorum"),
    "pulsar.zookeeper": Profile(1, Resources(100, 512), "quorum"),
    "pulsar.bookkeeper": Profile(3, Resources(250, 1024), "quorum"),
    "pulsar.broker": Profile(3, Resources(250, 1024), "quorum"),
    "pulsar.proxy": Profile(1, Resources(100, 512), "quorum"),
    "pulsar.autorecovery": Profile(1, Resources(100, 256), "quorum"),
    "kafka": Profile(4, Resources(250, 1024), "quorum"),
    "kafka.zookeeper": Profile(1, Resources(100, 512), "quorum"),
}
COMPONENTS = tuple(PROFILES)
# The WAL pinning controller's requests (components/milvus.py applies them): counted, not sized here.
FAILOVER = Resources(50, 128)
# Requests of one pod of the project's own Jobs: the backup CronJob's and a restore Job's
# (rendering/backup_manifests.py) and a ScriptJob's (rendering/job_manifests.py), memory limit = request.
# An allowance: milvus-backup copies objects inside OSS (server-side, not through the pod); a ScriptJob
# is pip installing pymilvus, then one Python process with a gRPC client. Measured here, not on a
# cluster (Python 3.11.7, pymilvus==2.6.17): pip install --target peaks at 140 MiB RSS, importing
# MilvusClient at 95 MiB; milvus-backup's memory was not measured.
JOB = Resources(250, 512)
JOB_CPU_LIMIT_M = 1000  # CPU is compressible: a Job may use idle cores and is throttled back to its request
# The most Job pods that may run at once on the proxies' pool(s), each reserved on every such pool
# (in multi-zone-ha the survivor of a zone loss still runs them):
# - the backup CronJob's pod: concurrencyPolicy Forbid, one run at a time (backoffLimit 1 retries after it);
# - a restore Job: an operator starts it whenever needed, also during a backup run (up to its 4 h
#   deadline), and nothing makes it wait: a restore must not stay Pending for room;
# - the one ScriptJob of a `pulumi up`: the 2.5 resource-group Job (multi-zone-ha on chart 4.2) or the
#   cross-region replication Job (2.6 only): never both in one cluster.
JOB_PODS = 3
# Pulsar's own init Jobs (subchart templates bookkeeper-cluster-initialize.yaml, pulsar-cluster-initialize.yaml;
# pulsar 3.3.0 and 2.7.8): bookie-init and pulsar-init, rendered at install, run at once (pulsar-init's
# pod holds its requests while its init containers wait for bookie-init). The values place them on the
# quorum pools (where the members they initialise run), so every quorum pool keeps room for both.
# Each is sized as one of our Job pods (JOB): the chart's scripts run their JVMs with -Xmx128M
# (BOOKIE_MEM / PULSAR_MEM exported in those templates), a quarter of JOB's memory.
PULSAR_INIT_PODS = 2


def job_resources() -> dict:
    """`resources` of one Job pod's container: JOB requested, memory limit = request, CPU limit JOB_CPU_LIMIT_M."""
    return {"requests": {"cpu": f"{JOB.cpu_m}m", "memory": f"{JOB.memory_mi}Mi"},
            "limits": {"cpu": f"{JOB_CPU_LIMIT_M}m", "memory": f"{JOB.memory_mi}Mi"}}

_CPU_RE = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
_MEMORY_RE = re.compile(r"^(\d+)(Mi|Gi|Ti)$")


def parse_cpu(text: str) -> int:
    m = _CPU_RE.match(str(text).strip())
    if not m:
        raise ValueError(f"cpu {text!r} is not a quantity such as 500m, 2 or 1.5")
    value = float(m.group(1)) if not m.group(2) else float(m.group(1)) / 1000
    millis = round(value * 1000)
    if millis < 10:
        raise ValueError(f"cpu {text!r} is below 10m")
    return millis


def parse_memory(text: str) -> int:
    m = _MEMORY_RE.match(str(text).strip())
    if not m:
        raise ValueError(f"memory {text!r} is not a quantity such as 512Mi, 8Gi or 1Ti")
    mi = int(m.group(1)) * {"Mi": 1, "Gi": 1024, "Ti": 1024 * 1024}[m.group(2)]
    if mi < 64:
        raise ValueError(f"memory {text!r} is below 64Mi")
    return mi


@dataclass(frozen=True)
class PoolLoad:
    """One pool, one node's worth of its heaviest placement: what the sizing table shows."""

    pool: str
    instance_type: str
    nodes: int
    allocatable: Resources  # per node
    pods: tuple[tuple[str, int], ...]  # (component, replicas on this pool in the case sized for)
    case: str  # "normal" or "zone loss"
    busiest_node: Resources  # requests of the fullest node after sizing
    reserved: Resources  # pods with a size of their own on the pool, in total (our Jobs, the failover controller)


@dataclass(frozen=True)
class SizingPlan:
    components: dict[str, Resources]
    pools: tuple[PoolLoad, ...]

    def of(self, component: str) -> Resources:
        return self.components[component]


def _mq_members(plan: TopologyPlan, per_zone: int) -> list[tuple[str, int]]:
    kind = plan.message_service.kind
    if kind is MessageService.PULSAR:
        members = [(f"pulsar.{c}", per_zone) for c in ("zookeeper", "bookkeeper", "broker", "proxy")]
        # autorecovery runs one replica somewhere in the quorum zones: count it on every pool.
        return [*members, ("pulsar.autorecovery", 1)]
    if kind is MessageService.KAFKA:
        return [("kafka", per_zone), ("kafka.zookeeper", per_zone)]
    return []  # woodpecker: embedded in the streaming nodes, log in the bucket


def _placements(plan: TopologyPlan) -> list[tuple[NodePoolPlan, list[tuple[str, int]], list[Resources], str]]:
    """(pool, sized pods, fixed pods, case) for every pool."""
    from milvus_zones.planning.plan import Role

    out: list[tuple[NodePoolPlan, list[tuple[str, int]], list[Resources], str]] = []
    comps = {c.name: c.replicas for c in plan.components}
    extra = {"cdc": 1} if plan.cdc else {}
    jobs = plan.component("proxy").node_selector.items()  # our Jobs run where the proxies do
    for pool in plan.pools(Role.COMPUTE):
        n = pool.desired_size
        if plan.resource_groups:
            rg = next(r for r in plan.resource_groups if r.pool == pool.key)
            pods = [("queryNode", rg.query_nodes)]
            if rg.streaming_nodes:
                pods.append(("streamingNode", rg.streaming_nodes))
            # After the other zone's loss every zone-spread replica may land here.
            pods += [(name, count) for name, count in {**comps, **extra}.items()]
            case = "zone loss"
        else:
            pods = [(name, count) for name, count in {**comps, **extra}.items()]
            if "queryNode" not in comps:
                pods.append(("queryNode", n))
            case = "normal" if plan.mode is Mode.SINGLE_ZONE else "zone loss (relaunched)"
        out.append((pool, pods, [JOB] * JOB_PODS if jobs <= pool.labels.items() else [], case))
    for pool in plan.pools(Role.QUORUM):
        zones = len(plan.quorum_zones)
        per_zone = math.ceil(plan.etcd.replicas / zones)
        pods = [("etcd", per_zone), *_mq_members(plan, math.ceil(plan.message_service.replicas / zones))]
        fixed = [FAILOVER] if plan.failover is not None else []
        if plan.message_service.kind is MessageService.PULSAR:
            fixed += [JOB] * PULSAR_INIT_PODS
        out.append((pool, pods, fixed, "normal"))
    return out


@dataclass
class _Node:
    names: list[str]
    fixed: Resources = ZERO  # pods with a size of their own (overrides, the failover controller)


def _spread(pods: list[tuple[str, int]], nodes: int) -> list[_Node]:
    """Replicas to nodes: heaviest first, each to the lightest node without a replica of it yet."""
    bins = [_Node([]) for _ in range(nodes)]
    load = [0] * nodes
    items = sorted(((name, PROFILES[name].weight) for name, count in pods for _ in range(count)),
                   key=lambda t: (-t[1], t[0]))
    for name, w in items:
        i = min(range(nodes), key=lambda i: (name in bins[i].names, load[i], i))
        bins[i].names.append(name)
        load[i] += w
    return bins


def size(plan: TopologyPlan, overrides: dict[str, Resources] | None = None) -> SizingPlan:
    """Requests/limits per component; SpecError when a pool cannot hold what the mode puts on it."""
    overrides = dict(overrides or {})
    candidates: dict[str, list[Resources]] = {}
    placed = []
    for pool, pods, fixed, case in _placements(plan):
        alloc = allocatable(INSTANCE_TYPES[pool.instance_type])
        bins = _spread(pods, pool.desired_size)
        for i, f in enumerate(fixed):
            bins[i % len(bins)].fixed += f
        for b in bins:
            b.fixed = sum((overrides[n] for n in b.names if n in overrides), b.fixed)
            if not b.fixed.fits(alloc):
                raise SpecError([(_key(pool, overrides, b.names),
                                  (f"node pool {pool.key} ({pool.instance_type}, {alloc} allocatable per node) "
                                   f"cannot hold the sizes set for one node: {b.fixed}"))])
            shared = [n for n in b.names if n not in overrides]
            weight = sum(PROFILES[n].weight for n in shared)
            for n in shared:
                w = PROFILES[n].weight
                candidates.setdefault(n, []).append(Resources(
                    (alloc.cpu_m - b.fixed.cpu_m) * w // weight // 10 * 10,
                    (alloc.memory_mi - b.fixed.memory_mi) * w // weight // 64 * 64,
                ))
        placed.append((pool, pods, case, alloc, bins, sum(fixed, ZERO)))

    components = {n: o for n, o in overrides.items() if any(n == m for _, pods, *_ in placed for m, _ in pods)}
    for name, shares in candidates.items():
        got = Resources(min(s.cpu_m for s in shares), min(s.memory_mi for s in shares))
        floor = PROFILES[name].floor
        if not floor.fits(got):
            pool, pods = next((p, pods) for p, pods, *_ in placed if any(n == name for n, _ in pods))
            # A size set on the same pool is what starves the others: name that setting.
            raise SpecError([(_key(pool, overrides, [n for n, _ in pods]), _too_small(plan, pool, name, got, floor))])
        components[name] = got

    loads = []
    for pool, pods, case, alloc, bins, reserved in placed:
        used = [sum((components[n] for n in b.names if n not in overrides), b.fixed) for b in bins]
        for u, b in zip(used, bins, strict=True):
            if not u.fits(alloc):  # only overrides can push a node over: shares are cut to fit
                raise SpecError([(_key(pool, overrides, b.names),
                                  (f"node pool {pool.key} ({pool.instance_type}): one node would need {u}, "
                                   f"more than its {alloc} allocatable"))])
        loads.append(PoolLoad(pool.key, pool.instance_type, pool.desired_size, alloc, tuple(pods), case,
                              max(used), reserved))
    return SizingPlan(components, tuple(loads))


def _key(pool: NodePoolPlan, overrides: dict, names: list[str]) -> str:
    overridden = sorted({n for n in names if n in overrides})
    if overridden:
        return f"resources.{overridden[0]}"
    from milvus_zones.planning.plan import Role

    if pool.existing_id is not None:  # a pool of the team's: its type is the one named in the setting
        return f"existingCluster.nodePools.{pool.key}.instanceType"
    return "computeInstanceType" if pool.role is Role.COMPUTE else "quorumInstanceType"


def _too_small(plan: TopologyPlan, pool: NodePoolPlan, name: str, got: Resources, floor: Resources) -> str:
    why = ""
    if plan.resource_groups and PROFILES[name].pool == "compute":
        why = (" (multi-zone-ha: each compute zone must hold its own query replica plus every proxy, "
               "coordinator and data node after the other zone's loss)")
    current = INSTANCE_TYPES[pool.instance_type]
    bigger = sorted((i.memory_gib, i.vcpu, t) for t, i in INSTANCE_TYPES.items()
                    if i.memory_gib >= current.memory_gib and i.vcpu >= current.vcpu
                    and (i.memory_gib, i.vcpu) != (current.memory_gib, current.vcpu))
    return (f"{pool.instance_type} leaves {name} {got} on pool {pool.key}, below its minimum {floor}{why}; "
            f"choose a larger type or more nodes, or set resources.{name}; larger types: "
            f"{', '.join(t for *_, t in bigger[:6])}")
