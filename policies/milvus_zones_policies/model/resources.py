"""The adapter both readers of the model go through: resources in the shape pulumi-policy hands over.

Under `pulumi preview --policy-pack` (and `milvus-zones check`) the policies receive
`pulumi_policy.PolicyResource`s: outputs in camelCase, numbers as floats, unknowns behind a proxy.
`from_graph` gives a graph recorded by `milvus_zones.engine` (any object with `resources`, each with
`type`, `name`, `urn`, `outputs`, `provider`, `dependencies`, `property_dependencies`) that same shape,
so `deployment.Topology` is built the same way from both, and `failures` and `check` cannot disagree
on what is deployed. Duck-typed on purpose: the pack never imports milvus_zones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyCustomTimeouts, PolicyProviderResource, PolicyResource, PolicyResourceOptions

from .external import with_external

__all__ = ["from_graph", "in_listed_order", "read_links"]


def _options(r: Any) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=bool(getattr(r, "protect", False)), ignore_changes=list(getattr(r, "ignore_changes", []) or []),
        delete_before_replace=bool(getattr(r, "delete_before_replace", False)), aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[], parent=getattr(r, "parent", None) or None,
    )


def from_graph(graph: Any, external_resources: Mapping[str, Any] | None = None, *,
               reads: bool = False) -> list[PolicyResource]:
    """The recorded graph's resources as stack policies see them (outputs, links as resources): without
    the reads (`Resource.get`, `external`), which `pulumi preview` never sends to policies (pulumi/pulumi
    pkg/resource/deploy/step_executor.go keeps OpRead states in `deployment.reads`; step_generator.go
    `AnalyzeResources` sends only `deployment.news`), and with the pack config's `externalResources`
    in their place, as the stack policies add them (model/external.py). `reads=True`: the recording as
    it is, reads included (linked by the ids their state lists), for views of the graph itself."""
    by_urn: dict[str, PolicyResource] = {}
    records = [r for r in graph.resources if reads or not getattr(r, "external", False)]
    ids = {r.urn: r.id for r in records if getattr(r, "id", None)}
    for r in records:
        by_urn[r.urn] = PolicyResource(r.type, r.outputs, r.urn, r.name, _options(r), None, None, [], {})
    by_id = {i: u for u, i in ids.items()}
    for r in records:
        res = by_urn[r.urn]
        res.dependencies = [by_urn[u] for u in r.dependencies if u in by_urn]
        prop_deps = r.property_dependencies or (read_links(r.outputs, by_id, r.urn) if getattr(r, "external", False)
                                                else {})
        res.property_dependencies = {k: _in_listed_order([by_urn[u] for u in urns if u in by_urn], r.outputs.get(k),
                                                         ids)
                                     for k, urns in prop_deps.items()}
        if r.parent in by_urn:
            res.parent = by_urn[r.parent]
        provider = by_urn.get((r.provider or "").rsplit("::", 1)[0]) if r.provider else None
        if provider is not None:
            res.provider = PolicyProviderResource(provider.resource_type, provider.props, provider.urn, provider.name)
    out = list(by_urn.values())
    stack_urn = getattr(graph, "stack_urn", "")
    if stack_urn:  # stack policies see the stack itself, its outputs as properties
        out.insert(0, PolicyResource("pulumi:pulumi:Stack", graph.outputs, stack_urn,
                                     f"{graph.project}-{graph.stack}", _options(graph), None, None, [], {}))
    return with_external(out, external_resources)


def read_links(outputs: dict[str, Any], by_id: dict[str, str], own: str) -> dict[str, list[str]]:
    """A read resource's (`Resource.get`) links to the stack's resources, by the ids its state lists.

    The engine records no property dependencies for a read, and what its reading was given is only a
    hint: the state read is the truth, so a node pool read from the cloud is linked to the Switch
    resources whose ids its own `vswitchIds` lists (and so judged in their zones), nothing else.
    `by_id`: resource id -> URN of the stack's resources whose ids are known (reads have theirs at preview).
    """
    links: dict[str, list[str]] = {}
    for key, value in outputs.items():
        listed = value if isinstance(value, list) else [value]
        urns = [by_id[v] for v in listed if isinstance(v, str) and v in by_id and by_id[v] != own]
        if urns:
            links[key] = urns
    return links


def _in_listed_order(deps: list[PolicyResource], listed: Any, ids: dict[str, str]) -> list[PolicyResource]:
    order = in_listed_order([d.urn for d in deps], listed, ids)
    by_urn = {d.urn: d for d in deps}
    return [by_urn[u] for u in order]


def in_listed_order(urns: list[str], listed: Any, ids: dict[str, str]) -> list[str]:
    """Dependency URNs in the order the property lists their ids, where the ids are known (a node
    pool's first vSwitch is its PRIORITY zone); the SDK records dependencies in no particular order.
    The offline check sends them in this order too, so both readers see the same first zone."""
    if not isinstance(listed, list):
        return list(urns)
    position = {v: i for i, v in enumerate(listed) if isinstance(v, str)}
    return sorted(urns, key=lambda u: position.get(ids.get(u, ""), len(position)))
