"""Show a recorded resource graph grouped by region and zone: text, JSON (preview shape), markdown, mermaid."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from dataclasses import dataclass

from rich.console import Console
from rich.text import Text
from rich.tree import Tree

from milvus_zones.engine.offline import Graph, Resource

SWITCH = "alicloud:vpc/switch:Switch"
NODE_POOL = "alicloud:cs/nodePool:NodePool"
CLUSTER = "alicloud:cs/managedKubernetes:ManagedKubernetes"
BUCKET = "alicloud:oss/bucket:Bucket"
NAT = "alicloud:vpc/natGateway:NatGateway"
RELEASE = "kubernetes:helm.sh/v3:Release"
PROVIDER = "pulumi:providers:alicloud"
MANAGED = "alicloud:index/milvusInstance:MilvusInstance"

REGIONAL = "regional"
IN_CLUSTER = "in the cluster"


@dataclass(frozen=True)
class Location:
    region: str
    zones: tuple[str, ...]  # empty for regional / in-cluster resources
    group: str  # a zone id, "regional" or "in the cluster"


def _props(r: Resource) -> dict:
    """What a resource is: its inputs, or for a read (`Resource.get`) the state read."""
    return r.outputs if r.external else r.inputs


def _zones_via(graph: Graph, r: Resource, prop: str, switch_zone: dict[str, str]) -> tuple[str, ...]:
    """Zones of the vSwitches a property names, in the order given.

    Ids are matched against the recorded switches; where ids are unknown (a real preview), the
    property's dependencies on switch resources are used instead.
    """
    ids = _props(r).get(prop) or []
    ids = ids if isinstance(ids, list) else [ids]
    by_id = {s.id: _props(s).get("zoneId", "") for s in graph.of_type(SWITCH)}
    zones = [by_id[i] for i in ids if i in by_id]
    if len(zones) != len(ids):
        zones = [switch_zone[u] for u in r.property_dependencies.get(prop, []) if u in switch_zone]
    return tuple(dict.fromkeys(z for z in zones if z))


def placements(graph: Graph) -> dict[str, Location]:
    switch_zone = {s.urn: _props(s).get("zoneId", "") for s in graph.of_type(SWITCH)}
    by_urn = {r.urn: r for r in graph.resources}
    regions: dict[str, str] = {}

    def region_of(r: Resource, seen: frozenset[str] = frozenset()) -> str:
        """An alicloud provider's region; else its provider's; else that of what it depends on or sits in."""
        if r.urn in regions:
            return regions[r.urn]
        if r.urn in seen:
            return ""
        seen = seen | {r.urn}
        region = r.inputs.get("region", "") if r.type == PROVIDER else ""
        candidates = [r.provider.rsplit("::", 1)[0]] if r.provider else []
        candidates += [*r.dependencies, r.parent]
        for urn in candidates:
            if region:
                break
            other = by_urn.get(urn)
            if other is not None:
                region = region_of(other, seen)
        regions[r.urn] = region
        return region

    out: dict[str, Location] = {}
    for r in graph.resources:
        zones: tuple[str, ...] = ()
        if r.type == SWITCH:
            zones = (_props(r).get("zoneId", ""),)
        elif r.type in (NODE_POOL, CLUSTER):
            zones = _zones_via(graph, r, "vswitchIds", switch_zone)
        elif r.type == NAT:
            zones = _zones_via(graph, r, "vswitchId", switch_zone)
        if r.type.startswith("kubernetes:") or r.type == "pulumi:providers:kubernetes":
            group = IN_CLUSTER
        elif len(zones) == 1:
            group = zones[0]
        else:
            group = REGIONAL
        out[r.urn] = Location(region_of(r), zones, group)
    return out


def summary(r: Resource, place: Location) -> str:
    """One line of the facts that matter for zone placement and data safety."""
    i = _props(r)
    facts: list[str] = ["existing, read"] if r.external else []
    if r.type == NODE_POOL:
        facts.append(f"{i.get('desiredSize')} x {','.join(i.get('instanceTypes') or [])}")
        if place.zones:
            facts.append("zones " + " > ".join(place.zones))
        if i.get("multiAzPolicy"):
            facts.append(f"placement {i['multiAzPolicy']}")
        labels = {lb["key"]: lb["value"] for lb in i.get("labels") or []}
        if labels:
            facts.append(", ".join(f"{k}={v}" for k, v in sorted(labels.items())))
    elif r.type == CLUSTER:
        facts.append(f"{i.get('clusterSpec')}, control plane in " + ", ".join(place.zones))
        facts.append(f"RRSA {'on' if i.get('enableRrsa') else 'OFF'}")
        facts.append(f"deletion protection {'on' if i.get('deletionProtection') else 'OFF'}")
    elif r.type == BUCKET:
        facts.append(f"{i.get('redundancyType', 'LRS')}")
        facts.append(f"versioning {(i.get('versioning') or {}).get('status', 'off')}")
        sse = (i.get("serverSideEncryptionRule") or {}).get("sseAlgorithm")
        facts.append(f"encryption {sse or 'none'}")
    elif r.type == MANAGED:
        facts.append(f"Milvus {i.get('dbVersion')}, multiZoneMode {i.get('multiZoneMode')}, primary {i.get('zoneId')}")
        facts.append(f"HA {'on' if i.get('ha') else 'off'}, multi-AZ storage {'on' if i.get('isMultiAzStorage') else 'off'}")
        facts.append(", ".join(f"{c.get('type')} {c.get('replica')}x{c.get('cuNum')}CU" for c in i.get("components") or []))
        facts.append(f"KMS {'on' if i.get('encrypted') else 'OFF'}, backup {'on' if i.get('autoBackup') else 'OFF'}")
    elif r.type == SWITCH:
        facts.append(i.get("cidrBlock", ""))
    elif r.type == RELEASE:
        values = i.get("values") or {}
        facts.append(f"chart {i.get('chart')} {i.get('version')}")
        etcd = values.get("etcd") or {}
        if etcd:
            facts.append(f"etcd {etcd.get('replicaCount', '?')} members")
        groups = values.get("replicaResourceGroups")
        if groups:
            facts.append(f"resource groups {','.join(groups)}")
        if i.get("postrender"):
            facts.append("post-renderer pins groups to zones")
    if r.protect:
        facts.append("protected")
    return "; ".join(f for f in facts if f)


def _label(r: Resource) -> str:
    short = r.type.split(":")[-1]
    return f"{short} {r.name}"


def render(graph: Graph, fmt: str) -> str:
    places = placements(graph)
    if fmt == "json":
        return render_json(graph, places)
    if fmt == "markdown":
        return render_markdown(graph, places)
    if fmt == "mermaid":
        return render_mermaid(graph, places)
    return render_text(graph, places)


def _grouped(graph: Graph, places: dict[str, Location]) -> dict[str, dict[str, list[Resource]]]:
    groups: dict[str, dict[str, list[Resource]]] = defaultdict(lambda: defaultdict(list))
    for r in graph.resources:
        if not r.custom:
            continue  # components hold no cloud resource of their own
        p = places[r.urn]
        groups[p.region or "(no region)"][p.group].append(r)
    for by_group in groups.values():
        for members in by_group.values():
            members.sort(key=lambda r: (r.type, r.name))
    return groups


def _group_order(keys) -> list[str]:
    zones = sorted(k for k in keys if k not in (REGIONAL, IN_CLUSTER))
    return zones + [k for k in (REGIONAL, IN_CLUSTER) if k in keys]


def render_text(graph: Graph, places: dict[str, Location]) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=160, color_system=None, highlight=False, emoji=False)
    custom = [r for r in graph.resources if r.custom and not r.external]
    read = sum(1 for r in graph.resources if r.external)
    also = f", {read} existing read" if read else ""
    tree = Tree(Text(f"stack {graph.stack} ({graph.project}): {len(custom)} resources to create{also}"))
    for region, groups in sorted(_grouped(graph, places).items()):
        reg = tree.add(Text(f"region {region}"))
        for group in _group_order(groups):
            title = f"zone {group}" if group not in (REGIONAL, IN_CLUSTER) else group
            node = reg.add(Text(f"{title} ({len(groups[group])})"))
            for r in groups[group]:
                facts = summary(r, places[r.urn])
                node.add(Text(_label(r) + (f"  [{facts}]" if facts else "")))
    outs = tree.add(Text("outputs"))
    for k, v in sorted(graph.outputs.items()):
        outs.add(Text(f"{k}: {json.dumps(v) if not isinstance(v, str) else v}"))
    console.print(tree)
    return buf.getvalue()


def render_json(graph: Graph, places: dict[str, Location]) -> str:
    steps = []
    for r in graph.resources:
        p = places[r.urn]
        steps.append(
            {
                "op": "read" if r.external else "create",
                "urn": r.urn,
                "provider": r.provider,
                "newState": {
                    "type": r.type,
                    "urn": r.urn,
                    "custom": r.custom,
                    "id": r.id if r.custom else "",
                    "parent": r.parent,
                    "protect": r.protect,
                    "retainOnDelete": r.retain_on_delete,
                    "inputs": r.inputs,
                    "outputs": r.outputs,
                    "dependencies": r.dependencies,
                    "propertyDependencies": r.property_dependencies,
                },
                "placement": {"region": p.region, "zones": list(p.zones), "group": p.group},
            }
        )
    doc = {
        "stack": graph.stack,
        "project": graph.project,
        "steps": steps,
        "outputs": graph.outputs,
        "changeSummary": {"create": len(steps)},
    }
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def render_markdown(graph: Graph, places: dict[str, Location]) -> str:
    lines = [f"## Plan of stack `{graph.stack}`", ""]
    for region, groups in sorted(_grouped(graph, places).items()):
        lines.append(f"### Region {region}")
        for group in _group_order(groups):
            title = f"Zone `{group}`" if group not in (REGIONAL, IN_CLUSTER) else group.capitalize()
            lines += ["", f"#### {title}", "", "| resource | type | facts |", "|---|---|---|"]
            for r in groups[group]:
                lines.append(f"| `{r.name}` | `{r.type}` | {summary(r, places[r.urn]) or ''} |")
        lines.append("")
    lines += ["### Outputs", "", "| output | value |", "|---|---|"]
    for k, v in sorted(graph.outputs.items()):
        lines.append(f"| `{k}` | `{json.dumps(v) if not isinstance(v, str) else v}` |")
    return "\n".join(lines) + "\n"


def render_mermaid(graph: Graph, places: dict[str, Location]) -> str:
    ids: dict[str, str] = {}
    lines = ["flowchart TB"]
    for region, groups in sorted(_grouped(graph, places).items()):
        lines.append(f'  subgraph region_{_mid(region)}["region {region}"]')
        for group in _group_order(groups):
            lines.append(f'    subgraph g_{_mid(region + group)}["{group}"]')
            for r in groups[group]:
                ids[r.urn] = f"r{len(ids)}"
                lines.append(f'      {ids[r.urn]}["{_label(r)}"]')
            lines.append("    end")
        lines.append("  end")
    for r in graph.resources:
        for d in sorted(set(r.dependencies)):
            if r.urn in ids and d in ids:
                lines.append(f"  {ids[d]} --> {ids[r.urn]}")
    return "\n".join(lines) + "\n"


def _mid(s: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in s)
