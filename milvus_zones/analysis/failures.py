"""Zone-failure model: take each zone away from a recorded resource graph and say what survives.

For every zone of the stack: etcd quorum, the WAL's quorum and durability, data at risk, Milvus
components gone, and the recovery path of reads and writes with a modeled RTO and RPO. Every time in
a path is a `Param`: its value, and where it was read (the generated configuration), or the default
or assumption it falls back to. Nothing here was measured on a cluster (docs/failures.md).
Pure functions over `deployed.Deployed`; rendering at the end.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from milvus_zones.analysis.deployed import (
    Controller,
    Deployed,
    Release,
    Workload,
    dig,
    managed_instances,
    read,
    read_regions,
    region_of_zone,
)

GIB = 1024**3
MIB = 1024**2
UNREACHABLE = "node.kubernetes.io/unreachable"
NLB_ANN = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-"
LB_CLASS_ANN = "milvus-zones/load-balancer-class"  # postrender.ANN_LB_CLASS


@dataclass(frozen=True)
class Param:
    key: str
    value: float
    unit: str
    source: str  # "config: ..." when read from the generated configuration


@dataclass(frozen=True)
class Step:
    what: str
    seconds: float
    params: tuple[str, ...] = ()


@dataclass
class Path:
    """How one kind of traffic comes back: the steps and their total (None: not without the zone)."""

    steps: list[Step] = field(default_factory=list)
    blocked: str | None = None  # why it does not come back on its own

    @property
    def seconds(self) -> float | None:
        return None if self.blocked else sum(s.seconds for s in self.steps)


# Targets per declared mode: (reads RTO, writes RTO, RPO), seconds (issue 4; beats the seed and its peers).
TARGETS: dict[str, tuple[float, float, float]] = {
    "multi-zone-ha": (10, 60, 0),
    "multi-zone-basic": (900, 900, 0),
}


# ---- parameters -----------------------------------------------------------------------------------


def defaults(data_size_gib: float, load_mib_s: float) -> dict[str, Param]:
    """Parameters not in the stack's configuration: Kubernetes/Milvus defaults and stated assumptions."""
    p = [
        Param("k8s.nodeMonitorGracePeriod", 50, "s",
              "kube-controller-manager default (50 s since Kubernetes 1.29, kubernetes#121793); ACK's managed "
              "control plane, not set by this stack"),
        Param("k8s.defaultTolerationSeconds", 300, "s",
              "DefaultTolerationSeconds admission plugin: unreachable/not-ready NoExecute tolerations"),
        Param("k8s.nodeEvictionRate", 0.1, "nodes/s",
              "kube-controller-manager --node-eviction-rate default; a fully disrupted zone is tainted at it"),
        Param("etcd.electionTimeout", 1, "s", "etcd default --election-timeout 1000 ms (chart leaves it)"),
        Param("milvus.session.ttl", 30, "s", "Milvus default common.session.ttl (milvus.io configure_common)"),
        Param("milvus.coordActivation", 10, "s", "assumed: standby mixCoord recovers metadata and serves"),
        Param("milvus.configRefresh", 5, "s", "Milvus paramtable refreshes its etcd config source every 5 s"),
        Param("milvus.walRecovery", 10, "s", "assumed: WAL reassigned and reopened on a surviving streaming node"),
        Param("proxy.healthCheckTimeout", 3, "s", "Milvus default proxy.healthCheckTimeout 3000 ms"),
        Param("proxy.retryTimesOnHealthCheck", 3, "", "Milvus default"),
        Param("proxy.checkQueryNodeHealthInterval", 1, "s", "Milvus default 1000 ms"),
        Param("lb.healthCheckInterval", 10, "s", "assumed NLB default (not set by annotation)"),
        Param("lb.connectTimeout", 5, "s", "ACK CCM NLB annotation default"),
        Param("lb.unhealthyThreshold", 2, "", "assumed NLB default (not set by annotation)"),
        Param("pulsar.zkSessionTimeout", 30, "s", "assumed Pulsar broker default zooKeeperSessionTimeoutMillis"),
        Param("kafka.sessionTimeout", 18, "s", "assumed Kafka default zookeeper.session.timeout.ms"),
        Param("ca.scanInterval", 60, "s", "assumed: ACK node autoscaling scan interval"),
        Param("ca.okTotalUnreadyCount", 3, "nodes", "cluster-autoscaler default --ok-total-unready-count"),
        Param("ca.maxTotalUnreadyPercentage", 45, "%", "cluster-autoscaler default --max-total-unready-percentage"),
        Param("node.provisioning", 120, "s", "assumed: ECS instance created, booted and joined to ACK"),
        Param("pod.imagePull", 60, "s", "assumed: Milvus image pulled on a new node"),
        Param("milvus.start", 30, "s", "assumed: Milvus components start and register"),
        Param("data.size", data_size_gib, "GiB", "--data-size (default 100 GiB)"),
        Param("load.throughput", load_mib_s, "MiB/s per query node",
              "--load-throughput (assumed 100 MiB/s: segments and indexes read from OSS and deserialised)"),
    ]
    return {x.key: x for x in p}


def _config_params(dep: Deployed, params: dict[str, Param]) -> dict[str, Param]:
    """Override defaults with what the stack's configuration sets."""
    out = dict(params)
    rel = dep.primary
    if rel is None:
        return out

    def put(key: str, value: Any, scale: float, where: str) -> None:
        try:
            v = float(value) * scale
        except (TypeError, ValueError):
            return
        out[key] = Param(key, v, params[key].unit, f"config: {where}")

    put("milvus.session.ttl", rel.config("common.session.ttl"), 1, f"release {rel.name} user.yaml common.session.ttl")
    put("proxy.healthCheckTimeout", rel.config("proxy.healthCheckTimeout"), 1e-3,
        f"release {rel.name} user.yaml proxy.healthCheckTimeout (ms)")
    put("proxy.retryTimesOnHealthCheck", rel.config("proxy.retryTimesOnHealthCheck"), 1,
        f"release {rel.name} user.yaml proxy.retryTimesOnHealthCheck")
    put("proxy.checkQueryNodeHealthInterval", rel.config("proxy.checkQueryNodeHealthInterval"), 1e-3,
        f"release {rel.name} user.yaml proxy.checkQueryNodeHealthInterval (ms)")
    ann = dig(rel.values, "service", "annotations", default={}) or {}
    for key, name in (("lb.healthCheckInterval", "health-check-interval"), ("lb.connectTimeout",
                      "health-check-connect-timeout"), ("lb.unhealthyThreshold", "unhealthy-threshold")):
        put(key, ann.get(NLB_ANN + name), 1, f"release {rel.name} service annotation ...-{name}")
    return out


# ---- scenario -------------------------------------------------------------------------------------


@dataclass
class Scenario:
    zone: str
    holds: list[str]  # what the zone hosts
    etcd: dict[str, Any]
    wal: dict[str, Any]
    data: dict[str, Any]
    components_gone: list[str]
    reads: Path
    writes: Path
    reads_bounded: Path  # Bounded/Strong consistency reads wait for the WAL's time ticks
    serves_after: str
    rpo_s: float | None
    rpo_reason: str
    scope: str = "zone"  # or "region" (cross-region stacks)


@dataclass
class Report:
    stack: str
    mode: str | None
    zones: list[str]
    params: dict[str, Param]
    scenarios: list[Scenario]
    zone_recovery: bool  # False: the stack has no zone-level disaster recovery (single zone)
    notes: list[str] = field(default_factory=list)
    contributions: list[Any] = field(default_factory=list)  # Contribution, filled by `report()`
    kind: str = "self-hosted"  # "managed": the service recovers itself, nothing to model here
    backup: dict[str, Any] | None = None  # the program's `backup` output: schedule, retention, backup RPO

    def worst(self, scope: str | None = None) -> dict[str, float | None]:
        def mx(values: list[float | None]) -> float | None:
            return None if any(v is None for v in values) or not values else max(values)

        chosen = [s for s in self.scenarios if scope is None or s.scope == scope]
        return {
            "rpo_s": mx([s.rpo_s for s in chosen]),
            "rto_reads_s": mx([s.reads.seconds for s in chosen]),
            "rto_writes_s": mx([s.writes.seconds for s in chosen]),
        }

    def verdicts(self) -> list[str]:
        """Each target the worst case misses, as a sentence (empty when all are met or none apply)."""
        target = TARGETS.get(self.mode or "")
        if target is None:
            return []
        w, out = self.worst(), []
        for key, limit, label in (("rto_reads_s", target[0], "reads RTO"), ("rto_writes_s", target[1], "writes RTO"),
                                  ("rpo_s", target[2], "RPO")):
            value = w[key]
            if value is None or value > limit:
                out.append(f"{label} {fmt_s(value)} misses the {self.mode} target of {fmt_s(limit)}")
        return out


def fmt_s(v: float | None) -> str:
    if v is None:
        return "not on its own"
    if v >= 120:
        return f"{v / 60:.1f} min"
    return f"{v:.0f} s" if v == int(v) else f"{v:.1f} s"


def _etcd(rel: Release | None, dep: Deployed, zone: str) -> tuple[dict[str, Any], Workload | None]:
    if rel is None or not rel.etcd_enabled:
        return {"members": 0, "in_zone": 0, "quorum_kept": None, "note": "no etcd in the stack (external)"}, None
    block = rel.values.get("etcd") or {}
    n = int(block.get("replicaCount") or 3)
    from milvus_zones.analysis.deployed import Placement, workload

    w = workload("etcd", n, Placement.of(block), dep.pools)
    lost = w.worst_in(zone)
    kept = n - lost >= n // 2 + 1
    return {"members": n, "zones": list(w.zones), "in_zone": lost, "quorum_kept": kept,
            "note": f"{n - lost} of {n} members left, {n // 2 + 1} needed"}, w


def _wal(rel: Release, dep: Deployed, zone: str, groups: dict[str, Workload]) -> dict[str, Any]:
    kind = rel.message_service()
    redundancy = _bucket_redundancy(rel, dep)
    if kind == "woodpecker":
        primary = str(rel.config("streaming.primaryResourceGroup") or (rel.groups[0] if rel.groups else ""))
        where = groups.get(primary) if primary else None
        return {"kind": "woodpecker", "durable": redundancy == "ZRS",
                "note": f"log in the bucket ({redundancy}); served by "
                        + (f"group {primary}'s streaming nodes" if where else "the streaming nodes"),
                "primary_group": primary or None, "quorum_kept": True}
    from milvus_zones.analysis.deployed import Placement, workload

    if kind == "pulsar":
        key = "pulsarv3" if rel.values.get("pulsarv3", {}).get("enabled") else "pulsar"
        block = dig(rel.values, key, "bookkeeper", default={}) or {}
        anti = dig(block, "affinity", "anti_affinity_topology_key") in ("topology.kubernetes.io/zone",)
        n = int(block.get("replicaCount") or 3)
        w = workload("bookkeeper", n, Placement.of(block), dep.pools)
        lost = (1 if zone in w.zones else 0) if anti and len(w.zones) >= n else w.worst_in(zone)
        ack = 2  # managedLedgerDefaultAckQuorum in the Milvus chart's pulsar values
        return {"kind": "pulsar", "members": n, "in_zone": lost, "quorum_kept": n - lost >= ack,
                "durable": anti and len(w.zones) >= 2,
                "note": f"{n - lost} of {n} bookies left; each entry acknowledged by {ack} bookies"
                        + (" in distinct zones" if anti else " (zones not enforced)")}
    if kind == "kafka":
        block = rel.values.get("kafka") or {}
        n = int(block.get("replicaCount") or 3)
        w = workload("kafka", n, Placement.of(block), dep.pools)
        lost = w.worst_in(zone)
        return {"kind": "kafka", "members": n, "in_zone": lost, "quorum_kept": n - lost >= 2,
                "durable": w.placement.hard_zone_spread,
                "note": f"{n - lost} of {n} brokers left; min.insync.replicas 2"}
    return {"kind": kind, "quorum_kept": None, "durable": False, "note": "no message service found"}


def _bucket_redundancy(rel: Release | None, dep: Deployed) -> str:
    name = dig(rel.values, "externalS3", "bucketName") if rel else None
    if isinstance(name, str) and name in dep.buckets:
        return dep.buckets[name]
    if len(dep.buckets) == 1:
        return next(iter(dep.buckets.values()))
    return "ZRS" if dep.buckets and all(v == "ZRS" for v in dep.buckets.values()) else "LRS"


class Model:
    def __init__(self, dep: Deployed, params: dict[str, Param]):
        self.dep = dep
        self.p = params
        self.nodes = dep.nodes_by_zone()

    def v(self, key: str) -> float:
        return self.p[key].value

    # -- the building blocks ------------------------------------------------------------------------
    def evict(self, w: Workload, zone: str, fence: Controller | None) -> list[Step]:
        """From the zone's loss until the workload's pods there are deleted (and can be recreated)."""
        steps = [Step("nodes marked NotReady (node monitor grace period)", self.v("k8s.nodeMonitorGracePeriod"),
                      ("k8s.nodeMonitorGracePeriod",))]
        if fence is not None and fence.workload.survivors(zone) > 0:
            after = fence.seconds("FENCE_AFTER_SECONDS", 10) + fence.seconds("PROBE_INTERVAL_SECONDS", 1)
            steps.append(Step("failover controller fences the zone (deletes its pods and Node objects)", after,
                              ("controller.fenceAfter",)))
            return steps
        tol = w.placement.toleration_seconds(UNREACHABLE)
        if tol == -1:
            steps.append(Step("pods tolerate unreachable nodes forever: never evicted", math.inf))
            return steps
        key = "config: tolerationSeconds" if tol is not None else "k8s.defaultTolerationSeconds"
        seconds = float(tol if tol is not None else self.v("k8s.defaultTolerationSeconds"))
        n = self.nodes.get(zone, 1)
        steps.append(Step(f"NoExecute taint on the zone's {n} node(s), rate-limited", (n - 1) / self.v(
            "k8s.nodeEvictionRate"), ("k8s.nodeEvictionRate",)))
        steps.append(Step(f"pods evicted after tolerationSeconds {seconds:.0f}", seconds, (key,)))
        return steps

    def relaunch(self, w: Workload, zone: str, fence: Controller | None, *, load: bool = False
                 ) -> tuple[list[Step], str | None]:
        """Steps to run `w`'s lost pods again outside `zone`, or why that cannot happen."""
        steps = self.evict(w, zone, fence)
        if any(math.isinf(s.seconds) for s in steps):
            return steps, f"{w.name}: pods tolerate the unreachable taint forever"
        others = [z for z in w.relaunch_zones if z != zone]
        if not others:
            return steps, f"{w.name}: no node pool it may run on has nodes or can add nodes outside {zone}"
        existing = any(z != zone for z in w.zones)
        if not existing:
            unready = self.nodes.get(zone, 0)
            total = sum(self.nodes.values())
            fenced = fence is not None and fence.workload.survivors(zone) > 0
            if not fenced and unready > self.v("ca.okTotalUnreadyCount") and unready > total * self.v(
                    "ca.maxTotalUnreadyPercentage") / 100:
                return steps, (f"cluster-autoscaler halts with {unready} of {total} nodes unready (> "
                               f"{self.v('ca.okTotalUnreadyCount'):.0f} and > {self.v('ca.maxTotalUnreadyPercentage'):.0f}%)"
                               "; nothing deletes the lost nodes")
            steps += [Step(f"autoscaler adds nodes in {', '.join(others)}", self.v("ca.scanInterval"), ("ca.scanInterval",)),
                      Step("ECS instances created and joined", self.v("node.provisioning"), ("node.provisioning",)),
                      Step("Milvus image pulled", self.v("pod.imagePull"), ("pod.imagePull",))]
        steps.append(Step("Milvus components start and register", self.v("milvus.start"), ("milvus.start",)))
        if load:
            qn = max(1, self.query_nodes)
            seconds = self.v("data.size") * GIB / (qn * self.v("load.throughput") * MIB)
            steps.append(Step(f"segments reloaded: {self.v('data.size'):g} GiB over {qn} query node(s)", seconds,
                              ("data.size", "load.throughput")))
        return steps, None

    def takeover(self) -> list[Step]:
        return [Step("active mixCoord's session expires", self.v("milvus.session.ttl"), ("milvus.session.ttl",)),
                Step("standby mixCoord activates", self.v("milvus.coordActivation"), ("milvus.coordActivation",))]

    @property
    def query_nodes(self) -> int:
        rel = self.dep.primary
        if rel is None:
            return 0
        q = rel.component("queryNode", self.dep.pools)
        return q.replicas * max(1, len(rel.groups))

    # -- one zone ------------------------------------------------------------------------------------
    def scenario(self, zone: str) -> Scenario:
        dep, rel = self.dep, self.dep.primary
        etcd, _ = _etcd(rel, dep, zone)
        holds = [f"{p.name} ({n} node{'s' if n != 1 else ''})" for p in dep.pools
                 for z, n in p.nodes_by_zone().items() if z == zone]
        redundancy = _bucket_redundancy(rel, dep)
        data = {"bucket": redundancy,
                "lost": redundancy != "ZRS",
                "note": ("bucket is zone-redundant (ZRS)" if redundancy == "ZRS" else
                         "bucket is locally redundant (LRS): one zone holds it; losing that zone loses access, "
                         "destroying it loses the data")}
        if rel is None:
            empty = Path(blocked="no Milvus release in the stack")
            return Scenario(zone, holds, etcd, {}, data, [], empty, empty, empty, "nothing", None, "no Milvus")

        groups = self.query_groups(rel)
        wal = _wal(rel, dep, zone, groups)
        fence = dep.controller("fence-zone")
        comps = {name: rel.component(name, dep.pools) for name in ("proxy", "mixCoordinator", "dataNode",
                                                                    "queryNode", "streamingNode")}
        if groups:
            comps.pop("queryNode"), comps.pop("streamingNode")
        gone = [f"{w.name}: {w.worst_in(zone)} of {w.replicas}" for w in comps.values() if w.worst_in(zone)]
        gone += [f"{w.name}: {w.worst_in(zone)} of {w.replicas}" for w in groups.values() if w.worst_in(zone)]
        gone += [f"{w.name}: {w.worst_in(zone)} of {w.replicas}" for w in self._streaming_groups(rel).values()
                 if w.worst_in(zone)]
        if etcd["in_zone"]:
            gone.append(f"etcd: {etcd['in_zone']} of {etcd['members']} members")

        if etcd["quorum_kept"] is False:
            data["lost"] = True
            data["note"] += (f"; etcd: {etcd['in_zone']} of {etcd['members']} members' disks are in the zone, so the "
                             "metadata is unavailable, and lost if the zone is destroyed")
        rpo, rpo_reason = self._rpo(wal, data)
        if etcd["quorum_kept"] is False:
            reason = "etcd quorum lost: Milvus components stop until the zone returns"
            blocked = Path(blocked=reason)
            return Scenario(zone, holds, etcd, wal, data, gone, blocked, blocked, blocked,
                            "nothing (no zone-level recovery)", rpo, rpo_reason)
        if wal.get("quorum_kept") is False:
            blocked = Path(blocked=f"{wal['kind']} loses its write quorum")
            reads = self._reads(rel, comps, groups, zone, fence)
            return Scenario(zone, holds, etcd, wal, data, gone, reads, blocked, blocked,
                            "reads only", rpo, rpo_reason)

        reads = self._reads(rel, comps, groups, zone, fence)
        writes, wal_stalled = self._writes(rel, comps, groups, wal, zone, fence)
        bounded = writes if wal_stalled else reads
        if etcd["in_zone"] and not reads.blocked:
            # A lost etcd leader is re-elected; metadata reads and writes pause meanwhile.
            for path in {id(reads): reads, id(writes): writes}.values():
                if not path.steps:
                    path.steps.append(Step("etcd re-elects a leader (if it was here)", self.v("etcd.electionTimeout"),
                                           ("etcd.electionTimeout",)))
        serves = self._serves_after(rel, comps, groups, zone, reads, writes)
        return Scenario(zone, holds, etcd, wal, data, gone, reads, writes, bounded, serves, rpo, rpo_reason)

    def query_groups(self, rel: Release) -> dict[str, Workload]:
        """Per resource group: its query nodes, pinned by the post-renderer (or not pinned at all)."""
        selectors = rel.group_selectors()
        q = rel.values.get("queryNode") or {}
        out = {}
        for g in rel.groups:
            out[g] = rel.component("queryNode", self.dep.pools, extra_selector=selectors.get(g),
                                   replicas=int(q.get("replicas") or 1))
            out[g] = Workload(f"queryNode[{g}]", out[g].replicas, out[g].placement, out[g].zones,
                              out[g].relaunch_zones, out[g].pools)
        return out

    def _streaming_groups(self, rel: Release) -> dict[str, Workload]:
        selectors = rel.group_selectors()
        out = {}
        for g in rel.groups:
            w = rel.component("streamingNode", self.dep.pools, extra_selector=selectors.get(g))
            out[g] = Workload(f"streamingNode[{g}]", w.replicas, w.placement, w.zones, w.relaunch_zones, w.pools)
        return out

    def _reads(self, rel: Release, comps: dict[str, Workload], groups: dict[str, Workload], zone: str,
               fence: Controller | None) -> Path:
        proxy = comps["proxy"]
        replicas = list(groups.values()) if groups else [comps["queryNode"]]
        surviving = [g for g in replicas if g.survivors(zone) >= g.replicas and g.replicas > 0]
        path = Path()
        if not surviving:
            lost = next((g for g in replicas if g.worst_in(zone)), None)
            if lost is None:
                return path
            # No complete replica outside the zone: the lost query nodes' share is reloaded elsewhere.
            steps, why = self.relaunch(lost, zone, fence, load=True)
            if why:
                return Path(steps, why)
            path.steps = steps
            return path
        if proxy.worst_in(zone):
            if proxy.survivors(zone) <= 0:
                steps, why = self.relaunch(proxy, zone, fence)
                return Path(steps, why)
            if rel.values.get("service", {}).get("type") == "LoadBalancer":
                t = self.v("lb.unhealthyThreshold") * self.v("lb.healthCheckInterval") + self.v("lb.connectTimeout")
                path.steps.append(Step("load balancer takes the zone's proxies out (health checks)", t,
                                       ("lb.unhealthyThreshold", "lb.healthCheckInterval", "lb.connectTimeout")))
            else:
                path.steps.append(Step("Service endpoints drop the zone's proxies when nodes go NotReady",
                                       self.v("k8s.nodeMonitorGracePeriod"), ("k8s.nodeMonitorGracePeriod",)))
        if any(g.worst_in(zone) for g in replicas):
            t = self.v("proxy.retryTimesOnHealthCheck") * (self.v("proxy.checkQueryNodeHealthInterval")
                                                           + self.v("proxy.healthCheckTimeout"))
            path.steps.append(Step("proxies stop routing to the lost replica's query nodes", t,
                                   ("proxy.retryTimesOnHealthCheck", "proxy.checkQueryNodeHealthInterval",
                                    "proxy.healthCheckTimeout")))
        if len(path.steps) > 1:  # these run in parallel: the slowest counts
            slowest = max(path.steps, key=lambda s: s.seconds)
            path.steps = [Step(f"in parallel, the slowest: {slowest.what}", slowest.seconds, slowest.params)]
        return path

    def _writes(self, rel: Release, comps: dict[str, Workload], groups: dict[str, Workload], wal: dict, zone: str,
                fence: Controller | None) -> tuple[Path, bool]:
        coord = comps["mixCoordinator"]
        coord_steps: list[Step] = []
        if coord.worst_in(zone):
            if coord.survivors(zone) > 0 and coord.active_standby:
                coord_steps = self.takeover()
            else:
                steps, why = self.relaunch(coord, zone, fence)
                if why:
                    return Path(steps, why), True
                coord_steps = steps + [Step("new mixCoord waits for the old session to expire",
                                            max(0.0, self.v("milvus.session.ttl") - sum(s.seconds for s in steps)),
                                            ("milvus.session.ttl",))]
        wal_steps: list[Step] = []
        stalled = False
        if wal["kind"] == "woodpecker":
            streaming = self._streaming_groups(rel)
            primary = wal.get("primary_group")
            if primary and primary in streaming:
                owner = streaming[primary]
                if owner.worst_in(zone) >= owner.replicas:
                    stalled = True
                    ctl = self.dep.controller("switch-wal")
                    if ctl is None or ctl.workload.survivors(zone) <= 0:
                        why = (f"the WAL stays on group {primary}'s streaming nodes, all in {zone}: "
                               "streaming.primaryResourceGroup must be switched by hand")
                        return Path(coord_steps, why), True
                    pods = max(1, owner.replicas)
                    detect = ctl.seconds("FAILURE_THRESHOLD", 3) * max(
                        ctl.seconds("PROBE_INTERVAL_SECONDS", 1), pods * ctl.seconds("PROBE_TIMEOUT_SECONDS", 1))
                    wal_steps = [
                        Step("failover controller: primary group's streaming nodes fail its probes", detect,
                             ("controller.failureThreshold", "controller.probeInterval", "controller.probeTimeout")),
                        Step("streaming.primaryResourceGroup switched (etcd + management API; else next config "
                             "refresh)", self.v("milvus.configRefresh"), ("milvus.configRefresh",)),
                    ]
            else:
                sn = comps.get("streamingNode") or rel.component("streamingNode", self.dep.pools)
                if sn.worst_in(zone):
                    stalled = True
                    if sn.survivors(zone) > 0:
                        wal_steps = [Step("lost streaming nodes' sessions expire; WAL reassigned",
                                          self.v("milvus.session.ttl"), ("milvus.session.ttl",))]
                    else:
                        steps, why = self.relaunch(sn, zone, fence)
                        if why:
                            return Path(steps, why), True
                        wal_steps = steps
            if stalled:
                rec = Step("WAL reopened on a surviving streaming node", self.v("milvus.walRecovery"),
                           ("milvus.walRecovery",))
                return self._join(coord_steps, wal_steps, rec), True
        elif wal["kind"] in ("pulsar", "kafka") and wal.get("in_zone"):
            key = "pulsar.zkSessionTimeout" if wal["kind"] == "pulsar" else "kafka.sessionTimeout"
            wal_steps = [Step(f"{wal['kind']} moves the lost brokers' topics", self.v(key), (key,))]
            stalled = True
        return self._join(coord_steps, wal_steps, None), stalled

    @staticmethod
    def _join(a: list[Step], b: list[Step], after: Step | None) -> Path:
        """Two chains in parallel (coordinator takeover, WAL switch), then what needs both."""
        ta, tb = sum(s.seconds for s in a), sum(s.seconds for s in b)
        steps = (a if ta >= tb else b) if a and b else (a or b)
        if a and b:
            other = "WAL move" if ta >= tb else "coordinator takeover"
            steps = [*steps[:-1], Step(f"{steps[-1].what} (in parallel with the {other}, "
                                       f"{fmt_s(min(ta, tb))})", steps[-1].seconds, steps[-1].params)]
        return Path([*steps, *([after] if after else [])])

    def _serves_after(self, rel, comps, groups, zone, reads: Path, writes: Path) -> str:
        left = [g for g, w in groups.items() if w.survivors(zone) >= w.replicas]
        if groups:
            who = f"query replica(s) in group {', '.join(left)}" if left else "no complete query replica"
        else:
            q = comps["queryNode"]
            who = ("query nodes outside the zone" if q.survivors(zone) > 0 else
                   "query nodes relaunched outside the zone" if not reads.blocked else "no query nodes")
        proxies = "surviving proxies" if comps["proxy"].survivors(zone) > 0 else "relaunched proxies"
        return f"reads: {who} via {proxies}; writes: " + ("blocked" if writes.blocked else "resume on the surviving WAL")

    @staticmethod
    def _rpo(wal: dict, data: dict) -> tuple[float | None, str]:
        if data["lost"]:
            return None, data["note"]
        if not wal.get("durable", False):
            return None, f"{wal.get('kind')}: acknowledged writes are not guaranteed a copy outside one zone"
        return 0.0, f"acknowledged writes have a copy outside the zone ({wal.get('note')}); bucket ZRS"


def analyse(dep: Deployed, data_size_gib: float = 100, load_mib_s: float = 100) -> Report:
    params = _config_params(dep, defaults(data_size_gib, load_mib_s))
    for c in dep.controllers:
        for env, key, unit in (("PROBE_INTERVAL_SECONDS", "controller.probeInterval", "s"),
                               ("PROBE_TIMEOUT_SECONDS", "controller.probeTimeout", "s"),
                               ("FAILURE_THRESHOLD", "controller.failureThreshold", ""),
                               ("FENCE_AFTER_SECONDS", "controller.fenceAfter", "s")):
            if env in c.env:
                params[key] = Param(key, c.seconds(env, 0), unit, f"config: failover controller ({c.action}) env {env}")
    model = Model(dep, params)
    zones = dep.zones
    scenarios = [model.scenario(z) for z in zones]
    zone_recovery = any(s.reads.seconds is not None or s.writes.seconds is not None for s in scenarios)
    notes = []
    if not zone_recovery:
        notes.append("No zone-level disaster recovery: losing " + ("the zone" if len(zones) == 1 else "any one zone")
                     + " stops the service until it returns"
                     + (" (as the seed says of single-zone instances)." if len(zones) == 1 else "."))
    return Report(dep.stack, dep.mode, zones, params, scenarios, zone_recovery, notes)


def analyse_graph(graph, data_size_gib: float = 100, load_mib_s: float = 100) -> Report:
    return analyse(read(graph), data_size_gib, load_mib_s)


# ---- what each setting contributes ------------------------------------------------------------------


def _without_user(keys: list[str]):
    def drop(dep: Deployed) -> None:
        for rel in dep.releases:
            for dotted in keys:
                *head, last = dotted.split(".")
                node = dig(rel.user, *head) if head else rel.user
                if isinstance(node, dict):
                    node.pop(last, None)
    return drop


def _without_nlb_checks(dep: Deployed) -> None:
    for rel in dep.releases:
        ann = dig(rel.values, "service", "annotations", default={})
        for k in [k for k in ann if k.startswith(NLB_ANN + "health") or k.endswith("healthy-threshold")]:
            ann.pop(k)


def _without_tolerations(dep: Deployed) -> None:
    for rel in dep.releases:
        rel.values.pop("tolerations", None)
        for name in ("proxy", "mixCoordinator", "dataNode", "queryNode", "streamingNode", "indexNode"):
            if isinstance(rel.values.get(name), dict):
                rel.values[name].pop("tolerations", None)


def _without_controller(action: str):
    def drop(dep: Deployed) -> None:
        dep.controllers = [c for c in dep.controllers if c.action != action]
    return drop


def _without_autoscaling(dep: Deployed) -> None:
    import dataclasses

    dep.pools = [dataclasses.replace(p, max_size=p.size) for p in dep.pools]


# (setting, where it is set, how to take it away)
TUNINGS = [
    ("common.session.ttl", "helm_values.SESSION_TTL_S (user.yaml)", _without_user(["common.session.ttl"])),
    ("proxy health checks", "helm_values.PROXY_HEALTH_CHECK_* (user.yaml)",
     _without_user(["proxy.healthCheckTimeout", "proxy.retryTimesOnHealthCheck"])),
    ("NLB health checks", "helm_values.NLB_HEALTH_CHECK (service annotations)", _without_nlb_checks),
    ("node-failure tolerations", "helm_values.NODE_FAILURE_TOLERATION_S (chart-global tolerations)",
     _without_tolerations),
    ("failover controller: switch-wal", "plan.FailoverPlan, components/milvus.py", _without_controller("switch-wal")),
    ("failover controller: fence-zone", "plan.FailoverPlan, components/milvus.py", _without_controller("fence-zone")),
    ("compute pool autoscaling", "plan.NodePoolPlan.max_size (basic)", _without_autoscaling),
]


@dataclass(frozen=True)
class Contribution:
    setting: str
    where: str
    without: dict[str, float | None]  # worst case with this one setting taken away
    with_all: dict[str, float | None]

    def saves(self, key: str) -> float | None:
        a, b = self.without[key], self.with_all[key]
        if b is None:
            return None
        return math.inf if a is None else a - b


def contributions(dep: Deployed, data_size_gib: float = 100, load_mib_s: float = 100) -> list[Contribution]:
    """Take each tuning away in turn and re-run the model: what the setting is worth (0: not used here)."""
    import copy

    base = analyse(dep, data_size_gib, load_mib_s).worst()
    out = []
    for setting, where, take_away in TUNINGS:
        d = copy.deepcopy(dep)
        take_away(d)
        out.append(Contribution(setting, where, analyse(d, data_size_gib, load_mib_s).worst(), base))
    return out


def region_params(graph) -> dict[str, Param]:
    """What a region loss depends on: replication lag, the operator's failover, the client record's TTL."""
    ttl = next((r.inputs.get("ttl") for r in graph.of_type("alicloud:pvtz/zoneRecord:ZoneRecord")
                if r.inputs.get("rr") == "milvus"), None)
    p = [
        Param("cdc.replicationLag", 1, "s",
              "assumed: Milvus 2.6 CDC forwards the WAL to the standby 'sub-second to seconds in steady state' "
              "(Milvus CDC Q&A); the writes inside it at the moment of loss are lost"),
        Param("operator.detection", 300, "s",
              "assumed: the region is declared lost and the failover decided (alerting and on-call); "
              "`milvus-zones switchover --failover` itself is scripted, the decision is not automated"),
        Param("failover.apply", 120, "s",
              "assumed: `pulumi up --target` of the client record and the new primary's replication Job "
              "(image pulled, pymilvus installed, update_replicate_configuration with force_promote)"),
        Param("dns.ttl", float(ttl) if ttl is not None else 30, "s",
              "config: PrivateZone record milvus ttl" if ttl is not None else "assumed: client record TTL"),
    ]
    return {x.key: x for x in p}


def _region_scenario(region: str, primary: str | None, regional: Report, params: dict[str, Param]) -> Scenario:
    holds = [f"zones {', '.join(regional.zones)}"]
    if region != primary:
        ok = Path()
        return Scenario(f"region {region}", holds, {"quorum_kept": None, "note": "the other region's etcd is its own"},
                        {}, {"lost": False, "note": "standby region: the primary's data is unaffected"}, ["the standby"],
                        ok, ok, ok, f"the primary region {primary} serves as before; replication pauses and "
                        "resumes from its checkpoint when the standby returns", 0.0,
                        "nothing acknowledged is lost: the primary holds it", "region")
    v = {k: x.value for k, x in params.items()}
    # Reads and writes both move with the client record: the standby is promoted, then the name follows it.
    steps = [
        Step("region declared lost, failover decided", v["operator.detection"], ("operator.detection",)),
        Step("targeted pulumi up: standby force-promoted, client record repointed", v["failover.apply"],
             ("failover.apply",)),
        Step("clients resolve the client record again (TTL)", v["dns.ttl"], ("dns.ttl",)),
    ]
    return Scenario(
        f"region {region}", holds, {"quorum_kept": False, "note": "the whole region's etcd; the standby has its own"},
        {"kind": "CDC to the standby", "quorum_kept": False, "durable": True,
         "note": "the standby's WAL holds everything CDC delivered"},
        {"lost": True, "note": "writes acknowledged by the primary but not yet replicated (the CDC lag)"},
        ["everything in the region"], Path(list(steps)), Path(list(steps)), Path(list(steps)),
        "the standby region, promoted to primary by `milvus-zones switchover --failover`", v["cdc.replicationLag"],
        "CDC replicates asynchronously: the writes of the last replication lag are lost", "region")


def backup_rpo(graph) -> str:
    """The RPO of restoring from the last backup (an operator's or client's mistake), from the
    program's `backup` output (milvus_zones.plan.backup_summary); beside the zone-loss figures."""
    b = graph.outputs.get("backup")
    if not isinstance(b, dict):
        return "not declared by the program"
    if "schedule" in b:
        return f"{b['rpo']}, kept {b['retentionDays']} d ({b['schedule']} UTC)"
    return str(b.get("rpo", "not declared by the program"))


def report(graph, data_size_gib: float = 100, load_mib_s: float = 100, with_contributions: bool = True) -> Report:
    """The analysis of a recorded graph, with what each tuning contributes."""
    r = _report(graph, data_size_gib, load_mib_s, with_contributions)
    r.backup = {**(graph.outputs.get("backup") or {}), "rpo": backup_rpo(graph)}
    return r


def _report(graph, data_size_gib: float, load_mib_s: float, with_contributions: bool) -> Report:
    regions = read_regions(graph)
    instances = managed_instances(graph)
    if instances and not any(d.releases for d in regions):
        zones = sorted({str(v.get("zoneId")) for i in instances for v in i.inputs.get("vswitchIds") or []
                        if isinstance(v, dict) and v.get("zoneId")})
        return Report(graph.stack, read(graph).mode or _managed_mode(instances), zones, {}, [], True,
                      ["Managed service (alicloud.MilvusInstance): zone failover is the service's own (the seed: "
                       "basic RTO < 1 h, HA RTO < 3 min); no configuration here to model."], kind="managed")
    if len(regions) == 1:
        dep = regions[0]
        r = analyse(dep, data_size_gib, load_mib_s)
        if with_contributions:
            r.contributions = contributions(dep, data_size_gib, load_mib_s)
        return r
    parts = [analyse(d, data_size_gib, load_mib_s) for d in regions]
    primary = graph.outputs.get("primaryRegion")
    merged = Report(graph.stack, regions[0].mode, [z for p in parts for z in p.zones], parts[0].params,
                    [s for p in parts for s in p.scenarios], True,
                    [f"{len(regions)} regions; primary {primary or 'not declared'}. Zone scenarios are per region; "
                     "region scenarios follow."])
    rparams = region_params(graph)
    merged.params = {**merged.params, **rparams}
    for d, part in zip(regions, parts, strict=True):
        region = region_of_zone(part.zones[0]) if part.zones else d.stack
        merged.scenarios.append(_region_scenario(region, primary, part, rparams))
    if with_contributions:
        merged.contributions = contributions(regions[0], data_size_gib, load_mib_s)
    return merged


def _managed_mode(instances) -> str | None:
    i = instances[0].inputs
    if str(i.get("multiZoneMode") or "Single") == "Single":
        return "single-zone"
    return "multi-zone-ha" if i.get("ha") else "multi-zone-basic"


# ---- rendering ------------------------------------------------------------------------------------


def to_json(report: Report) -> dict[str, Any]:
    def path(p: Path) -> dict:
        return {"seconds": p.seconds, "blocked": p.blocked, "steps": [asdict(s) for s in p.steps]}

    return {
        "stack": report.stack, "mode": report.mode, "zones": report.zones, "zoneRecovery": report.zone_recovery,
        "notes": report.notes, "worst": report.worst(), "missedTargets": report.verdicts(),
        "backup": report.backup,
        "parameters": {k: asdict(v) for k, v in sorted(report.params.items())},
        "scenarios": [{
            "zone": s.zone, "holds": s.holds, "etcd": s.etcd, "wal": s.wal, "data": s.data,
            "componentsGone": s.components_gone, "servesAfter": s.serves_after,
            "reads": path(s.reads), "writes": path(s.writes), "readsBoundedConsistency": path(s.reads_bounded),
            "rpoSeconds": s.rpo_s, "rpo": s.rpo_reason,
        } for s in report.scenarios],
        "contributions": [{"setting": c.setting, "where": c.where, "without": c.without, "withAll": c.with_all}
                          for c in report.contributions],
    }


def _yes(v: Any) -> str:
    return {True: "yes", False: "NO", None: "n/a"}[v]


def _path_lines(label: str, p: Path, indent: str) -> list[str]:
    head = f"{indent}{label}: {fmt_s(p.seconds)}" + (f" — {p.blocked}" if p.blocked else "")
    return [head] + [f"{indent}  - {s.what}: {fmt_s(s.seconds)}" for s in p.steps]


def render_text(report: Report, markdown: bool = False) -> str:
    h1, h2, b = ("# ", "## ", "- ") if markdown else ("", "", "  ")
    out = [f"{h1}Zone failures: stack {report.stack} (mode {report.mode or 'undeclared'})", ""]
    out += [f"{b}{n}" for n in report.notes]
    scopes = sorted({s.scope for s in report.scenarios}, reverse=True)
    for scope in scopes:
        w = report.worst(scope)
        out.append(f"{b}worst {scope} loss ({', '.join(s.zone for s in report.scenarios if s.scope == scope)}): "
                   f"RPO {fmt_s(w['rpo_s'])}, reads back in {fmt_s(w['rto_reads_s'])}, writes back in "
                   f"{fmt_s(w['rto_writes_s'])}")
    if report.backup:
        out.append(f"{b}restore from the last backup (a dropped collection, a bad delete: no failover helps): "
                   f"RPO {report.backup['rpo']}")
    target = TARGETS.get(report.mode or "")
    if target and report.kind != "managed":
        missed = report.verdicts()
        out.append(f"{b}targets ({report.mode}: reads {fmt_s(target[0])}, writes {fmt_s(target[1])}, RPO 0): "
                   + ("met" if not missed else "MISSED: " + "; ".join(missed)))
    for s in report.scenarios:
        out += ["", f"{h2}Lose {s.zone}" + (f" (holds {', '.join(s.holds)})" if s.holds else " (holds no nodes)")]
        out.append(f"{b}etcd quorum kept: {_yes(s.etcd.get('quorum_kept'))} ({s.etcd.get('note')})")
        if s.wal:
            out.append(f"{b}WAL ({s.wal.get('kind')}) quorum kept: {_yes(s.wal.get('quorum_kept'))}, durable: "
                       f"{_yes(s.wal.get('durable'))} ({s.wal.get('note')})")
        out.append(f"{b}data lost: {'possible' if s.data['lost'] else 'no'} ({s.data['note']})")
        out.append(f"{b}components gone: {', '.join(s.components_gone) or 'none'}")
        out.append(f"{b}afterwards: {s.serves_after}")
        out.append(f"{b}RPO: {fmt_s(s.rpo_s)} ({s.rpo_reason})")
        ind = b if markdown else "  "
        out += _path_lines("reads (Eventually consistency)", s.reads, ind)
        out += _path_lines("writes", s.writes, ind)
        if s.reads_bounded is not s.reads:
            out.append(f"{ind}reads at Bounded/Strong consistency: {fmt_s(s.reads_bounded.seconds)} "
                       "(they wait for the WAL's time ticks, so they come back with writes)")
    used = [c for c in report.contributions if c.without != c.with_all]
    if used:
        out += ["", f"{h2}What each setting contributes (worst case without it -> with everything)", ""]
        if markdown:
            out += ["| setting | set in | reads | writes |", "|---|---|---|---|"]
        for c in used:
            cells = [f"{fmt_s(c.without[k])} -> {fmt_s(c.with_all[k])}" for k in ("rto_reads_s", "rto_writes_s")]
            out.append(f"| {c.setting} | {c.where} | {cells[0]} | {cells[1]} |" if markdown else
                       f"  {c.setting} [{c.where}]: reads {cells[0]}, writes {cells[1]}")
    out += ["", f"{h2}Parameters", ""]
    if markdown:
        out += ["| parameter | value | source |", "|---|---|---|"]
        out += [f"| {p.key} | {p.value:g} {p.unit} | {p.source} |" for p in sorted(report.params.values(),
                                                                            key=lambda p: p.key)]
    else:
        out += [f"  {p.key} = {p.value:g} {p.unit}  [{p.source}]" for p in sorted(report.params.values(),
                                                                            key=lambda p: p.key)]
    return "\n".join(out) + "\n"


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(to_json(report), indent=2, sort_keys=True) + "\n"
    return render_text(report, markdown=fmt == "markdown")
