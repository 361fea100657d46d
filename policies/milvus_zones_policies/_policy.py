"""Shared shape of the pack's policies: metadata that tests, docs and SARIF read."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .model import external
from .model.deployment import Topology

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
# Opt-in rules: a peer's default we deliberately do not share (docs/policies.md says why); a pack config
# of "advisory" or "mandatory" turns them on.
OPT_IN = EnforcementLevel.DISABLED

__all__ = [
    "ADVISORY",
    "MANDATORY",
    "OPT_IN",
    "PolicyConfigSchema",
    "ReportViolation",
    "ResourceValidationArgs",
    "StackValidationArgs",
    "Topology",
    "mode_or_skip",
    "peer_rules",
    "releases_or_skip",
    "resource_policy",
    "stack_policy",
]


def _with_peers(policy, peers: dict[str, str] | None):
    """Record the peer scanners' rule ids a policy answers: id -> "" (covered) or "partial: why"."""
    for rule, note in (peers or {}).items():
        if note and not note.startswith("partial: "):
            raise ValueError(f"{policy.name}: peer note for {rule} must be empty or start with 'partial: '")
    policy.peer_rules = dict(peers or {})
    return policy


def peer_rules(policy) -> dict[str, str]:
    """The peer rule ids a policy's metadata names (see _with_peers)."""
    return getattr(policy, "peer_rules", {})


def stack_policy(name: str, description: str, level: EnforcementLevel, remediation: str, tags: list[str],
                 config_schema: PolicyConfigSchema | None = None, peers: dict[str, str] | None = None):
    """Decorator: a StackValidationPolicy around `fn(args, report, topology)`.

    Every stack policy takes `externalResources` (model/external.py): the pre-existing resources the
    stack reads, which the engine never sends to policies, join the topology as resources of their types.
    """
    schema = PolicyConfigSchema(
        properties={**(config_schema.properties if config_schema else {}), external.KEY: external.SCHEMA},
        required=config_schema.required if config_schema else None,
    )

    def wrap(fn) -> StackValidationPolicy:
        def validate(args: StackValidationArgs, report: ReportViolation) -> None:
            facts = args.get_config().get(external.KEY)
            problems = external.problems(facts)
            if problems:
                report("the pack config is invalid: " + "; ".join(problems), None)
                return
            fn(args, report, Topology.of(external.with_external(list(args.resources), facts)))

        return _with_peers(StackValidationPolicy(
            name=name, description=description, validate=validate, enforcement_level=level,
            remediation_steps=remediation, tags=tags, config_schema=schema,
        ), peers)

    return wrap


def resource_policy(name: str, description: str, level: EnforcementLevel, remediation: str, tags: list[str],
                    config_schema: PolicyConfigSchema | None = None, peers: dict[str, str] | None = None):
    """Decorator: a ResourceValidationPolicy around `fn(args, report)`."""

    def wrap(fn) -> ResourceValidationPolicy:
        return _with_peers(ResourceValidationPolicy(
            name=name, description=description, validate=fn, enforcement_level=level,
            remediation_steps=remediation, tags=tags, config_schema=config_schema,
        ), peers)

    return wrap


def releases_or_skip(args: StackValidationArgs, topology: Topology) -> None:
    """Mark the policy not applicable when no Milvus Helm release is in the stack."""
    if not topology.releases:
        args.not_applicable("no Milvus Helm release in the stack")


def mode_or_skip(args: StackValidationArgs, topology: Topology, *, multi_zone_only: bool = False,
                 ha_only: bool = False) -> str | None:
    """The stack's declared mode, or mark the policy not applicable (saying why).

    A stack holding several deployments of different modes (two MilvusZones in one program), each
    consistent on its own, gives None: the policy then holds each deployment to `dep.mode()`. It is
    not applicable when none of them is of the modes it is for.
    """
    from .model.deployment import HA_MODES, MULTI_ZONE_MODES

    mode = topology.mode()
    modes = topology.modes()
    if not modes:
        if topology.declarations():
            args.not_applicable("the milvus-zones/mode declarations disagree or name no known mode "
                                "(see mode-consistent)")
        args.not_applicable("no milvus-zones/mode declared (see mode-declared)")
        raise AssertionError("not_applicable raises")  # pulumi-policy's stub is typed as returning
    shown = mode or ", ".join(sorted(modes))
    if ha_only and not modes & HA_MODES:
        args.not_applicable(f"mode is {shown}; this rule is for multi-zone-ha (and cross-region-ha regions)")
    if multi_zone_only and not modes & MULTI_ZONE_MODES:
        args.not_applicable(f"mode is {shown}; this rule is for the multi-zone modes")
    return mode
