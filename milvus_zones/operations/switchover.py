"""Switchover and failover of cross-region-ha, as a change of the stack config plus one `pulumi up`.

The stack config names the primary region (`primaryRegion`); everything else follows from it:
the CDC direction (the replication Job), the client DNS record, the backup CronJob. Resources are
named by region, never by role, so no stateful resource is replaced; `check_no_replacement`
proves that on the two recorded graphs with `milvus-zones diff`'s engine before the user runs anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from milvus_zones.analysis.diff import STATEFUL_TYPES, diff_graphs
from milvus_zones.engine.offline import Graph, ProgramError, read_stack_config
from milvus_zones.engine.stackfile import _yaml, edit_stack_text
from milvus_zones.planning.spec import Mode, SpecError
from milvus_zones.planning.stackconfig import (
    NAMESPACE,
    format_problems,
    spec_from_config,
)


def _plain_value(v: Any) -> Any:
    """ruamel round-trip nodes -> plain values (what the language host would pass)."""
    return json.loads(json.dumps(v, default=str))

# What holds data or identity: diff's stateful set, plus what clients and the peer region address by id
# (the VPC, the private DNS zone, the CEN, the client load balancer). None may be replaced or deleted.
STATEFUL_TYPES = STATEFUL_TYPES | frozenset({
    "alicloud:vpc/network:Network",
    "alicloud:pvtz/zone:Zone",
    "alicloud:cen/instance:Instance",
    "alicloud:nlb/loadBalancer:LoadBalancer",
})
# What a failover must change while the lost region cannot be reached (`pulumi up --target`).
FAILOVER_TARGET_TYPES = (
    "alicloud:pvtz/zoneRecord:ZoneRecord",
    "kubernetes:batch/v1:Job",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:batch/v1:CronJob",
)


@dataclass(frozen=True)
class Change:
    path: Path
    old_primary: str
    new_primary: str
    failover: bool
    text: str  # the new stack file


def plan_change(path: Path, to: str, failover: bool) -> Change:
    cfg = read_stack_config(path)
    try:
        spec = spec_from_config(cfg.values)
    except SpecError as e:
        raise ProgramError(f"invalid stack configuration:\n{format_problems(e)}") from None
    if spec.mode is not Mode.CROSS_REGION_HA:
        raise ProgramError(f"{path}: mode is {spec.mode}; switchover and failover apply to cross-region-ha")
    assert spec.peer is not None  # the spec requires peer in cross-region-ha
    regions = [spec.region, spec.peer.region]
    if to not in regions:
        raise ProgramError(f"--to {to}: not a region of this stack; allowed: {', '.join(regions)}")
    current = spec.effective_primary_region
    if to == current and not failover:
        raise ProgramError(f"{to} is already the primary region; nothing to switch")
    try:
        text = edit_stack_text(path.read_text(), {f"{NAMESPACE}:primaryRegion": to,
                                                  f"{NAMESPACE}:forcePromote": failover})
    except ValueError as e:
        raise ProgramError(f"{path}: cannot edit it: {e}") from None
    # The edited file must itself be a valid stack (the CLI also re-reads it strictly before planning).
    values = _yaml().load(text).get("config", {})
    values = {k: _plain_value(v) for k, v in values.items()}
    try:
        spec_from_config({k: v for k, v in values.items() if not isinstance(v, dict) or set(v) != {"secure"}})
    except SpecError as e:
        raise ProgramError(f"the edited stack would be invalid:\n{format_problems(e)}") from None
    return Change(path, current, to, failover, text)


def check_no_replacement(before: Graph, after: Graph) -> list[str]:
    """Stateful or protected resources the change would replace or delete (`milvus-zones diff`'s engine:
    the providers' replace-on-change inputs, a change of provider, a URN that disappears)."""
    entries, _ = diff_graphs(before, after, STATEFUL_TYPES)
    return [f"{e.urn} would be {'replaced' if e.action == 'replace' else 'deleted'}"
            + (f" ({', '.join(e.reasons)})" if e.reasons else "") for e in entries if e.data_loss]


def failover_targets(after: Graph, new_primary_cluster_urn: str) -> list[str]:
    """URNs `pulumi up --target` must update when the old primary region cannot be reached."""
    targets = []
    for r in after.resources:
        if r.type not in FAILOVER_TARGET_TYPES:
            continue
        provider = after.by_urn(r.provider.rsplit("::", 1)[0])
        in_new_primary = provider is not None and new_primary_cluster_urn in provider.property_dependencies.get(
            "kubeconfig", [])
        if r.type.startswith("alicloud:pvtz") or in_new_primary:
            targets.append(r.urn)
    return sorted(targets)


def procedure(change: Change, stack: str, targets: list[str]) -> str:
    up = f"pulumi up -s {stack}"
    if not change.failover:
        return "\n".join([
            f"Planned switchover {change.old_primary} -> {change.new_primary} (RPO 0):",
            "  1. Stop writes to milvus.milvus-zones.internal (clients read-only, or drain the writers).",
            f"  2. Wait until {change.new_primary} has caught up: the last rows written are returned there by a "
            "query with consistency level Strong.",
            f"  3. {up}    # replication reconfigured: {change.old_primary} (current primary) first, then "
            f"{change.new_primary}; client record repointed,",
            f"                                  # backups move to {change.new_primary}",
            "  4. Resume writes once the client record's TTL (30 s) has passed.",
        ])
    lines = [
        f"Unplanned failover to {change.new_primary} ({change.old_primary} unreachable; RPO = CDC lag at the loss):",
        f"  1. {up} --target-dependents \\",
        *[f"       --target '{t}' \\" for t in targets],
        "     # only what lives in the surviving region and DNS: the lost region's resources cannot be refreshed",
        f"  2. When {change.old_primary} is back: rebuild its Milvus as a standby (its data diverged), then set "
        f"forcePromote back to false and `{up}` to resume replication {change.new_primary} -> {change.old_primary}.",
    ]
    return "\n".join(lines)
