"""Maintenance that keeps the mode's promises: node pools that upgrade one node at a time."""

from __future__ import annotations

from ._policy import ADVISORY, resource_policy
from .model.names import NODE_POOL
from .model.values import truthy


@resource_policy(
    name="node-pool-rolls-one-node-at-a-time",
    description="Managed node pools upgrade one node at a time with a surge node, and never on their own, so "
                "an upgrade takes at most one node of one zone away and zones are upgraded one after another "
                "(docs/operations.md, node pool upgrades).",
    level=ADVISORY,
    remediation="Set management {enable: true, autoUpgrade: false, maxUnavailable: 1, surge: 1} on the node pool "
                "(cs.NodePool management in pulumi-alicloud 4.0.0), and upgrade pools zone by zone.",
    tags=["availability", "maintenance", "kubernetes"],
)
def node_pool_rolls_one_node_at_a_time(args, report):
    if args.resource_type != NODE_POOL:
        return
    m = args.props.get("management") or {}
    if not truthy(m.get("enable")):
        report(f"node pool {args.name} is not managed: its upgrades are by hand, node by node; set "
               "management.enable with maxUnavailable 1 and surge 1.")
        return
    problems = []
    if truthy(m.get("autoUpgrade")):
        problems.append("autoUpgrade is on (it does not wait for the other zones)")
    unavailable = m.get("maxUnavailable")
    if unavailable is None or unavailable > 1:
        problems.append(f"maxUnavailable is {unavailable if unavailable is not None else 'unset'} (allowed: 1)")
    if not (m.get("surge") or 0) and not (m.get("surgePercentage") or 0):
        problems.append("no surge (surge or surgePercentage): a drained node's pods wait for its replacement")
    if problems:
        report(f"node pool {args.name}: " + "; ".join(problems) + ".")
