"""How a stack says which deployment mode it is, and what happens when it does not."""

from __future__ import annotations

from collections import defaultdict

from ._policy import ADVISORY, MANDATORY, stack_policy
from .model.deployment import (
    CROSS_REGION_HA,
    MODE_KEY,
    MODES,
    MULTI_ZONE_BASIC,
    MULTI_ZONE_HA,
    REGION_MODE_KEY,
    REGION_MODES,
    SINGLE_ZONE,
    tag_mode,
)
from .model.values import dig, truthy

_HOW = (f"tag the ACK cluster, its node pools and the OSS bucket with {MODE_KEY}=<mode> and set the same key "
        f"in the Milvus release values `labels` (<mode>: {', '.join(MODES)}; in cross-region-ha each region "
        f"may add {REGION_MODE_KEY}=<{'|'.join(REGION_MODES)}>, multi-zone-ha when absent)")


def instance_mode(props) -> str | None:
    """The mode a managed MilvusInstance configures: multiZoneMode Single/Two, HA when `ha` is on too."""
    zone_mode = dig(props, "multiZoneMode")
    if zone_mode is None:
        return None
    if str(zone_mode).lower() == "single":
        return SINGLE_ZONE
    return MULTI_ZONE_HA if truthy(dig(props, "ha")) else MULTI_ZONE_BASIC


@stack_policy(
    name="mode-declared",
    description="A Milvus deployment declares its deployment mode, so the zone rules of that mode can run.",
    level=ADVISORY,
    remediation=_HOW.capitalize() + "; a managed MilvusInstance declares it with multiZoneMode (and ha).",
    tags=["mode"],
)
def mode_declared(args, report, topology):
    if not topology.releases and not topology.instances:
        args.not_applicable("no Milvus deployment (Helm release of chart milvus, or MilvusInstance) in the stack")
    if not topology.declarations():
        for rel in topology.releases:
            report(f"Milvus release {rel.res.name} declares no deployment mode, so the mode rules "
                   f"(HA limits, zone spread, ZRS) did not run: {_HOW}.", rel.res.urn)
    for inst in topology.instances:
        if instance_mode(inst.props) is None and tag_mode(inst.props.get("tags")) is None:
            report(f"MilvusInstance {inst.name} declares no deployment mode: set multiZoneMode (Single or Two) "
                   f"and ha, or tag it {MODE_KEY}=<mode>.", inst.urn)


def _one_mode(decls, report, differ: str) -> None:
    """Report the declarations that break the majority's mode (every one, with no majority)."""
    by_mode: dict[str, list[str]] = defaultdict(list)
    for d in decls:
        by_mode[d.mode].append(d.source)
    if len(by_mode) > 1:
        summary = "; ".join(f"{m}: {', '.join(srcs)}" for m, srcs in sorted(by_mode.items()))
        counts = sorted((len(v) for v in by_mode.values()), reverse=True)
        majority = max(by_mode, key=lambda m: len(by_mode[m])) if counts[0] > counts[1] else None
        for d in decls:
            if d.mode != majority:  # with no majority every declaration is named
                report(f"{d.source} declares {d.mode}, but {differ} ({summary}); declare one mode "
                       "everywhere.", d.urn)


@stack_policy(
    name="mode-consistent",
    description="Every milvus-zones/mode declaration in the stack names the same, known deployment mode.",
    level=MANDATORY,
    remediation="Make the milvus-zones/mode tags of the cluster, node pools and bucket and the release's "
                "values `labels` agree on one of: " + ", ".join(MODES) + ".",
    tags=["mode"],
)
def mode_consistent(args, report, topology):
    decls = topology.declarations()
    if not decls and not topology.instances:
        args.not_applicable("no milvus-zones/mode declaration in the stack")
    for d in decls:
        if d.mode not in MODES:
            report(f"{d.source} declares mode {d.mode!r}, which is not a mode; use one of: {', '.join(MODES)}.", d.urn)
    # Each deployment (a cluster with its pools, releases and buckets) declares one mode; a stack may hold
    # several deployments of different modes (two MilvusZones in one program).
    deps = topology.deployments
    groups = [(dep, dep.declarations()) for dep in deps]
    placed = {d.urn for _, ds in groups for d in ds}
    for dep, own in groups:
        _one_mode(own, report, f"{dep.name}'s declarations differ" if len(deps) > 1 else
                  "the stack's declarations differ")
    loose = [d for d in decls if d.urn not in placed]
    modes = {dep.declared_mode for dep, _ in groups} - {None}
    if not modes:
        _one_mode(loose, report, "the stack's declarations differ")
    # A declaration that belongs to no deployment (a bucket in a flat program of several) names one of theirs.
    for d in loose if modes else []:
        if d.mode not in modes:
            owners = "; ".join(f"{dep.name}: {dep.declared_mode}" for dep, _ in groups if dep.declared_mode)
            report(f"{d.source} declares {d.mode}, which none of the stack's deployments declares ({owners}); "
                   "declare its deployment's mode.", d.urn)
    for dep in deps:
        region_decls = dep.region_mode_declarations()
        for d in region_decls:
            if d.mode not in REGION_MODES:
                report(f"{d.source} declares {REGION_MODE_KEY} {d.mode!r}; use one of: {', '.join(REGION_MODES)}.",
                       d.urn)
        if len({d.mode for d in region_decls}) > 1:
            summary = "; ".join(f"{d.source}: {d.mode}" for d in region_decls)
            report(f"{dep.name} declares different region modes ({summary}); declare one.", region_decls[0].urn)
        if region_decls and dep.top_mode not in (None, CROSS_REGION_HA):
            report(f"{dep.name} declares {REGION_MODE_KEY}, which only cross-region-ha reads; the stack is "
                   f"{dep.top_mode}: remove it.", region_decls[0].urn)
    for inst in topology.instances:
        declared, configured = tag_mode(inst.props.get("tags")), instance_mode(inst.props)
        if declared is not None and configured is not None and declared != configured:
            report(f"MilvusInstance {inst.name} is tagged {declared} but its multiZoneMode/ha configure "
                   f"{configured}; make them agree.", inst.urn)
