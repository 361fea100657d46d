"""Offline policy check: the pack's own policy objects, run by pulumi-policy's own analyzer.

`pulumi preview --policy-pack policies` starts the pack's analyzer (pulumi-policy's
`_PolicyAnalyzerServicer` behind a gRPC server) and calls it: `Configure` with the pack config,
`Analyze` once per resource with its inputs, `AnalyzeStack` once with every resource's outputs.
This module builds the same servicer (without the server) from the same policy objects and makes
the same calls from a graph recorded by `milvus_zones.engine.offline`. So resource policies see inputs,
stack policies see outputs, unknown values sit behind pulumi-policy's unknown-checking proxy,
enforcement levels and config are applied: all by pulumi-policy's own code, not by a copy of it.

What the engine does and the recording lacks is done here the engine's way: resource references
are downgraded to ids (custom) or URNs (components), default providers get their properties from
the stack config, and pack config gets each policy's schema defaults and is validated against it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format, struct_pb2
from milvus_zones_policies import (
    ALL_POLICIES,
    DEFAULT_ENFORCEMENT_LEVEL,
    PACK_DESCRIPTION,
    PACK_NAME,
    PACK_VERSION,
)
from milvus_zones_policies.model import external
from milvus_zones_policies.model.resources import in_listed_order
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, Policy, ResourceValidationPolicy
from pulumi_policy.policy import _PolicyAnalyzerServicer

from milvus_zones.engine.offline import (
    RESOURCE_SIG,
    SIG_KEY,
    Graph,
    ProgramError,
    Resource,
)

LEVELS: dict[str, EnforcementLevel] = {lvl.value: lvl for lvl in EnforcementLevel}
_PROTO_LEVELS = {proto.ADVISORY: "advisory", proto.MANDATORY: "mandatory", proto.REMEDIATE: "remediate",
                 proto.DISABLED: "disabled"}
_TO_PROTO = {"advisory": proto.ADVISORY, "mandatory": proto.MANDATORY, "remediate": proto.REMEDIATE,
             "disabled": proto.DISABLED}


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    enforcement_level: str  # as configured for this run
    kind: str  # "resource" or "stack"
    remediation: str
    tags: tuple[str, ...]
    config: Mapping[str, Any]


@dataclass(frozen=True)
class Violation:
    policy: str
    enforcement_level: str
    message: str  # what to change (the policy's description stripped off)
    description: str
    urn: str  # "" for the stack as a whole

    @property
    def resource_type(self) -> str:
        return urn_type(self.urn)

    @property
    def resource_name(self) -> str:
        return urn_name(self.urn)


@dataclass(frozen=True)
class NotApplicable:
    policy: str
    reason: str
    urn: str  # the resource for resource policies, "" for stack policies


@dataclass
class Report:
    project: str
    stack: str
    stack_urn: str
    policies: list[PolicyInfo]
    violations: list[Violation]
    not_applicable: list[NotApplicable]
    resource_count: int
    source: Path | None = None
    pack_name: str = PACK_NAME
    pack_version: str = PACK_VERSION
    config_path: Path | None = field(default=None)
    stack_file: Any = None  # stackconfig.StackFile: key positions for report locations
    resource_sources: dict[str, tuple[str, int]] = field(default_factory=dict)  # urn -> (file URI, line)
    program_dir: Path | None = None

    @property
    def mandatory_violations(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement_level == "mandatory"]

    @property
    def advisory_violations(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement_level != "mandatory"]

    def policy(self, name: str) -> PolicyInfo | None:
        return next((p for p in self.policies if p.name == name), None)


def urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if urn else ""


def urn_type(urn: str) -> str:
    if not urn:
        return ""
    parts = urn.split("::")
    return parts[-2].rsplit("$", 1)[-1] if len(parts) >= 2 else ""


# -- pack config, reconciled as the engine does ----------------------------------------------------

def load_policy_config(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        raw = json.loads(Path(path).read_text())
    except OSError as e:
        raise ProgramError(f"policy config {path}: cannot read it ({e.strerror})") from None
    except json.JSONDecodeError as e:
        raise ProgramError(f"policy config {path}: not valid JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(raw, dict):
        raise ProgramError(f"policy config {path}: a JSON object of policy name -> level or settings")
    return raw


def _check_type(value: Any, schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "array":
        items = schema.get("items") or {}
        return isinstance(value, list) and all(_check_type(v, items) for v in value)
    if kind == "object":
        return isinstance(value, dict)
    return True


def resolve_config(raw: Mapping[str, Any], policies: list[Policy] = ALL_POLICIES,
                   where: str = "policy config") -> dict[str, tuple[str, dict[str, Any]]]:
    """policy name -> (enforcement level, properties): policy default < `all` < the policy's own entry;
    properties start from the schema's defaults. Unknown names, keys or wrong types are errors."""
    known = {p.name: p for p in policies}
    for key in raw:
        if key != "all" and key not in known:
            raise ProgramError(f"{where}: unknown policy {key!r}; policies: {', '.join(sorted(known))}")

    def level_of(value: Any, key: str) -> str:
        if not isinstance(value, str) or value not in LEVELS:
            raise ProgramError(f"{where}: {key} must be one of {', '.join(LEVELS)}; got {value!r}")
        return value

    all_level = level_of(raw["all"], "all") if "all" in raw else None
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for p in policies:
        level = (p.enforcement_level or DEFAULT_ENFORCEMENT_LEVEL).value
        if all_level:
            level = all_level
        schema = dict(p.config_schema.properties) if p.config_schema else {}
        props = {k: v["default"] for k, v in schema.items() if isinstance(v, dict) and "default" in v}
        entry = raw.get(p.name)
        if isinstance(entry, str):
            level = level_of(entry, p.name)
        elif isinstance(entry, dict):
            for k, v in entry.items():
                if k == "enforcementLevel":
                    level = level_of(v, f"{p.name}.enforcementLevel")
                elif k not in schema:
                    allowed = ", ".join(["enforcementLevel", *schema]) or "enforcementLevel"
                    raise ProgramError(f"{where}: {p.name} has no setting {k!r}; allowed: {allowed}")
                elif k == external.KEY and (bad := external.problems(v)):
                    raise ProgramError(f"{where}: {p.name}: " + "; ".join(bad))
                elif not _check_type(v, schema[k]):
                    raise ProgramError(f"{where}: {p.name}.{k} must be of type {schema[k].get('type')}; got {v!r}")
                else:
                    props[k] = v
        elif entry is not None:
            raise ProgramError(f"{where}: {p.name} must be a level or an object; got {entry!r}")
        for req in (p.config_schema.required if p.config_schema and p.config_schema.required else []):
            if req not in props:
                raise ProgramError(f"{where}: {p.name} needs setting {req!r}")
        out[p.name] = (level, props)
    return out


def merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `over` merged in, mapping by mapping; `over` wins."""
    out = dict(base)
    for k, v in over.items():
        out[k] = merged(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) else v
    return out


def with_external_resources(raw: Mapping[str, Any], facts: Mapping[str, Any] | None,
                            policies: list[Policy] = ALL_POLICIES) -> dict[str, Any]:
    """A pack config with `facts` as every stack policy's `externalResources`, under what `raw` already
    gives (a user's own entries win). Pack config is per policy: there is no pack-wide property."""
    out = dict(raw)
    if not facts:
        return out
    for p in policies:
        if isinstance(p, ResourceValidationPolicy):
            continue
        entry = out.get(p.name)
        entry = {"enforcementLevel": entry} if isinstance(entry, str) else dict(entry or {})
        given = entry.get(external.KEY)
        entry[external.KEY] = merged(facts, given) if isinstance(given, Mapping) else (
            dict(facts) if given is None else given)
        out[p.name] = entry
    return out


# -- requests, built from the recorded graph as the engine builds them ------------------------------

def _downgrade(value: Any, custom_ids: Mapping[str, str]) -> Any:
    """Resource references -> their id (custom) or URN (component), as the engine marshals them
    for analyzers; pulumi-policy cannot read references."""
    if isinstance(value, list):
        return [_downgrade(v, custom_ids) for v in value]
    if isinstance(value, dict):
        if value.get(SIG_KEY) == RESOURCE_SIG:
            urn = value.get("urn", "")
            rid = value.get("id")
            if rid in (None, "") and urn in custom_ids:
                rid = custom_ids[urn]
            return rid if rid not in (None, "") else urn
        return {k: _downgrade(v, custom_ids) for k, v in value.items()}
    return value


def _struct(wire: Mapping[str, Any], custom_ids: Mapping[str, str]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    json_format.ParseDict(_downgrade(dict(wire), custom_ids), s)
    return s


def _options(r: Resource) -> proto.AnalyzerResourceOptions:
    return proto.AnalyzerResourceOptions(
        protect=r.protect,
        ignoreChanges=list(r.ignore_changes),
        deleteBeforeReplace=r.delete_before_replace,
        deleteBeforeReplaceDefined=r.delete_before_replace,
        parent=r.parent,
    )


def sent(graph: Graph) -> list[Resource]:
    """The resources the engine hands analyzers: not the reads (`Resource.get`). A read is a read step,
    whose state pulumi/pulumi keeps in `deployment.reads` (pkg/resource/deploy/step_executor.go, the
    OpRead/OpReadReplacement branch), never analyzed (step_generator.go `GenerateReadSteps` calls no
    analyzer) nor sent to `AnalyzeStack` (`AnalyzeResources` sends only `deployment.news`; issue
    pulumi/pulumi#3950). Dependencies on a read still go out; pulumi-policy drops those on URNs it was
    not sent. What the policies need from reads comes in the pack config's `externalResources`."""
    return [r for r in graph.resources if not r.external]


class _Requests:
    def __init__(self, graph: Graph, config: Mapping[str, Any] | None):
        self.graph = graph
        self.config = dict(config or {})
        self.by_urn = {r.urn: r for r in graph.resources}
        self.ids = {r.urn: r.id for r in graph.resources if r.custom}

    def struct(self, wire: Mapping[str, Any]) -> struct_pb2.Struct:
        return _struct(wire, self.ids)

    def provider(self, r: Resource) -> proto.AnalyzerProviderResource | None:
        if r.provider:
            urn = r.provider.rsplit("::", 1)[0]
            p = self.by_urn.get(urn)
            if p is None:
                return None
            return proto.AnalyzerProviderResource(type=p.type, properties=self.struct(p.inputs_wire), urn=p.urn,
                                                  name=p.name)
        if not r.custom or r.type.startswith("pulumi:providers:"):
            return None
        # A default provider: the engine configures it from the stack's `<package>:*` config.
        pkg = r.type.split(":", 1)[0]
        props = {k.split(":", 1)[1]: v for k, v in self.config.items() if k.startswith(pkg + ":")}
        return proto.AnalyzerProviderResource(
            type=f"pulumi:providers:{pkg}", properties=self.struct(props),
            urn=f"urn:pulumi:{self.graph.stack}::{self.graph.project}::pulumi:providers:{pkg}::default",
            name="default",
        )

    def analyze(self, r: Resource) -> proto.AnalyzeRequest:
        req = proto.AnalyzeRequest(type=r.type, properties=self.struct(r.inputs_wire),
                                   urn=r.urn, name=r.name, options=_options(r))
        prov = self.provider(r)
        if prov is not None:
            req.provider.CopyFrom(prov)
        return req

    def analyze_stack(self) -> proto.AnalyzeStackRequest:
        resources = []
        g = self.graph
        if g.stack_urn:
            resources.append(proto.AnalyzerResource(
                type="pulumi:pulumi:Stack", properties=self.struct(g.outputs_wire), urn=g.stack_urn,
                name=f"{g.project}-{g.stack}", options=proto.AnalyzerResourceOptions()))
        for r in sent(g):
            ar = proto.AnalyzerResource(
                type=r.type, properties=self.struct(r.outputs_wire), urn=r.urn, name=r.name, options=_options(r),
                parent=r.parent, dependencies=list(r.dependencies),
            )
            outputs = r.outputs
            for key, urns in (r.property_dependencies or {}).items():
                ar.propertyDependencies[key].urns.extend(in_listed_order(urns, outputs.get(key), self.ids))
            prov = self.provider(r)
            if prov is not None:
                ar.provider.CopyFrom(prov)
            resources.append(ar)
        return proto.AnalyzeStackRequest(resources=resources)


def _configure_request(resolved: Mapping[str, tuple[str, dict[str, Any]]]) -> proto.ConfigureAnalyzerRequest:
    req = proto.ConfigureAnalyzerRequest()
    for name, (level, props) in resolved.items():
        cfg = req.policyConfig[name]
        cfg.enforcementLevel = _TO_PROTO[level]
        cfg.properties.update(props)
    return req


def check_graph(graph: Graph, policy_config_path: Path | None = None, *, source: Path | None = None,
                config: Mapping[str, Any] | None = None, policies: list[Policy] | None = None,
                stack_file: Any = None, program_dir: Path | None = None,
                stack_tags: Mapping[str, str] | None = None,
                external_resources: Mapping[str, Any] | None = None) -> Report:
    """Run the pack on a recorded graph. `source`: the stack config file (for SARIF locations);
    `config`: the stack's config values (for default providers' properties, e.g. alicloud:region);
    `stack_tags`: the stack's tags, as `pulumi preview` passes them (e.g. milvus-zones:deployed);
    `external_resources`: the facts about the stack's reads, given to every stack policy
    (`milvus-zones policy-config` writes the same for `pulumi preview --policy-pack-config`)."""
    policies = list(ALL_POLICIES if policies is None else policies)
    raw = with_external_resources(load_policy_config(policy_config_path), external_resources, policies)
    resolved = resolve_config(raw, policies, where=f"policy config {policy_config_path}")
    servicer = _PolicyAnalyzerServicer(PACK_NAME, PACK_VERSION, policies, DEFAULT_ENFORCEMENT_LEVEL,
                                       None, PACK_DESCRIPTION)
    servicer.Configure(_configure_request(resolved), None)
    servicer.ConfigureStack(proto.AnalyzerStackConfigureRequest(stack=graph.stack, project=graph.project,
                                                                tags=dict(stack_tags or {})), None)

    requests = _Requests(graph, config)
    violations: list[Violation] = []
    not_applicable: list[NotApplicable] = []
    descriptions = {p.name: p.description for p in policies}

    def collect(response: proto.AnalyzeResponse, default_urn: str) -> None:
        for d in response.diagnostics:
            message = d.message
            if message.startswith(d.description):
                message = message[len(d.description):].lstrip("\n")
            violations.append(Violation(d.policyName, _PROTO_LEVELS[d.enforcementLevel], message or d.description,
                                        descriptions.get(d.policyName, d.description), d.urn or default_urn))
        for na in response.not_applicable:
            not_applicable.append(NotApplicable(na.policy_name, na.reason, default_urn))

    for r in sent(graph):
        collect(servicer.Analyze(requests.analyze(r), None), r.urn)
    collect(servicer.AnalyzeStack(requests.analyze_stack(), None), "")

    order = {p.name: i for i, p in enumerate(policies)}
    violations.sort(key=lambda v: (v.enforcement_level != "mandatory", order.get(v.policy, 99), v.urn))
    infos = [
        PolicyInfo(p.name, p.description, resolved[p.name][0],
                   "resource" if isinstance(p, ResourceValidationPolicy) else "stack",
                   p.remediation_steps or "", tuple(p.tags or ()), resolved[p.name][1])
        for p in policies
    ]
    return Report(graph.project, graph.stack, graph.stack_urn, infos, violations, not_applicable,
                  len(graph.resources), Path(source) if source else None, config_path=policy_config_path,
                  stack_file=stack_file, resource_sources={r.urn: r.source for r in graph.resources if r.source},
                  program_dir=program_dir)


def render(report: Report, fmt: str) -> str:
    """One stack's report in a format of check_reports (kept here for callers of the runner)."""
    from milvus_zones.analysis import check_reports

    return check_reports.render(report, fmt)
