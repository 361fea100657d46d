"""Recovery budgets after losing a zone: the zone-loss model's figures must fit the mode's RTO.

The figures are the recovery model's (model/recovery.py, docs/failures.md), the one `milvus-zones
failures` shows: multi-zone-ha serves reads and writes again after the verified mechanics (etcd
re-election and lease renewal, session TTL, proxy health checks, mixCoord takeover, the WAL's
fallback); multi-zone-basic relaunches its compute in the secondary zone. Figures no stack sets
(node monitor grace period, node provisioning, segment load throughput, the unmeasured mixCoord
activation and WAL reopening) are policy config, with the model's defaults.

Advisory by default: every check reports them, but the sums rest on figures nobody measured here
(docs/failures.md), so only a pipeline that opts in fails on them, with
`{"ha-failover-within-rto": "mandatory", "basic-recovery-within-rto": "mandatory"}` in
the policy config (`milvus-zones check --policy-config`, `pulumi preview --policy-pack-config`). The
budgets default to the seed's RTO for the mode (HA < 3 min, basic < 1 h); this library's own
targets (10 s reads / 60 s writes; basic at the seed's 1 h, since on-call fences a lost zone) are
policy config readRtoSeconds/writeRtoSeconds/rtoSeconds.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema

from ._policy import mode_or_skip, releases_or_skip, stack_policy
from .model.deployment import MULTI_ZONE_BASIC, MULTI_ZONE_HA, Placement
from .model.recovery import Param, analyse, defaults
from .model.values import dig, is_list

UNREACHABLE = "node.kubernetes.io/unreachable"
DEFAULT_TOLERATION_S = 300  # DefaultTolerationSeconds admission plugin
# Advisory unless the policy config makes them mandatory: see the module docstring.
ADVISORY = EnforcementLevel.ADVISORY

_D = defaults()
_COMMON = {
    "nodeMonitorGraceSeconds": {"type": "number", "default": _D["k8s.nodeMonitorGracePeriod"].value,
                                "description": "kube-controller-manager node monitor grace period (50 s since 1.29)."},
    "podStartSeconds": {"type": "number", "default": _D["milvus.start"].value,
                        "description": "Milvus components start and register."},
}
HA_CONFIG = PolicyConfigSchema(properties={
    **_COMMON,
    # The seed's RTO for the mode (< 3 min); this library's own target is 10 s / 60 s.
    "readRtoSeconds": {"type": "number", "default": 180, "description": "Reads back within this after a zone loss."},
    "writeRtoSeconds": {"type": "number", "default": 180, "description": "Writes back within this after a zone loss."},
    "coordActivationSeconds": {"type": "number", "default": _D["milvus.coordActivation"].value,
                               "description": "Standby mixCoord activation (assumed, not measured)."},
    "walRecoverySeconds": {"type": "number", "default": _D["milvus.walRecovery"].value,
                           "description": "WAL reopened on another streaming node (assumed, not measured)."},
})
BASIC_CONFIG = PolicyConfigSchema(properties={
    **_COMMON,
    # The seed's RTO for the mode (< 1 h), which this library's generated stacks are tested at too.
    "rtoSeconds": {"type": "number", "default": 3600, "description": "Compute relaunched and loaded within this."},
    "dataSizeGiB": {"type": "number", "default": 100, "description": "Data the query nodes reload."},
    "loadThroughputMiBps": {"type": "number", "default": 100, "description": "Segment load per query node."},
    "provisioningSeconds": {"type": "number", "default": _D["node.provisioning"].value,
                            "description": "New ECS node created and joined."},
    "scanIntervalSeconds": {"type": "number", "default": _D["ca.scanInterval"].value,
                            "description": "Node autoscaler scan interval."},
    "imagePullSeconds": {"type": "number", "default": _D["pod.imagePull"].value,
                         "description": "Milvus image pulled on a new node."},
    "operatorFenceSeconds": {"type": "number", "default": _D["operator.fence"].value,
                             "description": "On-call confirms the zone lost and deletes its Node objects."},
})
# policy config key -> the model's parameter
_PARAMS = {"nodeMonitorGraceSeconds": "k8s.nodeMonitorGracePeriod", "podStartSeconds": "milvus.start",
           "coordActivationSeconds": "milvus.coordActivation", "walRecoverySeconds": "milvus.walRecovery",
           "provisioningSeconds": "node.provisioning", "scanIntervalSeconds": "ca.scanInterval",
           "imagePullSeconds": "pod.imagePull", "operatorFenceSeconds": "operator.fence"}


def _cfg(args, schema: PolicyConfigSchema) -> dict[str, float]:
    given = args.get_config() or {}
    return {k: float(given.get(k, v["default"])) for k, v in schema.properties.items()}


def model_params(c: dict[str, float]) -> dict[str, Param]:
    """The recovery model's defaults with the figures this policy config gives."""
    p = defaults(c.get("dataSizeGiB", 100), c.get("loadThroughputMiBps", 100))
    for key, name in _PARAMS.items():
        if key in c and c[key] != p[name].value:
            p[name] = Param(name, c[key], p[name].unit, f"policy config {key}")
    return p


def toleration_seconds(tolerations: Any) -> float:
    """How long a pod stays on an unreachable node: its NoExecute toleration, else Kubernetes' 300 s."""
    found = Placement.from_values({"tolerations": tolerations if is_list(tolerations) else []}).toleration_seconds()
    return float(DEFAULT_TOLERATION_S) if found is None else found


def zone_loss_blockers(rel, dep, topology, analysis=None) -> list[str]:
    """What stops Milvus until a lost zone returns, whatever the timeouts: etcd quorum, an LRS bucket."""
    out = []
    analysis = analysis or analyse(dep)
    lost = [s for s in analysis.scenarios if s.etcd.get("quorum_kept") is False]
    if lost:
        e = lost[0].etcd
        zones = e.get("zones") or []
        out.append(f"etcd's {e['members']} members sit in {len(zones)} zone(s) ({', '.join(zones)}): losing "
                   f"{lost[0].zone} can take {e['in_zone']} of them and etcd's quorum, and Milvus stops until that "
                   "zone returns")
    bucket = topology.bucket_of(rel)
    if bucket is not None and str(dig(bucket.props, "redundancyType", default="LRS")) != "ZRS":
        out.append(f"bucket {bucket.name} is locally redundant (LRS): it lives in one zone, and losing that zone "
                   "stops Milvus (its data and Woodpecker WAL) until the zone returns")
    return out


@stack_policy(
    name="ha-failover-within-rto",
    description="multi-zone-ha: after losing any one zone, reads and writes come back within the budget "
                "(readRtoSeconds, writeRtoSeconds; the seed's 3 min by default) on the zone-loss model: etcd "
                "re-election and lease renewal, session TTL, proxy and load balancer health checks, mixCoord "
                "takeover, the WAL's fallback to the surviving resource group, node-failure tolerations.",
    level=ADVISORY,
    remediation="Spread proxy and mixCoordinator over the compute zones (topologySpreadConstraints, 2+ replicas) "
                "or give them short unreachable tolerations; set common.session.ttl (user.yaml), the NLB health-"
                "check annotations and proxy.healthCheckTimeout/retryTimesOnHealthCheck small enough; run a Milvus "
                "with streaming-node resource groups (2.6.16+) so the surviving replica's reads do not wait for "
                "the WAL. `milvus-zones failures STACK` shows each step and its source.",
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
        rel = dep.primary
        if rel is not None:
            ran = True
            _check_ha_release(rel, dep, topology, c, f"Milvus release {rel.res.name}", report)
    if not ran:
        args.not_applicable("no deployment held to multi-zone-ha")


def _check_ha_release(rel, dep, topology, c, where, report) -> None:
    r = analyse(dep, model_params(c))
    for blocker in zone_loss_blockers(rel, dep, topology, r):
        report(f"{where}: no RTO can be met: {blocker}.", rel.res.urn)
    for s in r.scenarios:
        for path, kind, budget in ((s.reads, "reads", c["readRtoSeconds"]), (s.writes, "writes", c["writeRtoSeconds"])):
            if path.blocked and s.etcd.get("quorum_kept") is not False:
                report(f"{where}: after losing {s.zone}, {kind} do not come back on their own: {path.blocked}.",
                       rel.res.urn)
            elif path.seconds is not None and path.seconds > budget:
                report(f"{where}: after losing {s.zone}, {kind} come back in {path.sum_text()} > {budget:g} s "
                       "(`milvus-zones failures` shows each step and its source).", rel.res.urn)


@stack_policy(
    name="basic-recovery-within-rto",
    description="multi-zone-basic: after losing the primary zone, compute is relaunched in the secondary zone "
                "and the data reloaded within the budget (eviction, on-call fencing, autoscaling, provisioning, load).",
    level=ADVISORY,
    remediation="Let the compute pool span primary and secondary zones with autoscaling (scalingConfig maxSize "
                "above its size), short unreachable tolerations, an on-call runbook that deletes a lost zone's Node "
                "objects (docs/failover-controller.md), and size query nodes for the data (policy config dataSizeGiB). "
                "`milvus-zones failures STACK` shows the sums.",
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
        args.not_applicable(f"mode is {mode or ', '.join(sorted(topology.modes()))}; this rule is for "
                            "multi-zone-basic")


def _check_basic(dep, topology, c, report) -> None:
    pools = dep.compute_pools()
    if not pools or not dep.releases:
        return
    rel = dep.primary
    where = f"Milvus release {rel.res.name}"
    r = analyse(dep, model_params(c))
    for blocker in zone_loss_blockers(rel, dep, topology, r):
        report(f"{where}: no RTO can be met: {blocker}.", rel.res.urn)
    if not [p for p in pools if len(p.zones) >= 2 and p.autoscaled]:
        names = ", ".join(sorted(p.res.name for p in pools))
        report(f"{where}: no compute pool ({names}) can add nodes in another zone (a pool over primary and "
               "secondary with autoscaling, scalingConfig maxSize above its size), so nothing relaunches compute "
               "after the primary zone is lost.", pools[0].res.urn)
        return
    for s in r.scenarios:
        if s.etcd.get("quorum_kept") is False:
            continue  # reported as a blocker
        for path, kind in ((s.reads, "reads"), (s.writes, "writes")):
            if path.blocked:
                report(f"{where}: after losing {s.zone}, {kind} do not come back on their own: {path.blocked}.",
                       rel.res.urn)
            elif path.seconds is not None and path.seconds > c["rtoSeconds"]:
                report(f"{where}: after losing {s.zone}, relaunching compute takes {path.sum_text()} > "
                       f"{c['rtoSeconds']:g} s.", rel.res.urn)


__all__ = ["basic_recovery_within_rto", "ha_failover_within_rto", "toleration_seconds", "zone_loss_blockers"]
