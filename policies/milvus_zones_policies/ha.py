"""The seed's limits of Multi-zone Deployment (HA): an even compute node count, no Milvus 2.4,
and one equal set of compute in each of the two compute zones."""

from __future__ import annotations

from collections import defaultdict

from ._policy import MANDATORY, mode_or_skip, stack_policy
from .mode import instance_mode
from .model.deployment import MULTI_ZONE_HA, parse_version
from .model.external import HINT as EXTERNAL_HINT
from .model.values import as_int, dig, is_list


def _pool_list(pools) -> str:
    return ", ".join(f"{p.res.name}={p.size}" for p in pools)


@stack_policy(
    name="ha-compute-node-count-even",
    description="multi-zone-ha runs one set of compute nodes per compute zone, so the compute node count "
                "is a multiple of 2, at creation and at scale-out.",
    level=MANDATORY,
    remediation="Give the compute node pools an even total (desiredSize, and the autoscaler's minSize and "
                "maxSize), split equally over the two compute zones.",
    tags=["ha", "compute"],
)
def ha_compute_node_count_even(args, report, topology):
    for inst in topology.instances:
        if instance_mode(inst.props) == MULTI_ZONE_HA:
            queries = [c for c in dig(inst.props, "components", default=[]) or []
                       if str(dig(c, "type", default="")).lower() in ("query", "querynode", "query_node")]
            total = sum(as_int(dig(c, "replica")) or 0 for c in queries)
            if total % 2 or total < 2:
                report(f"MilvusInstance {inst.name} is HA with {total} query node replica(s); "
                       "use a multiple of 2.", inst.urn)
    if not topology.releases and not topology.pools:
        if not topology.instances:
            args.not_applicable("no Milvus deployment in the stack")
        return
    stack_mode = mode_or_skip(args, topology, ha_only=True)
    for dep in topology.deployments:
        if dep.mode(stack_mode) != MULTI_ZONE_HA:
            continue
        pools = sorted(dep.compute_pools(), key=lambda p: p.res.name)
        if not pools:
            report(f"{dep.name}: no node pool can host the Milvus query nodes (none matches their "
                   "nodeSelector and tolerations); add one compute pool per compute zone, or, for a pre-existing one, "
                   f"{EXTERNAL_HINT} (externalResources.nodePools).",
                   dep.cluster.urn if dep.cluster is not None else None)
            continue
        total = sum(p.size for p in pools)
        if total < 2 or total % 2:
            report(f"multi-zone-ha has {total} compute node(s) ({_pool_list(pools)}); use a multiple of 2, "
                   "one equal set per compute zone.", pools[0].res.urn)
        if any(p.max_size is not None for p in pools):
            # Autoscaled pools move between their bounds; fixed pools stay at their size.
            for bound, key in (("min_size", "minSize"), ("max_size", "maxSize")):
                total = sum(p.size if getattr(p, bound) is None else getattr(p, bound) for p in pools)
                if total % 2:
                    report(f"with the autoscaler at {key} the compute pools hold {total} nodes; scale-out must "
                           f"keep the count a multiple of 2, so make the {key} total even.", pools[0].res.urn)


@stack_policy(
    name="ha-milvus-version-supported",
    description="multi-zone-ha does not support Milvus 2.4: the deployed Milvus is 2.5 or later.",
    level=MANDATORY,
    remediation="Deploy Milvus 2.5 or 2.6: chart milvus 4.2.58 (2.5.16) or 5.0.19 (2.6.15), with no "
                "image.all.tag pinning 2.4; for a MilvusInstance set dbVersion 2.5 or 2.6.",
    tags=["ha", "version"],
)
def ha_milvus_version_supported(args, report, topology):
    ran = False
    for inst in topology.instances:
        if instance_mode(inst.props) == MULTI_ZONE_HA:
            ran = True
            version = str(dig(inst.props, "dbVersion", default=""))
            parsed = parse_version(version)
            if parsed is not None and parsed[:2] < (2, 5):
                report(f"MilvusInstance {inst.name} is HA on Milvus {version}; HA needs dbVersion 2.5 or 2.6.",
                       inst.urn)
    if not topology.releases:
        if not ran:
            args.not_applicable("no Milvus deployment in the stack")
        return
    stack_mode = mode_or_skip(args, topology, ha_only=True)
    for rel in (r for d in topology.deployments if d.mode(stack_mode) == MULTI_ZONE_HA for r in d.releases):
        minor, source = rel.milvus_minor()
        if minor is not None and minor < (2, 5):
            report(f"Milvus release {rel.res.name} runs Milvus {minor[0]}.{minor[1]} ({source}), which "
                   "multi-zone-ha does not support; use chart 4.2.58 (2.5) or 5.0.19 (2.6).", rel.res.urn)


@stack_policy(
    name="ha-compute-zones-symmetric",
    description="multi-zone-ha has one equal set of compute per compute zone: single-zone compute pools, "
                "the same node count and instance types in both zones, each zone's query replica pinned there.",
    level=MANDATORY,
    remediation="Use one compute pool per compute zone (one vSwitch each) with equal desiredSize and "
                "instanceTypes; with replicaResourceGroups, list one group per compute zone and pin each to "
                "its zone's pool with a Helm post-renderer.",
    tags=["ha", "compute", "zones"],
)
def ha_compute_zones_symmetric(args, report, topology):
    if not topology.releases and not topology.pools:
        args.not_applicable("no self-hosted Milvus deployment in the stack")
    stack_mode = mode_or_skip(args, topology, ha_only=True)
    for dep in topology.deployments:
        if dep.mode(stack_mode) == MULTI_ZONE_HA:
            _symmetric(dep, report)


def _symmetric(dep, report) -> None:
    pools = sorted(dep.compute_pools(), key=lambda p: p.res.name)
    per_zone: dict[str, list] = defaultdict(list)
    for p in pools:
        if len(p.zones) > 1:
            report(f"compute pool {p.res.name} spans zones {', '.join(sorted(p.zones))}; in multi-zone-ha each "
                   "compute pool sits in one zone, so that each zone's capacity is fixed.", p.res.urn)
        elif len(p.zones) == 1:
            per_zone[next(iter(p.zones))].append(p)
    if len(per_zone) == 2:
        (za, a), (zb, b) = sorted(per_zone.items())
        size_a, size_b = sum(p.size for p in a), sum(p.size for p in b)
        if size_a != size_b:
            report(f"compute capacity differs between {za} ({size_a} nodes: {_pool_list(a)}) and {zb} "
                   f"({size_b} nodes: {_pool_list(b)}); give both zones the same node count.", b[0].res.urn)
        types_a = sorted({t for p in a for t in p.instance_types})
        types_b = sorted({t for p in b for t in p.instance_types})
        if types_a != types_b:
            report(f"compute instance types differ between {za} ({', '.join(types_a)}) and {zb} "
                   f"({', '.join(types_b)}); use the same instance types in both zones.", b[0].res.urn)
    zone_count = len({z for p in pools for z in p.zones})
    for rel in dep.releases:
        groups = rel.get("replicaResourceGroups", default=[])
        if not is_list(groups) or not groups:
            continue
        if zone_count and len(groups) != zone_count:
            report(f"Milvus release {rel.res.name} lists {len(groups)} replica resource group(s) for "
                   f"{zone_count} compute zone(s); list one group per compute zone.", rel.res.urn)
        if not rel.res.props.get("postrender"):
            report(f"Milvus release {rel.res.name} uses replicaResourceGroups without a post-renderer: every "
                   "group shares one nodeSelector, so no group is pinned to a zone; set `postrender` to pin "
                   "each group's querynode/streamingnode Deployments to its zone's pool.", rel.res.urn)
