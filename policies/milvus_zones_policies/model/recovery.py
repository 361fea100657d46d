"""The recovery model: what a zone (or region) loss does to a deployment, step by step, with its sums.

One computation, used by `milvus-zones failures` and `compare` and by the pack's RTO policies. Every
time in a path is a `Param`: its value and where it comes from (the stack's configuration, a
default read in the Milvus, etcd or Kubernetes source at the version named, or an assumption, which
says so). Nothing here was measured on a cluster except where a source says it was
(docs/failures.md). Pure functions over `deployment.Deployment`.

The zone-loss mechanics (Milvus 2.6.16 source, design brief section 5, docs/failures.md):
- Sessions are etcd leases of `common.session.ttl`. If the etcd leader dies with the zone, a new one
  is elected (raft's randomized timeout, up to twice the election timeout) and renews every lease to
  its full TTL plus one election timeout (etcd `server/lease/lessor.go` Promote), so a dead
  component's session outlives it by election + TTL + election timeout.
- Reads fail over when the proxies' look-aside health checks mark the lost query nodes unreachable
  (`internal/proxy/shardclient/look_aside_balancer.go`), not by the session TTL.
- The standby mixCoord takes over once the active one's session expires, then activates every
  coordinator (`internal/util/sessionutil/session_util.go` ProcessActiveStandBy): time unmeasured.
- The WAL stays on `streaming.primaryResourceGroup`'s streaming nodes while they have live sessions
  and falls back to the group with most sessions once they expire
  (`internal/streamingnode/client/manager/manager_client_impl.go` chooseFallbackResourceGroup);
  nothing moves it sooner, so no failover controller shortens the write outage.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .deployment import (
    Controller,
    Deployment,
    MilvusRelease,
    Placement,
    Topology,
    Workload,
    workload,
)
from .names import NLB_ANN_PREFIX, PRIVATE_ZONE_RECORD, UNREACHABLE_TAINT
from .values import as_int, dig, is_list, is_map, region_of_zone

GIB = 1024**3
MIB = 1024**2
STACK = "pulumi:pulumi:Stack"

# Targets per declared mode: (reads RTO, writes RTO, RPO), seconds (issue 4; beats the seed and its peers).
TARGETS: dict[str, tuple[float, float, float]] = {
    "multi-zone-ha": (10, 60, 0),
    # The seed's < 1 h: a lost primary zone's Node objects are deleted by on-call, not automatically
    # (docs/failover-controller.md: NotReady is no proof that a node is dead), so no 15-minute claim.
    "multi-zone-basic": (3600, 3600, 0),
}
# Where the figures below were read (Milvus at the v2.6.16 release commit of the bigsheeper/milvus mirror).
MILVUS_2616 = "Milvus v2.6.16 (adf8243f)"
CHART_ETCD = "milvus-helm 5.0.19 and 4.2.58 values.yaml etcd.extraEnvVars"


@dataclass(frozen=True)
class Param:
    key: str
    value: float
    unit: str
    source: str  # "config: ..." when read from the stack's configuration; "assumed: ..." when nobody measured it

    @property
    def assumed(self) -> bool:
        return self.source.startswith("assumed")


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

    def sum_text(self) -> str:
        return " + ".join(f"{s.what} {fmt_s(s.seconds)}" for s in self.steps) + f" = {fmt_s(self.seconds)}"


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
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    stack: str
    mode: str | None
    zones: list[str]
    params: dict[str, Param]
    scenarios: list[Scenario]
    zone_recovery: bool  # False: the stack has no zone-level disaster recovery (single zone)
    notes: list[str] = field(default_factory=list)
    contributions: list[Any] = field(default_factory=list)  # filled by milvus_zones.analysis
    kind: str = "self-hosted"  # "managed": the service recovers itself, nothing to model here

    def worst(self, scope: str | None = None) -> dict[str, float | None]:
        def mx(values: list[float | None]) -> float | None:
            known = [v for v in values if v is not None]
            return None if len(known) < len(values) or not known else max(known)

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
    if math.isinf(v):
        return "never"
    if v >= 120:
        return f"{v / 60:.1f} min"
    return f"{v:.0f} s" if v == int(v) else f"{v:.1f} s"


# ---- parameters -----------------------------------------------------------------------------------

def defaults(data_size_gib: float = 100, load_mib_s: float = 100) -> dict[str, Param]:
    """Parameters the stack's configuration does not set: defaults read at a named version, and assumptions."""
    p = [
        Param("k8s.nodeMonitorGracePeriod", 50, "s",
              "kube-controller-manager default (50 s since Kubernetes 1.29, kubernetes#121793); ACK's managed "
              "control plane, not set by this stack"),
        Param("k8s.defaultTolerationSeconds", 300, "s",
              "DefaultTolerationSeconds admission plugin: unreachable/not-ready NoExecute tolerations"),
        Param("k8s.nodeEvictionRate", 0.1, "nodes/s",
              "kube-controller-manager --node-eviction-rate default; a fully disrupted zone is tainted at it"),
        Param("etcd.heartbeatInterval", 0.5, "s", f"{CHART_ETCD} ETCD_HEARTBEAT_INTERVAL 500 (ms)"),
        Param("etcd.electionTimeout", 2.5, "s",
              f"{CHART_ETCD} ETCD_ELECTION_TIMEOUT 2500 (ms), not etcd's 1000 ms default; a follower campaigns "
              "after a randomized [1, 2) x this (etcd v3.5.25 raft/raft.go resetRandomizedElectionTimeout), and a "
              "new leader extends every lease by this (server/etcdserver/server.go lessor.Promote)"),
        Param("milvus.session.ttl", 15, "s",
              f"Milvus default common.session.ttl ({MILVUS_2616} pkg/util/paramtable/component_param.go "
              "DefaultValue 15, configs/milvus.yaml; 30 in v2.5.16's milvus.yaml)"),
        Param("milvus.coordActivation", 10, "s",
              "assumed, not measured: the standby mixCoord, once ACTIVE, starts every coordinator and recovers "
              "their metadata from etcd (session_util.go ProcessActiveStandBy activateFunc)"),
        Param("milvus.walRecovery", 10, "s",
              "assumed, not measured: the streaming coordinator assigns the lost channels to a surviving streaming "
              "node, which opens the WAL (Woodpecker: reads its tail back from object storage)"),
        Param("proxy.healthCheckTimeout", 3, "s",
              f"Milvus default proxy.healthCheckTimeout 3000 ms ({MILVUS_2616} component_param.go)"),
        Param("proxy.retryTimesOnHealthCheck", 3, "",
              f"Milvus default proxy.retryTimesOnHealthCheck 3 ({MILVUS_2616} component_param.go)"),
        Param("proxy.checkQueryNodeHealthInterval", 1, "s",
              f"Milvus default proxy.checkQueryNodeHealthInterval 1000 ms ({MILVUS_2616} component_param.go)"),
        Param("lb.healthCheckInterval", 10, "s", "assumed NLB default (not set by annotation)"),
        Param("lb.connectTimeout", 5, "s", "ACK CCM NLB annotation default"),
        Param("lb.unhealthyThreshold", 2, "", "assumed NLB default (not set by annotation)"),
        Param("pulsar.zkSessionTimeout", 30, "s", "assumed Pulsar broker default zooKeeperSessionTimeoutMillis"),
        Param("kafka.sessionTimeout", 18, "s", "assumed Kafka default zookeeper.session.timeout.ms"),
        Param("ca.scanInterval", 60, "s", "assumed: ACK node autoscaling scan interval"),
        Param("ca.okTotalUnreadyCount", 3, "nodes", "cluster-autoscaler default --ok-total-unready-count"),
        Param("ca.maxTotalUnreadyPercentage", 45, "%", "cluster-autoscaler default --max-total-unready-percentage"),
        Param("operator.fence", 300, "s",
              "assumed: on-call is alerted, confirms the zone's ECS instances are down and deletes their Node "
              "objects (docs/failover-controller.md: nothing does it automatically)"),
        Param("node.provisioning", 120, "s", "assumed: ECS instance created, booted and joined to ACK"),
        Param("pod.imagePull", 60, "s", "assumed: Milvus image pulled on a new node"),
        Param("milvus.start", 30, "s", "assumed: Milvus components start and register"),
        Param("data.size", data_size_gib, "GiB", "--data-size (default 100 GiB)"),
        Param("load.throughput", load_mib_s, "MiB/s per query node",
              "--load-throughput (assumed 100 MiB/s: segments and indexes read from OSS and deserialised)"),
    ]
    return {x.key: x for x in p}


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def parameters(dep: Deployment, base: Mapping[str, Param] | None = None) -> dict[str, Param]:
    """`base` (the defaults) with what the deployment's configuration sets."""
    base = dict(base or defaults())
    out = dict(base)
    rel = dep.primary

    def put(key: str, value: Any, scale: float, where: str) -> None:
        v = _num(value)
        if v is not None:
            out[key] = Param(key, v * scale, base[key].unit, f"config: {where}")

    if rel is not None:
        minor, _ = rel.milvus_minor()
        if minor is not None and minor < (2, 6) and "config:" not in base["milvus.session.ttl"].source:
            out["milvus.session.ttl"] = Param("milvus.session.ttl", 30, "s",
                                              "Milvus default common.session.ttl (v2.5.16 configs/milvus.yaml: 30)")
        put("milvus.session.ttl", rel.config("common.session.ttl"), 1, f"release {rel.name} user.yaml common.session.ttl")
        put("proxy.healthCheckTimeout", rel.config("proxy.healthCheckTimeout"), 1e-3,
            f"release {rel.name} user.yaml proxy.healthCheckTimeout (ms)")
        put("proxy.retryTimesOnHealthCheck", rel.config("proxy.retryTimesOnHealthCheck"), 1,
            f"release {rel.name} user.yaml proxy.retryTimesOnHealthCheck")
        put("proxy.checkQueryNodeHealthInterval", rel.config("proxy.checkQueryNodeHealthInterval"), 1e-3,
            f"release {rel.name} user.yaml proxy.checkQueryNodeHealthInterval (ms)")
        env = rel.get("etcd", "extraEnvVars", default=None)
        for e in env if is_list(env) else []:
            if is_map(e) and e.get("name") == "ETCD_ELECTION_TIMEOUT":
                put("etcd.electionTimeout", e.get("value"), 1e-3, f"release {rel.name} etcd.extraEnvVars (ms)")
            if is_map(e) and e.get("name") == "ETCD_HEARTBEAT_INTERVAL":
                put("etcd.heartbeatInterval", e.get("value"), 1e-3, f"release {rel.name} etcd.extraEnvVars (ms)")
        ann = dig(rel.values, "service", "annotations", default={}) or {}
        for key, name in (("lb.healthCheckInterval", "health-check-interval"), ("lb.connectTimeout",
                          "health-check-connect-timeout"), ("lb.unhealthyThreshold", "unhealthy-threshold")):
            put(key, ann.get(NLB_ANN_PREFIX + name), 1, f"release {rel.name} service annotation ...-{name}")
    fence = dep.controller("fence-zone")
    if fence is not None:
        for env_key, key, unit in (("PROBE_INTERVAL_SECONDS", "controller.probeInterval", "s"),
                                   ("FENCE_AFTER_SECONDS", "controller.fenceAfter", "s")):
            if env_key in fence.env:
                out[key] = Param(key, fence.seconds(env_key, 0), unit,
                                 f"config: failover controller (fence-zone) env {env_key}")
    return out


# ---- one zone ---------------------------------------------------------------------------------------

def _etcd(rel: MilvusRelease | None, dep: Deployment, zone: str) -> dict[str, Any]:
    etcd = dep.topology.etcd_of(rel) if rel is not None else None
    if etcd is None:
        return {"members": 0, "in_zone": 0, "quorum_kept": None, "zones": [],
                "note": "no etcd in the stack (external)"}
    n = etcd.replicas
    w = workload("etcd", n, etcd.placement(), dep.pools)
    lost = w.worst_in(zone)
    kept = n - lost >= n // 2 + 1
    return {"members": n, "zones": list(w.zones), "in_zone": lost, "quorum_kept": kept,
            "note": f"{n - lost} of {n} members left, {n // 2 + 1} needed"}


def _wal(rel: MilvusRelease, dep: Deployment, zone: str) -> dict[str, Any]:
    kind = rel.message_service()
    redundancy = dep.bucket_redundancy(rel)
    if kind == "woodpecker":
        primary = str(rel.config("streaming.primaryResourceGroup") or (rel.groups[0] if rel.groups else ""))
        return {"kind": "woodpecker", "durable": redundancy == "ZRS", "quorum_kept": True,
                "note": f"log in the bucket ({redundancy}); served by "
                        + (f"group {primary}'s streaming nodes" if primary else "the streaming nodes"),
                "primary_group": primary or None}
    pulsar = dep.topology.pulsar_of(rel, kind)  # the chart's, or the stack's own externalPulsar names
    if pulsar is not None:
        bookies = pulsar.part("bookkeeper")
        n = bookies.replicas if bookies is not None else 0
        w = workload("bookkeeper", n, bookies.placement() if bookies is not None else Placement.from_values({}),
                     dep.pools)
        anti = bookies is not None and bookies.at_most_one_per_zone
        lost = (1 if zone in w.zones else 0) if anti and len(w.zones) >= n else w.worst_in(zone)
        ack, copies = pulsar.ack_quorum, pulsar.write_quorum  # broker managedLedgerDefaultAck/WriteQuorum
        return {"kind": "pulsar", "members": n, "in_zone": lost, "quorum_kept": n - lost >= ack,
                "durable": anti and len(w.zones) >= 2 and copies >= 2,
                "note": ("" if pulsar.source == "chart" else f"{pulsar.what}: ")
                        + f"{n - lost} of {n} bookies left; each entry written to {copies} and acknowledged by {ack} bookies"
                        + (" in distinct zones" if anti else " (zones not enforced)")}
    if kind == "kafka":
        block = rel.get("kafka", default={}) or {}
        n = as_int(dig(block, "replicaCount")) or 3
        w = workload("kafka", n, Placement.from_values(block), dep.pools)
        lost = w.worst_in(zone)
        return {"kind": "kafka", "members": n, "in_zone": lost, "quorum_kept": n - lost >= 2,
                "durable": w.placement.hard_zone_spread,
                "note": f"{n - lost} of {n} brokers left; min.insync.replicas 2"}
    if kind in ("externalKafka", "externalPulsar"):
        endpoint = rel.get("externalKafka", "brokerList") if kind == "externalKafka" else \
            [rel.get("externalPulsar", "host", default="")]
        own = dep.topology.quorum_at(endpoint, rel.res.props.get("namespace"))
        if own is not None and kind == "externalKafka":  # a Kafka of the stack's own: judged as the chart's
            n = own.replicas
            w = workload("kafka", n, own.placement(), dep.pools)
            lost = w.worst_in(zone)
            return {"kind": "kafka", "members": n, "in_zone": lost, "quorum_kept": n - lost >= 2,
                    "durable": w.placement.hard_zone_spread,
                    "note": f"{own.what}: {n - lost} of {n} brokers left; assumed min.insync.replicas 2"}
        return {"kind": kind, "quorum_kept": None, "durable": None,
                "note": "outside the stack: its zone tolerance is its own and not modeled here"}
    return {"kind": kind, "quorum_kept": None, "durable": False, "note": "no message service found"}


class ZoneLoss:
    """The zone-loss model of one deployment under one set of parameters."""

    def __init__(self, dep: Deployment, params: Mapping[str, Param]):
        self.dep = dep
        self.p = dict(params)
        self.nodes = dep.nodes_by_zone()

    def v(self, key: str) -> float:
        return self.p[key].value

    # -- the building blocks ------------------------------------------------------------------------
    def session_expiry(self, etcd: Mapping[str, Any]) -> list[Step]:
        """From the zone's loss until its components' sessions are gone from etcd."""
        ttl = ("milvus.session.ttl",)
        if etcd.get("in_zone"):
            et = self.v("etcd.electionTimeout")
            return [Step("etcd leader lost with the zone (worst case): a new one is elected (up to 2 x election "
                         "timeout)", 2 * et, ("etcd.electionTimeout",)),
                    Step("the new leader renews every lease to its full TTL + one election timeout (etcd lessor "
                         "Promote): the dead sessions expire after that", self.v("milvus.session.ttl") + et,
                         ("milvus.session.ttl", "etcd.electionTimeout"))]
        return [Step("the zone's sessions (etcd leases) expire", self.v("milvus.session.ttl"), ttl)]

    def evict(self, w: Workload, zone: str, fence: Controller | None) -> list[Step]:
        """From the zone's loss until the workload's pods there are deleted (and can be recreated)."""
        steps = [Step("nodes marked NotReady (node monitor grace period)", self.v("k8s.nodeMonitorGracePeriod"),
                      ("k8s.nodeMonitorGracePeriod",))]
        if fence is not None and fence.workload.survivors(zone) > 0:
            after = fence.seconds("FENCE_AFTER_SECONDS", 10) + fence.seconds("PROBE_INTERVAL_SECONDS", 1)
            steps.append(Step("failover controller fences the zone (deletes its pods and Node objects)", after,
                              ("controller.fenceAfter", "controller.probeInterval")))
            return steps
        tol = w.placement.toleration_seconds(UNREACHABLE_TAINT)
        if tol is not None and math.isinf(tol):
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
        if not any(z != zone for z in w.zones):
            unready = self.nodes.get(zone, 0)
            total = sum(self.nodes.values())
            fenced = fence is not None and fence.workload.survivors(zone) > 0
            if not fenced and unready > self.v("ca.okTotalUnreadyCount") and unready > total * self.v(
                    "ca.maxTotalUnreadyPercentage") / 100:
                # cluster-autoscaler halts past these; nothing safe deletes the lost nodes on its own.
                steps.append(Step(f"on-call deletes the zone's {unready} Node objects (cluster-autoscaler halts with "
                                  f"{unready} of {total} unready, > {self.v('ca.okTotalUnreadyCount'):.0f} and > "
                                  f"{self.v('ca.maxTotalUnreadyPercentage'):.0f}%)", self.v("operator.fence"),
                                  ("operator.fence",)))
            steps += [Step(f"autoscaler adds nodes in {', '.join(others)}", self.v("ca.scanInterval"),
                           ("ca.scanInterval",)),
                      Step("ECS instances created and joined", self.v("node.provisioning"), ("node.provisioning",)),
                      Step("Milvus image pulled", self.v("pod.imagePull"), ("pod.imagePull",))]
        steps.append(Step("Milvus components start and register", self.v("milvus.start"), ("milvus.start",)))
        if load:
            qn = max(1, self.query_nodes)
            seconds = self.v("data.size") * GIB / (qn * self.v("load.throughput") * MIB)
            steps.append(Step(f"segments reloaded: {self.v('data.size'):g} GiB over {qn} query node(s)", seconds,
                              ("data.size", "load.throughput")))
        return steps, None

    def health_checks(self) -> Step:
        """Proxies mark a lost query node unreachable: the next tick, then retryTimes failed checks, each
        waiting up to healthCheckTimeout (a tick arriving during a check runs right after it)."""
        interval, timeout = self.v("proxy.checkQueryNodeHealthInterval"), self.v("proxy.healthCheckTimeout")
        t = interval + self.v("proxy.retryTimesOnHealthCheck") * max(interval, timeout)
        return Step("proxies mark the lost replica's query nodes unreachable (look-aside health checks)", t,
                    ("proxy.checkQueryNodeHealthInterval", "proxy.retryTimesOnHealthCheck", "proxy.healthCheckTimeout"))

    @staticmethod
    def single_node_replicas(rel: MilvusRelease, q: Workload) -> bool:
        """Without resource groups, do the query replicas survive a zone one by one? Only when each replica is
        one query node (the cluster-level replica number equals the query nodes, so Milvus gives each replica
        its own node) and the nodes are held one per zone: then a zone takes whole replicas, never part of each.
        The cluster-level number applies only when the load request sets no replica_number (brief section 5)."""
        n = as_int(rel.config("queryCoord.clusterLevelLoadReplicaNumber")) or 1
        return n >= 2 and q.replicas == n and q.placement.hard_zone_spread and len(q.zones) >= 2

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
        etcd = _etcd(rel, dep, zone)
        holds = [f"{p.name} ({n} node{'s' if n != 1 else ''})" for p in dep.pools
                 for z, n in p.nodes_by_zone().items() if z == zone]
        redundancy = dep.bucket_redundancy(rel)
        data: dict[str, Any] = {"bucket": redundancy, "lost": redundancy != "ZRS",
                "note": ("bucket is zone-redundant (ZRS)" if redundancy == "ZRS" else
                         "bucket is locally redundant (LRS): one zone holds it; losing that zone loses access, "
                         "destroying it loses the data")}
        if rel is None:
            empty = Path(blocked="no Milvus release in the stack")
            return Scenario(zone, holds, etcd, {}, data, [], empty, empty, empty, "nothing", None, "no Milvus")

        wal = _wal(rel, dep, zone)
        fence = dep.controller("fence-zone")
        comps = {name: rel.component(name, dep.pools) for name in ("proxy", "mixCoordinator", "dataNode",
                                                                    "queryNode", "streamingNode")}
        groups = rel.group_components("queryNode", dep.pools)
        streaming = rel.group_components("streamingNode", dep.pools)
        if groups:
            comps.pop("queryNode"), comps.pop("streamingNode")
        gone = [f"{w.name}: {w.worst_in(zone)} of {w.replicas}"
                for w in [*comps.values(), *groups.values(), *streaming.values()] if w.worst_in(zone)]
        if etcd["in_zone"]:
            gone.append(f"etcd: {etcd['in_zone']} of {etcd['members']} members")

        if etcd["quorum_kept"] is False:
            data["lost"] = True
            data["note"] += (f"; etcd: {etcd['in_zone']} of {etcd['members']} members' disks are in the zone, so the "
                             "metadata is unavailable, and lost if the zone is destroyed")
        rpo, rpo_reason = _rpo(wal, data)
        if etcd["quorum_kept"] is False:
            blocked = Path(blocked="etcd quorum lost: Milvus components stop until the zone returns")
            return Scenario(zone, holds, etcd, wal, data, gone, blocked, blocked, blocked,
                            "nothing (no zone-level recovery)", rpo, rpo_reason)
        notes: list[str] = []
        writes, wal_stalled = self._writes(rel, comps, streaming, wal, etcd, zone, fence, notes)
        reads = self._reads(rel, comps, groups, zone, fence)
        if groups and not rel.wal_follows_groups() and wal_stalled and not reads.blocked and not writes.blocked:
            # Before 2.6.16 the WAL and the channels' delegators sit on any group's streaming nodes.
            version, where = rel.milvus_version()
            notes.append(f"Milvus {'.'.join(map(str, version)) if version else '?'} ({where}) predates streaming-node "
                         "resource groups (2.6.16): the lost zone's streaming nodes may serve the surviving replica's "
                         "channels, so its reads wait for them to be reassigned too")
            if (writes.seconds or 0) > (reads.seconds or 0):
                reads = Path(list(writes.steps))
        if wal.get("quorum_kept") is False:
            blocked = Path(blocked=f"{wal['kind']} loses its write quorum")
            return Scenario(zone, holds, etcd, wal, data, gone, reads, blocked, blocked, "reads only", rpo,
                            rpo_reason, notes=notes)
        bounded = writes if wal_stalled else reads
        if etcd["in_zone"]:
            for path in {id(reads): reads, id(writes): writes}.values():
                if not path.steps and not path.blocked:
                    path.steps.append(Step("etcd elects a new leader if it was here (metadata and DDL pause)",
                                           2 * self.v("etcd.electionTimeout"), ("etcd.electionTimeout",)))
        serves = self._serves_after(comps, groups, zone, reads, writes)
        return Scenario(zone, holds, etcd, wal, data, gone, reads, writes, bounded, serves, rpo, rpo_reason,
                        notes=notes)

    def _reads(self, rel: MilvusRelease, comps: dict[str, Workload], groups: dict[str, Workload], zone: str,
               fence: Controller | None) -> Path:
        proxy = comps["proxy"]
        replicas = list(groups.values()) if groups else [comps["queryNode"]]
        surviving = [g for g in replicas if g.survivors(zone) >= g.replicas and g.replicas > 0]
        if not groups and self.single_node_replicas(rel, comps["queryNode"]) and comps["queryNode"].survivors(zone):
            surviving = [comps["queryNode"]]
        path = Path()
        if not surviving:
            lost = next((g for g in replicas if g.worst_in(zone)), None)
            if lost is None:
                return path
            # No complete replica outside the zone: the lost query nodes' share is reloaded elsewhere.
            steps, why = self.relaunch(lost, zone, fence, load=True)
            return Path(steps, why)
        if proxy.worst_in(zone):
            if proxy.survivors(zone) <= 0:
                steps, why = self.relaunch(proxy, zone, fence)
                return Path(steps, why)
            if dig(rel.values, "service", "type") == "LoadBalancer":
                t = self.v("lb.unhealthyThreshold") * self.v("lb.healthCheckInterval") + self.v("lb.connectTimeout")
                path.steps.append(Step("load balancer takes the zone's proxies out (health checks)", t,
                                       ("lb.unhealthyThreshold", "lb.healthCheckInterval", "lb.connectTimeout")))
            else:
                path.steps.append(Step("Service endpoints drop the zone's proxies when nodes go NotReady",
                                       self.v("k8s.nodeMonitorGracePeriod"), ("k8s.nodeMonitorGracePeriod",)))
        if any(g.worst_in(zone) for g in replicas):
            path.steps.append(self.health_checks())
        if len(path.steps) > 1:  # these run in parallel: the slowest counts
            slowest = max(path.steps, key=lambda s: s.seconds)
            path.steps = [Step(f"in parallel, the slowest: {slowest.what}", slowest.seconds, slowest.params)]
        return path

    def _writes(self, rel: MilvusRelease, comps: dict[str, Workload], streaming: dict[str, Workload],
                wal: dict, etcd: Mapping[str, Any], zone: str, fence: Controller | None,
                notes: list[str]) -> tuple[Path, bool]:
        """Writes need the active mixCoord (timestamps, the streaming coordinator) and the WAL."""
        coord = comps["mixCoordinator"]
        expiry = self.session_expiry(etcd)
        expiry_s = sum(s.seconds for s in expiry)
        coord_steps: list[Step] = []
        if coord.worst_in(zone):
            if coord.survivors(zone) > 0 and coord.active_standby:
                coord_steps = [Step("the standby mixCoord becomes active and activates the coordinators",
                                    self.v("milvus.coordActivation"), ("milvus.coordActivation",))]
            else:
                steps, why = self.relaunch(coord, zone, fence)
                if why:
                    return Path(steps, why), True
                waited = sum(s.seconds for s in steps)
                coord_steps = [*steps, Step("the new mixCoord waits for the old session to expire",
                                            max(0.0, expiry_s - waited), ("milvus.session.ttl",))]
                expiry = []
        wal_steps: list[Step] = []
        stalled = relaunched = False
        if wal["kind"] == "woodpecker":
            primary = wal.get("primary_group")
            owner = streaming.get(primary) if primary else None
            if owner is not None and rel.wal_follows_groups():
                if owner.worst_in(zone) >= owner.replicas:
                    stalled = True
                    wal_steps = [Step(f"the WAL falls back from group {primary} to the group with most live "
                                      "streaming-node sessions and reopens there", self.v("milvus.walRecovery"),
                                      ("milvus.walRecovery",))]
                    notes.append(f"When {zone} returns, the WAL moves back to group {primary} (a second stall) unless "
                                 "streaming.primaryResourceGroup was pinned to the surviving group "
                                 "(docs/failover-controller.md); the switch does not shorten this outage.")
            else:
                lost = [w for w in (streaming.values() if streaming else [comps["streamingNode"]]) if w.worst_in(zone)]
                if lost:
                    stalled = True
                    if any(w.survivors(zone) > 0 for w in lost) or len(lost) < max(1, len(streaming)):
                        wal_steps = [Step("the lost streaming nodes' channels move to a surviving streaming node and "
                                          "reopen", self.v("milvus.walRecovery"), ("milvus.walRecovery",))]
                    else:
                        steps, why = self.relaunch(lost[0], zone, fence)
                        if why:
                            return Path(steps, why), True
                        wal_steps, relaunched = steps, True
        elif wal["kind"] in ("pulsar", "kafka") and wal.get("in_zone"):
            key = "pulsar.zkSessionTimeout" if wal["kind"] == "pulsar" else "kafka.sessionTimeout"
            wal_steps, stalled, relaunched = [Step(f"{wal['kind']} moves the lost brokers' topics", self.v(key),
                                                   (key,))], True, True
        if not coord_steps and not wal_steps:
            return Path(), False
        if relaunched:  # the WAL comes back on its own clock, in parallel with the coordinator
            return self._longer([*expiry, *coord_steps] if coord_steps else [], wal_steps), True
        # Both wait for the sessions to expire; the WAL is balanced by the streaming coordinator inside the
        # active mixCoord, so a coordinator takeover comes first.
        return Path([*expiry, *coord_steps, *wal_steps]), stalled or bool(coord_steps)

    @staticmethod
    def _longer(a: list[Step], b: list[Step]) -> Path:
        return Path(a if sum(s.seconds for s in a) >= sum(s.seconds for s in b) else b)

    def _serves_after(self, comps, groups, zone, reads: Path, writes: Path) -> str:
        left = [g for g, w in groups.items() if w.survivors(zone) >= w.replicas]
        if groups:
            who = f"query replica(s) in group {', '.join(left)}" if left else "no complete query replica"
        else:
            q = comps["queryNode"]
            who = ("query nodes outside the zone" if q.survivors(zone) > 0 else
                   "query nodes relaunched outside the zone" if not reads.blocked else "no query nodes")
        proxies = "surviving proxies" if comps["proxy"].survivors(zone) > 0 else "relaunched proxies"
        return f"reads: {who} via {proxies}; writes: " + ("blocked" if writes.blocked else "resume on the surviving WAL")


def _rpo(wal: dict, data: dict) -> tuple[float | None, str]:
    if data["lost"]:
        return None, data["note"]
    if wal.get("durable") is None and wal.get("kind", "").startswith("external"):
        return None, f"{wal.get('kind')}: outside the stack, not modeled"
    if not wal.get("durable", False):
        return None, f"{wal.get('kind')}: acknowledged writes are not guaranteed a copy outside one zone"
    return 0.0, f"acknowledged writes have a copy outside the zone ({wal.get('note')}); bucket ZRS"


def analyse(dep: Deployment, params: Mapping[str, Param] | None = None, stack: str = "", mode: str | None = None
            ) -> Report:
    """Every zone of one deployment taken away in turn."""
    p = parameters(dep, params)
    model = ZoneLoss(dep, p)
    zones = dep.zones
    scenarios = [model.scenario(z) for z in zones]
    zone_recovery = any(s.reads.seconds is not None or s.writes.seconds is not None for s in scenarios)
    notes = []
    if not zone_recovery:
        notes.append("No zone-level disaster recovery: losing " + ("the zone" if len(zones) == 1 else "any one zone")
                     + " stops the service until it returns"
                     + (" (as the seed says of single-zone instances)." if len(zones) == 1 else "."))
    return Report(stack, mode, zones, p, scenarios, zone_recovery, notes)


# ---- a region ---------------------------------------------------------------------------------------

def stack_outputs(topology: Topology) -> Mapping[str, Any]:
    stack = next((r for r in topology.resources if r.resource_type == STACK), None)
    return stack.props if stack is not None else {}


def region_params(topology: Topology) -> dict[str, Param]:
    """What a region loss depends on: replication lag, the operator's failover, the client record's TTL."""
    ttl = _num(next((r.props.get("ttl") for r in topology.of_type(PRIVATE_ZONE_RECORD)
                     if r.props.get("rr") == "milvus"), None))
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
        Param("dns.ttl", ttl if ttl is not None else 30, "s",
              "config: PrivateZone record milvus ttl" if ttl is not None else "assumed: client record TTL"),
    ]
    return {x.key: x for x in p}


def _region_scenario(region: str, primary: str | None, regional: Report, params: Mapping[str, Param]) -> Scenario:
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


def _managed_mode(instances: Iterable[Any]) -> str | None:
    i = next(iter(instances)).props
    if str(dig(i, "multiZoneMode", default="Single")) == "Single":
        return "single-zone"
    return "multi-zone-ha" if dig(i, "ha") else "multi-zone-basic"


def deployments_with_milvus(topology: Topology) -> list[Deployment]:
    """The deployments that run Milvus (all of them when none does), by zone (the engine registers
    resources in no fixed order, so the clusters' order varies from run to run)."""
    deps = sorted(topology.deployments, key=lambda d: (d.zones, d.name))
    return [d for d in deps if d.releases] or deps


def report(topology: Topology, params: Mapping[str, Param] | None = None, stack: str = "") -> Report:
    """The zone (and region) losses of a whole stack: one report, every deployment's scenarios."""
    mode = topology.mode()
    if mode is None:  # undeclared or disagreeing: say what the resources say, if they agree at all
        modes = {d.mode for d in topology.declarations()}
        mode = next(iter(modes)) if len(modes) == 1 else None
    instances = topology.instances
    if instances and not topology.releases:
        zones = sorted({str(dig(v, "zoneId")) for i in instances for v in dig(i.props, "vswitchIds", default=[]) or []
                        if is_map(v) and dig(v, "zoneId")})
        return Report(stack, mode or _managed_mode(instances), zones, {}, [], True,
                      ["Managed service (alicloud.MilvusInstance): zone failover is the service's own (the seed: "
                       "basic RTO < 1 h, HA RTO < 3 min); no configuration here to model."], kind="managed")
    deps = deployments_with_milvus(topology)
    if len(deps) == 1:
        return analyse(deps[0], params, stack, mode)
    if mode != "cross-region-ha":
        # Several Milvus deployments in one stack (not the regions of one): each zone scenario is its own.
        parts = [analyse(d, params, stack, d.mode(mode)) for d in deps]
        return Report(stack, mode or ", ".join(sorted(topology.modes())) or None,
                      [z for p in parts for z in p.zones], dict(parts[0].params),
                      [s for p in parts for s in p.scenarios], any(p.zone_recovery for p in parts),
                      [f"{len(deps)} Milvus deployments: "
                       + "; ".join(f"{d.name} ({d.mode(mode) or 'mode not declared'})" for d in deps)
                       + ". Zone scenarios are per deployment."] + [n for p in parts for n in p.notes])
    parts = [analyse(d, params, stack, mode) for d in deps]
    primary = stack_outputs(topology).get("primaryRegion")
    merged = Report(stack, mode, [z for p in parts for z in p.zones], dict(parts[0].params),
                    [s for p in parts for s in p.scenarios], True,
                    [f"{len(deps)} regions; primary {primary or 'not declared'}. Zone scenarios are per region; "
                     "region scenarios follow."])
    rparams = region_params(topology)
    merged.params.update(rparams)
    for d, part in zip(deps, parts, strict=True):
        region = region_of_zone(part.zones[0]) if part.zones else d.name
        merged.scenarios.append(_region_scenario(region, primary, part, rparams))
    return merged


__all__ = [
    "TARGETS",
    "Param",
    "Path",
    "Report",
    "Scenario",
    "Step",
    "ZoneLoss",
    "analyse",
    "defaults",
    "deployments_with_milvus",
    "fmt_s",
    "parameters",
    "region_params",
    "report",
]
