"""Recovery budgets after losing a zone: the configured timeouts must fit the mode's RTO.

The sums are the zone-failure model's (docs/failures.md), restated here because the pack does not
import milvus_zones: multi-zone-ha serves reads again within 10 s and writes within 60 s;
multi-zone-basic relaunches its compute in the secondary zone within 15 minutes. Figures no stack
sets (node monitor grace period, node provisioning, segment load throughput, ...) are policy config.

Advisory by default: every check reports them, but the sums rest on figures nobody measured here
(docs/failures.md), so only a pipeline that opts in fails on them, with
`{"ha-failover-within-rto": "mandatory", "basic-recovery-within-rto": "mandatory"}` in
the policy config (`milvus-zones check --policy-config`, `pulumi preview --policy-pack-config`). The
budgets default to the seed's RTO for the mode (HA < 3 min, basic < 1 h); this library's own stacks
are held to 10 s / 60 s and 15 min in its tests (policy config readRtoSeconds/writeRtoSeconds/rtoSeconds).
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema

from ._policy import mode_or_skip, releases_or_skip, stack_policy
from ._values import as_int, dig, is_list, is_map
from .topology import MULTI_ZONE_BASIC, MULTI_ZONE_HA, Placement, hard_zone_spread

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
FAILOVER_LABEL = "milvus-zones/failover"
UNREACHABLE = "node.kubernetes.io/unreachable"
NLB = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-"
DEFAULT_TOLERATION_S = 300  # DefaultTolerationSeconds admission plugin
# Advisory unless the policy config makes them mandatory: see the module docstring.
ADVISORY = EnforcementLevel.ADVISORY

_COMMON = {
    "nodeMonitorGraceSeconds": {"type": "number", "default": 50,
                                "description": "kube-controller-manager node monitor grace period (50 s since 1.29)."},
    "podStartSeconds": {"type": "number", "default": 30, "description": "Milvus components start and register."},
}
HA_CONFIG = PolicyConfigSchema(properties={
    **_COMMON,
    # The seed's RTO for the mode (< 3 min); this library's generated stacks are tested at 10 s / 60 s.
    "readRtoSeconds": {"type": "number", "default": 180, "description": "Reads back within this after a zone loss."},
    "writeRtoSeconds": {"type": "number", "default": 180, "description": "Writes back within this after a zone loss."},
    "coordActivationSeconds": {"type": "number", "default": 10, "description": "Standby mixCoord activation."},
    "walRecoverySeconds": {"type": "number", "default": 10, "description": "WAL reopened on another streaming node."},
    "configRefreshSeconds": {"type": "number", "default": 5, "description": "Milvus etcd config source refresh."},
})
BASIC_CONFIG = PolicyConfigSchema(properties={
    **_COMMON,
    # The seed's RTO for the mode (< 1 h); this library's generated stacks are tested at 15 min.
    "rtoSeconds": {"type": "number", "default": 3600, "description": "Compute relaunched and loaded within this."},
    "dataSizeGiB": {"type": "number", "default": 100, "description": "Data the query nodes reload."},
    "loadThroughputMiBps": {"type": "number", "default": 100, "description": "Segment load per query node."},
    "provisioningSeconds": {"type": "number", "default": 120, "description": "New ECS node created and joined."},
    "scanIntervalSeconds": {"type": "number", "default": 60, "description": "Node autoscaler scan interval."},
    "imagePullSeconds": {"type": "number", "default": 60, "description": "Milvus image pulled on a new node."},
})


def _cfg(args, schema: PolicyConfigSchema) -> dict[str, float]:
    given = args.get_config() or {}
    return {k: float(given.get(k, v["default"])) for k, v in schema.properties.items()}


def _user(rel, dotted: str) -> Any:
    return dig(rel.user_yaml(), *dotted.split("."))


def _num(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def toleration_seconds(tolerations: Any) -> float:
    """How long a pod stays on an unreachable node: its NoExecute toleration, else Kubernetes' 300 s."""
    found = [t for t in (tolerations if is_list(tolerations) else []) if is_map(t)
             and (dig(t, "effect") or "NoExecute") == "NoExecute"
             and (dig(t, "key") == UNREACHABLE or (dig(t, "operator") == "Exists" and not dig(t, "key")))]
    if not found:
        return DEFAULT_TOLERATION_S
    seconds = [as_int(dig(t, "tolerationSeconds")) for t in found]
    return float("inf") if any(s is None for s in seconds) else float(min(seconds))


def _component_tolerations(rel, name: str) -> Any:
    return rel.get(name, "tolerations", default=None) or rel.get("tolerations", default=[])


def _controllers(topology, action: str) -> list:
    out = []
    for res in topology.of_type(DEPLOYMENT):
        if dig(res.props, "metadata", "labels", FAILOVER_LABEL) == action:
            out.append(res)
    return out


def _controller_ok(res) -> tuple[bool, dict[str, float]]:
    """Two or more replicas held in different zones (so one outlives the zone), and its timings."""
    spec = dig(res.props, "spec", default={})
    pod = dig(spec, "template", "spec", default={})
    spread, _ = hard_zone_spread(pod)
    env = {}
    for c in dig(pod, "containers", default=[]) or []:
        for e in dig(c, "env", default=[]) or []:
            if is_map(e) and dig(e, "name"):
                env[str(dig(e, "name"))] = _num(dig(e, "value"), 0)
    return spread and (as_int(dig(spec, "replicas")) or 1) >= 2, env


def zone_loss_blockers(rel, dep, topology) -> list[str]:
    """What stops Milvus until a lost zone returns, whatever the timeouts: etcd quorum, an LRS bucket."""
    out = []
    if rel.etcd_enabled:
        block = rel.get("etcd", default={}) or {}
        n = rel.etcd_replicas
        zones = {z for p in Placement.from_values(block).pools(dep.pools) if p.size > 0 for z in p.zones}
        spread, _ = hard_zone_spread(block)
        worst = -(-n // len(zones)) if spread and zones else n
        if zones and n - worst < n // 2 + 1:
            out.append(f"etcd's {n} members sit in {len(zones)} zone(s) ({', '.join(sorted(zones))}): losing one can "
                       f"take {worst} of them and etcd's quorum, and Milvus stops until that zone returns")
    bucket = topology.bucket_of(rel)
    if bucket is not None and str(dig(bucket.props, "redundancyType", default="LRS")) != "ZRS":
        out.append(f"bucket {bucket.name} is locally redundant (LRS): it lives in one zone, and losing that zone "
                   "stops Milvus (its data and Woodpecker WAL) until the zone returns")
    return out


def _has_survivor(rel, name: str, pools) -> bool:
    block = rel.get(name, default={}) or {}
    replicas = as_int(dig(block, "replicas")) or 1
    spread, _ = hard_zone_spread(block if dig(block, "topologySpreadConstraints") else rel.values)
    zones = {z for p in Placement.from_values(block, rel.values).pools(pools) for z in p.zones}
    return replicas >= 2 and spread and len(zones) >= 2


@stack_policy(
    name="ha-failover-within-rto",
    description="multi-zone-ha: after losing any one zone the configured timeouts bring reads back within 10 s "
                "and writes within 60 s (coordinators, proxies, load balancer and proxy health checks, session "
                "TTL, the WAL's switch to the surviving resource group, node-failure tolerations).",
    level=ADVISORY,
    remediation="Spread proxy and mixCoordinator over the compute zones (topologySpreadConstraints, 2+ replicas) "
                "or give them short unreachable tolerations; set common.session.ttl (user.yaml), the NLB health-"
                "check annotations and proxy.healthCheckTimeout/retryTimesOnHealthCheck small enough; on 2.6 "
                "with replicaResourceGroups run the failover controller (label milvus-zones/failover=switch-wal, "
                "2 replicas spread over zones). `milvus-zones failures STACK` shows the sums.",
    tags=["ha", "rto", "zones"],
    config_schema=HA_CONFIG,
)
def ha_failover_within_rto(args, report, topology):
    releases_or_skip(args, topology)
    mode = mode_or_skip(args, topology, ha_only=True)
    c = _cfg(args, HA_CONFIG)
    ran = False
    for dep in topology.deployments:
        if dep.mode(mode) != MULTI_ZONE_HA:
            continue
        for rel in dep.releases:
            ran = True
            where = f"Milvus release {rel.res.name}"
            _check_ha_release(rel, dep, topology, c, where, report)
    if not ran:
        args.not_applicable("no deployment held to multi-zone-ha")


def _check_ha_release(rel, dep, topology, c, where, report) -> None:
    for blocker in zone_loss_blockers(rel, dep, topology):
        report(f"{where}: no RTO can be met: {blocker}.", rel.res.urn)
    grace, start = c["nodeMonitorGraceSeconds"], c["podStartSeconds"]
    ttl = _num(_user(rel, "common.session.ttl"), 30)
    # Pods with no replica guaranteed outside the lost zone wait for eviction, then start elsewhere.
    for name, budget, kind in (("mixCoordinator", c["writeRtoSeconds"], "writes"),
                               ("proxy", c["readRtoSeconds"], "reads")):
        if _has_survivor(rel, name, dep.pools):
            continue
        tol = toleration_seconds(_component_tolerations(rel, name))
        total = grace + tol + start
        if total > budget:
            report(f"{where}: {name} has no replica guaranteed outside a lost zone (2+ replicas with a hard zone "
                   f"spread over 2+ zones), so {kind} wait for its eviction: node monitor grace {grace:g} s + "
                   f"unreachable tolerationSeconds {tol:g} s" + (" (Kubernetes' default)" if tol == 300 else "")
                   + f" + start {start:g} s = {total:g} s > {budget:g} s.", rel.res.urn)
    takeover = ttl + c["coordActivationSeconds"] + c["walRecoverySeconds"]
    if takeover > c["writeRtoSeconds"]:
        report(f"{where}: common.session.ttl {ttl:g} s (user.yaml; Milvus default 30 s) + standby activation "
               f"{c['coordActivationSeconds']:g} s + WAL recovery {c['walRecoverySeconds']:g} s = {takeover:g} s > "
               f"{c['writeRtoSeconds']:g} s for writes.", rel.res.urn)
    if dig(rel.values, "service", "type") == "LoadBalancer":
        ann = dig(rel.values, "service", "annotations", default={}) or {}
        lb = (_num(ann.get(NLB + "unhealthy-threshold"), 2) * _num(ann.get(NLB + "health-check-interval"), 10)
              + _num(ann.get(NLB + "health-check-connect-timeout"), 5))
        if lb > c["readRtoSeconds"]:
            report(f"{where}: the load balancer takes a lost zone's proxies out after unhealthy-threshold x "
                   f"health-check-interval + connect-timeout = {lb:g} s > {c['readRtoSeconds']:g} s for reads; set "
                   "the alibaba-cloud-loadbalancer health-check annotations on `service`.", rel.res.urn)
    proxy = (_num(_user(rel, "proxy.retryTimesOnHealthCheck"), 3)
             * (_num(_user(rel, "proxy.checkQueryNodeHealthInterval"), 1000)
                + _num(_user(rel, "proxy.healthCheckTimeout"), 3000)) / 1000)
    if proxy > c["readRtoSeconds"]:
        report(f"{where}: proxies stop routing to a lost replica's query nodes after retryTimesOnHealthCheck x "
               f"(checkQueryNodeHealthInterval + healthCheckTimeout) = {proxy:g} s > {c['readRtoSeconds']:g} s; set "
               "proxy.healthCheckTimeout and proxy.retryTimesOnHealthCheck in user.yaml.", rel.res.urn)
    minor, _ = rel.milvus_minor()
    groups = rel.get("replicaResourceGroups", default=[]) or []
    if minor is not None and minor >= (2, 6) and is_list(groups) and len(groups) > 1:
        ok = [(r, env) for r in _controllers(topology, "switch-wal") for good, env in [_controller_ok(r)] if good]
        if not ok:
            report(f"{where}: on Milvus 2.6 the WAL lives on streaming.primaryResourceGroup's streaming nodes; with "
                   "no failover controller (Deployment labelled milvus-zones/failover=switch-wal, 2+ replicas "
                   "spread over zones) writes stay down after losing that group's zone until someone switches it.",
                   rel.res.urn)
            return
        res, env = ok[0]
        streaming = as_int(rel.get("streamingNode", "replicas")) or 1
        detect = env.get("FAILURE_THRESHOLD", 3) * max(env.get("PROBE_INTERVAL_SECONDS", 1),
                                                       streaming * env.get("PROBE_TIMEOUT_SECONDS", 1))
        total = max(detect + c["configRefreshSeconds"], ttl + c["coordActivationSeconds"]) + c["walRecoverySeconds"]
        if total > c["writeRtoSeconds"]:
            report(f"{where}: the WAL switch takes max(detection {detect:g} s + config refresh "
                   f"{c['configRefreshSeconds']:g} s, coordinator takeover {ttl + c['coordActivationSeconds']:g} s) "
                   f"+ WAL recovery {c['walRecoverySeconds']:g} s = {total:g} s > {c['writeRtoSeconds']:g} s.",
                   res.urn)


@stack_policy(
    name="basic-recovery-within-rto",
    description="multi-zone-basic: after losing the primary zone, compute is relaunched in the secondary zone "
                "and the data reloaded within 15 minutes (eviction or fencing, autoscaling, provisioning, load).",
    level=ADVISORY,
    remediation="Let the compute pool span primary and secondary zones with autoscaling (scalingConfig maxSize "
                "above its size), run the zone-fencing controller (label milvus-zones/failover=fence-zone, 2 "
                "replicas spread over zones) or short unreachable tolerations, and size query nodes for the data "
                "(policy config dataSizeGiB). `milvus-zones failures STACK` shows the sums.",
    tags=["basic", "rto", "zones"],
    config_schema=BASIC_CONFIG,
)
def basic_recovery_within_rto(args, report, topology):
    releases_or_skip(args, topology)
    mode = mode_or_skip(args, topology, multi_zone_only=True)
    c = _cfg(args, BASIC_CONFIG)
    ran = False
    for dep in topology.deployments:
        if dep.mode(mode) != MULTI_ZONE_BASIC:
            continue
        ran = True
        _check_basic(dep, topology, c, report)
    if not ran:
        args.not_applicable(f"mode is {mode}; this rule is for multi-zone-basic")


def _check_basic(dep, topology, c, report) -> None:
    pools = dep.compute_pools()
    if not pools or not dep.releases:
        return
    rel = dep.releases[0]
    where = f"Milvus release {rel.res.name}"
    for blocker in zone_loss_blockers(rel, dep, topology):
        report(f"{where}: no RTO can be met: {blocker}.", rel.res.urn)
    relaunch = [p for p in pools if len(p.zones) >= 2 and (p.max_size or 0) > p.size]
    if not relaunch:
        names = ", ".join(sorted(p.res.name for p in pools))
        report(f"{where}: no compute pool ({names}) can add nodes in another zone (a pool over primary and "
               "secondary with autoscaling, scalingConfig maxSize above its size), so nothing relaunches compute "
               "after the primary zone is lost.", pools[0].res.urn)
        return
    fence = [r for r in _controllers(topology, "fence-zone") if _controller_ok(r)[0]]
    steps: list[tuple[str, float]] = [("node monitor grace", c["nodeMonitorGraceSeconds"])]
    if fence:
        env = _controller_ok(fence[0])[1]
        steps.append(("zone fenced by the failover controller", env.get("FENCE_AFTER_SECONDS", 10)
                      + env.get("PROBE_INTERVAL_SECONDS", 1)))
    else:
        # The lost zone's nodes stay NotReady: the cluster autoscaler halts past 3 and 45% unready nodes.
        unready = sum(p.size for p in relaunch) + max(
            (sum(p.size for p in dep.pools if p.zones == frozenset({z}) and p not in relaunch)
             for z in set().union(*(p.zones for p in relaunch))), default=0)
        total = sum(p.size for p in dep.pools)
        if unready > 3 and unready > 0.45 * total:
            report(f"{where}: losing the primary zone leaves up to {unready} of {total} nodes unready, which stops the "
                   "cluster autoscaler (--ok-total-unready-count 3, --max-total-unready-percentage 45); without the "
                   "zone-fencing controller nothing removes them and compute is never relaunched.", rel.res.urn)
            return
        steps.append(("unreachable tolerationSeconds", toleration_seconds(_component_tolerations(rel, "queryNode"))))
    query = as_int(rel.get("queryNode", "replicas")) or 1
    steps += [("autoscaler scan", c["scanIntervalSeconds"]), ("node provisioning", c["provisioningSeconds"]),
              ("image pull", c["imagePullSeconds"]), ("start", c["podStartSeconds"]),
              (f"load {c['dataSizeGiB']:g} GiB on {query} query node(s)",
               c["dataSizeGiB"] * 1024 / (query * c["loadThroughputMiBps"]))]
    total = sum(s for _, s in steps)
    if total > c["rtoSeconds"]:
        parts = " + ".join(f"{name} {s:.0f} s" for name, s in steps)
        report(f"{where}: relaunching compute in the secondary zone takes {parts} = {total:.0f} s > "
               f"{c['rtoSeconds']:g} s.", rel.res.urn)


__all__ = ["ha_failover_within_rto", "basic_recovery_within_rto", "toleration_seconds", "zone_loss_blockers"]
