"""`milvus-zones failures`: the zone-loss report of a recorded graph, and what each tuning contributes.

The model is the pack's (milvus_zones_policies.model: `deployment` reads the resources, `recovery`
takes each zone away), fed through the same adapter the pack's resources fit, so `failures` and
`check` read one deployment. This module adds what only the CLI needs: the graph in, and the
what-if of taking each setting away. Renderers are in failures_render.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

from milvus_zones_policies.model.deployment import Deployment, Topology
from milvus_zones_policies.model.names import NLB_ANN_PREFIX
from milvus_zones_policies.model.recovery import (
    TARGETS,
    Param,
    Path,
    Report,
    Scenario,
    Step,
    analyse,
    defaults,
    deployments_with_milvus,
    fmt_s,
)
from milvus_zones_policies.model.recovery import report as recovery_report
from milvus_zones_policies.model.resources import from_graph
from milvus_zones_policies.model.values import dig

from milvus_zones.analysis.failures_render import render, render_text, to_json

__all__ = [
    "BACKUP_NOTE",
    "TARGETS",
    "TUNINGS",
    "Contribution",
    "Param",
    "Path",
    "Report",
    "Scenario",
    "Step",
    "backup_rpo",
    "contributions",
    "fmt_s",
    "render",
    "render_text",
    "report",
    "to_json",
    "topology",
]


def topology(graph, external_resources=None, *, reads: bool = True) -> Topology:
    """The deployment model of a recorded graph (the same one the pack builds from its resources).
    By default the recording as it is, reads (`Resource.get`) included: the plan's view. `reads=False`
    with the pack config's `externalResources`: exactly what the pack sees under `pulumi preview`."""
    return Topology(from_graph(graph, external_resources, reads=reads))


def backup_rpo(graph) -> str:
    """The RPO of restoring from the last backup (an operator's or client's mistake, which no zone or
    region failover undoes), from the program's `backup` output (milvus_zones.planning.plan.backup_summary)."""
    b = graph.outputs.get("backup")
    if not isinstance(b, dict):
        return "not declared by the program"
    if "schedule" in b:
        return f"{b['rpo']}, kept {b['retentionDays']} d ({b['schedule']} UTC)"
    return str(b.get("rpo", "not declared by the program"))


BACKUP_NOTE = "restore from the last backup (a dropped collection, a bad delete: no failover helps): RPO "


def report(graph, data_size_gib: float = 100, load_mib_s: float = 100, with_contributions: bool = True) -> Report:
    """The analysis of a recorded graph, with what each tuning contributes, and the backup RPO beside it."""
    topo = topology(graph)
    params = defaults(data_size_gib, load_mib_s)
    r = recovery_report(topo, params, graph.stack)
    r.notes.append(BACKUP_NOTE + backup_rpo(graph))
    if with_contributions and r.kind != "managed":
        deps = deployments_with_milvus(topo)
        if deps:
            r.contributions = contributions(deps[0], params)
    return r


# ---- what each setting contributes ------------------------------------------------------------------

def _without_user(keys: list[str]) -> Callable[[Deployment], None]:
    def drop(dep: Deployment) -> None:
        for rel in dep.releases:
            for dotted in keys:
                *head, last = dotted.split(".")
                node = dig(rel.user, *head) if head else rel.user
                if isinstance(node, dict):
                    node.pop(last, None)
    return drop


def _without_nlb_checks(dep: Deployment) -> None:
    for rel in dep.releases:
        ann = dig(rel.values, "service", "annotations", default={})
        for k in [k for k in ann if k.startswith(NLB_ANN_PREFIX + "health") or k.endswith("healthy-threshold")]:
            ann.pop(k)


def _without_tolerations(dep: Deployment) -> None:
    for rel in dep.releases:
        rel.values.pop("tolerations", None)
        for name in ("proxy", "mixCoordinator", "dataNode", "queryNode", "streamingNode", "indexNode"):
            if isinstance(rel.values.get(name), dict):
                rel.values[name].pop("tolerations", None)


def _without_autoscaling(dep: Deployment) -> None:
    dep.pools = [dataclasses.replace(p, max_size=None) for p in dep.pools]


# (setting, where it is set, how to take it away). The switch-wal controller is not here: it keeps the
# WAL from moving back when the zone returns and shortens nothing (docs/failover-controller.md).
TUNINGS = [
    ("common.session.ttl", "helm_values.SESSION_TTL_S (user.yaml)", _without_user(["common.session.ttl"])),
    ("proxy health checks", "helm_values.PROXY_HEALTH_CHECK_* (user.yaml)",
     _without_user(["proxy.healthCheckTimeout", "proxy.retryTimesOnHealthCheck"])),
    ("NLB health checks", "helm_values.NLB_HEALTH_CHECK (service annotations)", _without_nlb_checks),
    ("node-failure tolerations", "helm_values.NODE_FAILURE_TOLERATION_S (chart-global tolerations)",
     _without_tolerations),
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


def _copy(dep: Deployment) -> Deployment:
    """A deployment whose releases, pools and controllers can be edited without touching `dep`."""
    releases = [dataclasses.replace(r, values=copy.deepcopy(r.values), user=copy.deepcopy(r.user))
                for r in dep.releases]
    return dataclasses.replace(dep, releases=releases, pools=list(dep.pools), controllers=list(dep.controllers))


def contributions(dep: Deployment, params: dict[str, Param] | None = None) -> list[Contribution]:
    """Take each tuning away in turn and re-run the model: what the setting is worth (0: not used here)."""
    params = params or defaults()
    base = analyse(dep, params).worst()
    out = []
    for setting, where, take_away in TUNINGS:
        d = _copy(dep)
        take_away(d)
        out.append(Contribution(setting, where, analyse(d, params).worst(), base))
    return out
