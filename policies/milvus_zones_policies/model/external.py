"""Facts about pre-existing resources, given as pack config, because `pulumi preview` never sends reads.

A resource read with `Resource.get` (an existing vSwitch, a team's node pool) is a read step: the engine
keeps its state in `deployment.reads`, not `deployment.news` (pulumi/pulumi pkg/resource/deploy/
step_executor.go, the OpRead/OpReadReplacement branch), and `AnalyzeResources` sends only `news` to
`AnalyzeStack` (step_generator.go); `GenerateReadSteps` never calls `Analyze` either (issue
pulumi/pulumi#3950, open). pulumi-policy then drops the dependencies on URNs it was not sent
(pulumi_policy/policy.py, AnalyzeStack). So every stack policy takes one config property,
`externalResources`, defined here once: the vSwitches' zones and the node pools' fields the rules read.
`with_external` turns it into PolicyResources of the real types that the stack's resources link to by
the literal ids they list (ids of reads are known at preview), and the model reads them like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions
from pulumi_policy.proxy import UnknownValueError

from .names import NODE_POOL, VSWITCH

KEY = "externalResources"
HINT = (f"declare it in the pack config's {KEY} (`milvus-zones policy-config STACK` writes it for "
        "`pulumi preview --policy-pack-config`): a resource read with `.get` is never sent to policies")

_STR = {"type": "string"}
_PAIRS = {"type": "array", "items": {"type": "object", "properties": {"key": _STR, "value": _STR}, "required": ["key"]}}
_TAINTS = {"type": "array", "items": {"type": "object", "properties": {"key": _STR, "value": _STR, "effect": _STR},
                                      "required": ["key"]}}
_INT = {"type": ["integer", "string"]}
POOL_FIELDS: dict[str, Any] = {
    "clusterId": _STR,
    "nodePoolName": _STR,
    "vswitchIds": {"type": "array", "items": _STR},
    "labels": _PAIRS,
    "taints": _TAINTS,
    "desiredSize": _INT,
    "scalingConfig": {"type": "object", "properties": {"enable": {"type": "boolean"}, "minSize": _INT,
                                                       "maxSize": _INT}},
    "instanceTypes": {"type": "array", "items": _STR},
    "multiAzPolicy": _STR,
    "management": {"type": "object"},
    "systemDiskEncrypted": {"type": "boolean"},
    "systemDiskKmsKey": _STR,
    "dataDisks": {"type": "array", "items": {"type": "object"}},
}
VSWITCH_FIELDS: dict[str, Any] = {"zoneId": _STR, "vpcId": _STR, "cidrBlock": _STR}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Pre-existing resources the stack reads with `.get`, which `pulumi preview` does not send to "
                   "policies: vswitches (id -> {zoneId, ...}) and nodePools (node pool id -> its fields).",
    "default": {},
    "properties": {
        "vswitches": {"type": "object", "additionalProperties": {
            "type": "object", "properties": VSWITCH_FIELDS, "required": ["zoneId"], "additionalProperties": False}},
        "nodePools": {"type": "object", "additionalProperties": {
            "type": "object", "properties": POOL_FIELDS, "additionalProperties": False}},
    },
    "additionalProperties": False,
}
KINDS = {"vswitches": (VSWITCH, VSWITCH_FIELDS, ("zoneId",)), "nodePools": (NODE_POOL, POOL_FIELDS, ())}


def _fits(value: Any, schema: Mapping[str, Any]) -> bool:
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    ok = {"string": isinstance(value, str), "boolean": isinstance(value, bool),
          "integer": isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer(),
          "array": isinstance(value, list), "object": isinstance(value, Mapping), None: True}
    if not any(ok.get(k, False) for k in kinds):
        return False
    if isinstance(value, list):
        return all(_fits(v, schema.get("items") or {}) for v in value)
    if isinstance(value, Mapping) and "properties" in schema:
        return all(k in value for k in schema.get("required", ())) and all(
            _fits(v, schema["properties"].get(k, {})) for k, v in value.items())
    return True


def problems(facts: Any) -> list[str]:
    """What is wrong with an `externalResources` value, each naming the key and what is allowed."""
    if facts is None:
        return []
    if not isinstance(facts, Mapping):
        return [f"{KEY} must be an object with vswitches and nodePools; got {facts!r}"]
    out = [f"{KEY} has no key {k!r}; allowed: {', '.join(KINDS)}" for k in facts if k not in KINDS]
    for kind, (_, fields, required) in KINDS.items():
        entries = facts.get(kind) or {}
        if not isinstance(entries, Mapping):
            out.append(f"{KEY}.{kind} must be an object of resource id -> its fields; got {entries!r}")
            continue
        for rid, entry in entries.items():
            where = f"{KEY}.{kind}.{rid}"
            if not isinstance(entry, Mapping):
                out.append(f"{where} must be an object of fields ({', '.join(fields)})")
                continue
            out += [f"{where} needs {k}" for k in required if k not in entry]
            for k, v in entry.items():
                if k not in fields:
                    out.append(f"{where} has no field {k!r}; allowed: {', '.join(fields)}")
                elif not _fits(v, fields[k]):
                    t = fields[k]["type"]
                    out.append(f"{where}.{k} must be of type {' or '.join(t) if isinstance(t, list) else t}; got {v!r}")
    return out


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(protect=False, ignore_changes=[], delete_before_replace=False, aliases=[],
                                 custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[],
                                 parent=None)


def synthetic(facts: Mapping[str, Any] | None) -> list[PolicyResource]:
    """The declared resources as PolicyResources of their real types (URN `urn:external::<type>::<id>`)."""
    out: list[PolicyResource] = []
    for kind, (rtype, _, _) in KINDS.items():
        for rid, entry in sorted(((facts or {}).get(kind) or {}).items()):
            props = {k: (str(int(v)) if k == "desiredSize" and isinstance(v, (int, float)) else v)
                     for k, v in dict(entry).items()}
            name = str(props.get("nodePoolName") or rid)
            out.append(PolicyResource(rtype, props, f"urn:external::{rtype}::{rid}", name, _options(), None, None,
                                      [], {}))
    return out


def _listed(value: Any) -> list[str | None]:
    """A property's ids in order; None where an element is unknown at preview (a vSwitch being created)."""
    if isinstance(value, str):
        return [value]
    if value is None or isinstance(value, (bytes, Mapping)) or hasattr(value, "keys"):
        return []
    try:
        count = len(value)
    except (TypeError, UnknownValueError):
        return []
    out: list[str | None] = []
    for i in range(count):
        try:
            v = value[i]
        except UnknownValueError:
            v = None
        out.append(v if isinstance(v, str) else None)
    return out


def with_external(resources: list[PolicyResource], facts: Mapping[str, Any] | None) -> list[PolicyResource]:
    """The stack's resources and the declared ones, each resource's property dependencies extended with
    the declared resources whose ids it lists, merged in the order it lists them."""
    extra = synthetic(facts)
    if not extra:
        return list(resources)
    by_id = {r.urn.rsplit("::", 1)[1]: r for r in extra}
    for res in [*resources, *extra]:
        try:
            keys = list(res.props.keys())
        except (AttributeError, UnknownValueError):
            continue
        for key in keys:
            try:
                listed = _listed(res.props.get(key))
            except UnknownValueError:
                continue
            found = [v for v in listed if v is not None and v in by_id and by_id[v] is not res]
            if not found:
                continue
            own = list(res.property_dependencies.get(key, []))
            merged: list[PolicyResource] = []
            for v in listed:  # listed order: with PRIORITY a pool's first vSwitch is its zone
                if v is not None and v in by_id and by_id[v] is not res:
                    merged.append(by_id[v])
                elif own:
                    merged.append(own.pop(0))
            res.property_dependencies[key] = [*merged, *own]
    return [*resources, *extra]
