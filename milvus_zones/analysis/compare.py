"""The seed's comparison table, computed for each stack from its recorded resource graph.

AZs for compute, RPO/RTO (the zone-failure model, milvus_zones.analysis.failures), the SLA target of the
declared mode (the seed's figures: targets, not computed), relative cost (node counts x instance
sizes, single-zone = 1), serving capacity (query replicas and nodes).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from milvus_zones_policies.model.deployment import Deployment
from milvus_zones_policies.model.recovery import deployments_with_milvus, fmt_s
from milvus_zones_policies.model.values import dig

from milvus_zones.analysis import failures

# The seed's SLA column, per mode.
SLA = {"single-zone": "99.9%", "multi-zone-basic": "99.9%", "multi-zone-ha": "99.95%", "cross-region-ha": "99.99%"}
# ECS sizes -> vCPUs (instance type naming: ecs.<family>.<size>); prices within a family scale with them.
_SIZES = {"small": 1, "medium": 1, "large": 2, "xlarge": 4}
_NX = re.compile(r"^(\d+)xlarge$")
WEIGHT_NOTE = ("built-in relative weights: the instance size in vCPUs (ECS prices within a family scale with "
               "size); give --prices for real hourly prices")


class PriceError(ValueError):
    """A price file that cannot be used; the message names the problem."""


def builtin_weight(instance_type: str) -> float:
    size = instance_type.rsplit(".", 1)[-1]
    if size in _SIZES:
        return float(_SIZES[size])
    m = _NX.match(size)
    if m:
        return 4.0 * int(m.group(1))
    raise PriceError(f"no built-in weight for instance type {instance_type!r}; give its price with --prices")


def load_prices(path: Path) -> dict[str, float]:
    try:
        data = yaml.safe_load(path.read_text())  # YAML is a superset of JSON
    except (OSError, yaml.YAMLError) as e:
        raise PriceError(f"{path}: cannot read a price file ({type(e).__name__}: {e})") from None
    if not isinstance(data, dict) or not data:
        raise PriceError(f"{path}: expected a mapping of instance type -> hourly price, e.g. "
                         '{"ecs.g7.2xlarge": 2.1}')
    out = {}
    for k, v in data.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
            raise PriceError(f"{path}: price of {k!r} must be a positive number; got {v!r}")
        out[str(k)] = float(v)
    return out


@dataclass(frozen=True)
class Row:
    stack: str
    mode: str
    compute_azs: str
    rpo: str
    rto: str
    sla: str
    cost: float  # absolute (weights or prices x node counts)
    relative_cost: float | None
    query_replicas: int
    query_nodes: int
    compute_nodes: int
    per: str = ""  # " per region" for cross-region stacks
    backup_rpo: str = ""  # restore from the last backup (failures.backup_rpo)

    @property
    def capacity(self) -> str:
        return (f"{self.query_replicas} replica{'s' if self.query_replicas != 1 else ''} on {self.query_nodes} "
                f"query node{'s' if self.query_nodes != 1 else ''}{self.per}")


def _suffix(zone: str) -> str:
    return zone.rsplit("-", 1)[-1]


def _cost(dep: Deployment, prices: dict[str, float] | None) -> float:
    cost = 0.0
    for p in dep.pools:
        for t in p.instance_types[:1]:  # the first type is the one ACK uses while it has stock
            if prices is not None and t not in prices:
                raise PriceError(f"the price file has no price for instance type {t!r}")
            cost += p.size * (prices[t] if prices is not None else builtin_weight(t))
    return cost


def _compute(dep: Deployment) -> tuple[list[str], list[str], int, int]:
    """Compute zones (normal, relaunch-only), query replicas and query nodes of one region."""
    rel = dep.primary
    if rel is None:
        return [], [], 0, 0
    groups = rel.group_components("queryNode", dep.pools)
    if groups:
        normal = sorted({z for w in groups.values() for z in w.zones})
        return normal, [], len(groups), sum(w.replicas for w in groups.values())
    q = rel.component("queryNode", dep.pools)
    replicas = int(rel.config("queryCoord.clusterLevelLoadReplicaNumber") or 1)
    return list(q.zones), [z for z in q.relaunch_zones if z not in q.zones], replicas, q.replicas


def _managed_row(graph, instance, mode: str | None) -> Row:
    inst = instance.props
    zones = sorted({str(dig(v, "zoneId")) for v in dig(inst, "vswitchIds", default=[]) or [] if dig(v, "zoneId")})
    query = [c for c in dig(inst, "components", default=[]) or [] if str(dig(c, "type", default="")).lower()
             .startswith("query")]
    nodes = sum(int(dig(c, "replica", default=0)) for c in query)
    seed = {"multi-zone-basic": "< 1 h (seed)", "multi-zone-ha": "< 3 min (seed)"}.get(mode or "", "no zone-level DR")
    return Row(graph.stack, f"{mode or 'undeclared'} (managed)",
               f"{len(zones)} ({', '.join(_suffix(z) for z in zones)})",
               "the service's" if mode in ("multi-zone-basic", "multi-zone-ha") else "no zone-level DR", seed,
               SLA.get(mode or "", "n/a"), -1.0, None, int(dig(inst, "loadReplicas", default=1)), nodes, nodes,
               backup_rpo=failures.backup_rpo(graph))


def _row(graph, prices: dict[str, float] | None) -> Row:
    report = failures.report(graph, with_contributions=False)
    topo = failures.topology(graph)
    if report.kind == "managed":
        return _managed_row(graph, topo.instances[0], report.mode)
    regions = deployments_with_milvus(topo)
    parts = [_compute(d) for d in regions]
    azs = "; ".join(
        f"{', '.join(_suffix(z) for z in normal)}" + (f", relaunch in {', '.join(_suffix(z) for z in again)}"
                                                       if again else "")
        for normal, again, _, _ in parts)
    count = len({z for normal, again, _, _ in parts for z in normal + again})
    azs = f"{count} ({azs})" if len(parts) == 1 else f"{count} in {len(parts)} regions ({azs})"
    zone = report.worst("zone")
    if not report.zone_recovery:
        rpo = rto = "no zone-level DR"
    else:
        rpo = fmt_s(zone["rpo_s"]) if zone["rpo_s"] is not None else "not bounded"
        rto = f"reads {fmt_s(zone['rto_reads_s'])}, writes {fmt_s(zone['rto_writes_s'])}"
        region = report.worst("region")
        if any(s.scope == "region" for s in report.scenarios):
            rpo += f"; region: {fmt_s(region['rpo_s'])} (CDC lag)"
            rto += f"; region: {fmt_s(region['rto_writes_s'])} (operator failover)"
    replicas = parts[0][2] if parts else 0
    nodes = parts[0][3] if parts else 0
    per_region = " per region" if len(parts) > 1 else ""
    cost = sum(_cost(d, prices) for d in regions)
    return Row(graph.stack, report.mode or "undeclared", azs, rpo, rto, SLA.get(report.mode or "", "n/a"), cost,
               None, replicas, nodes, sum(p[3] for p in parts), per_region, failures.backup_rpo(graph))


def compare(graphs: list, prices: dict[str, float] | None = None) -> list[Row]:
    rows = [_row(g, prices) for g in graphs]
    base = next((r for r in rows if r.mode == "single-zone" and r.cost > 0), None)
    if base is None:
        return rows
    return [Row(**{**r.__dict__, "relative_cost": round(r.cost / base.cost, 2) if r.cost >= 0 else None})
            for r in rows]


COLUMNS = ["Stack", "Mode", "AZs for compute", "RPO (zone loss)", "RTO (zone loss)", "RPO (from backup)",
           "SLA target", "Relative cost", "Serving capacity"]


def _cells(r: Row) -> list[str]:
    if r.cost < 0:
        cost = "n/a (billed per CU)"
    else:
        cost = f"{r.relative_cost:g}" if r.relative_cost is not None else f"{r.cost:g} (no single-zone stack)"
    return [r.stack, r.mode, r.compute_azs, r.rpo, r.rto, r.backup_rpo, r.sla, cost, r.capacity]


def render(rows: list[Row], fmt: str, prices: bool) -> str:
    notes = [
        "RPO/RTO: worst case over the stack's zones, modeled from its configuration (`milvus-zones failures "
        "STACK`; nothing measured on a cluster); reads at Eventually consistency.",
        "SLA: the seed's target for the mode. Cost: nodes x " + ("hourly price (--prices)" if prices else WEIGHT_NOTE)
        + "; load balancers, NAT and storage not counted.",
    ]
    table = [COLUMNS] + [_cells(r) for r in rows]
    if fmt == "markdown":
        lines = ["| " + " | ".join(c) + " |" for c in table]
        lines.insert(1, "|" + "---|" * len(COLUMNS))
        return "\n".join([*lines, "", *notes]) + "\n"
    if fmt == "json":
        return json.dumps([{**r.__dict__, "capacity": r.capacity} for r in rows], indent=2) + "\n"
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join([*lines, "", *notes]) + "\n"
