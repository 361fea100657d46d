"""cross-region-ha: regional deployments in two regions or more, replicating to each other."""

from __future__ import annotations

from ._policy import MANDATORY, mode_or_skip, stack_policy
from .image import FEATURES_MIN_VERSION as CDC_MIN_VERSION
from .model.deployment import CROSS_REGION_HA, parse_version
from .model.values import dig, truthy

MIN_REGIONS = 2
# Milvus' built-in CDC, the only replication that carries Milvus 2.6's WAL across clusters, needs
# 2.6.16 or later (see .image); the chart key is `cdc` (chart >= 5.0.8).


def _cdc_problem(rel) -> str | None:
    """Why this release cannot replicate to (or take over from) the other region, or None."""
    if not truthy(rel.get("cdc", "enabled"), default=False):
        return "cdc.enabled is not true"
    tag = rel.get("image", "all", "tag")
    version = parse_version(tag)
    if version is None:
        return ("image.all.tag is not set: the chart's default image may predate CDC "
                f"(needs Milvus {'.'.join(map(str, CDC_MIN_VERSION))} or later)")
    if version < CDC_MIN_VERSION:
        return f"image.all.tag {tag} is older than Milvus {'.'.join(map(str, CDC_MIN_VERSION))}, the first with CDC"
    return None


@stack_policy(
    name="cross-region-spans-two-regions",
    description="cross-region-ha: Milvus runs in at least two regions, each cluster able to replicate to "
                "the other with Milvus CDC (2.6.16 or later), so the standby region can take over.",
    level=MANDATORY,
    remediation="Deploy one cluster with a Milvus release per region (an explicit provider per region), "
                "set cdc.enabled true and image.all.tag v2.6.16 or later in every release, and configure "
                "replication primary -> standby (update_replicate_configuration).",
    tags=["cross-region", "zones", "replication"],
)
def cross_region_spans_two_regions(args, report, topology):
    mode = mode_or_skip(args, topology, multi_zone_only=True)
    if CROSS_REGION_HA not in topology.modes():
        args.not_applicable(f"mode is {mode or ', '.join(sorted(topology.modes()))}; this rule is for "
                            "cross-region-ha")
    regional = [d for d in topology.deployments if (d.top_mode or mode) == CROSS_REGION_HA]
    regions: dict[str, list[str]] = {}
    for dep in regional:
        if not dep.releases:
            continue
        for region in dep.regions():
            regions.setdefault(region, []).append(dep.name)
        for rel in dep.releases:
            problem = _cdc_problem(rel)
            if problem is not None:
                report(f"Milvus release {rel.res.name} cannot replicate across regions: {problem}.", rel.res.urn)
    if len(regions) < MIN_REGIONS:
        where = ", ".join(f"{r} ({', '.join(d)})" for r, d in sorted(regions.items())) or "none"
        report(f"cross-region-ha runs Milvus in at least {MIN_REGIONS} regions; the clusters with a Milvus "
               f"release are in {len(regions)}: {where}.")
    # One cluster spanning two regions is not possible on ACK: any region listed twice is a mistake.
    for dep in regional:
        if dep.releases and len(dep.regions()) > 1:
            report(f"{dep.name} has vSwitches in {len(dep.regions())} regions; a cluster lives in one region.",
                   dig(dep.cluster, "urn") if dep.cluster is not None else None)
