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

from .model.deployment import Topology

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

__all__ = [
    "ADVISORY",
    "MANDATORY",
    "PolicyConfigSchema",
    "ReportViolation",
    "ResourceValidationArgs",
    "StackValidationArgs",
    "Topology",
    "mode_or_skip",
    "releases_or_skip",
    "resource_policy",
    "stack_policy",
]


def stack_policy(name: str, description: str, level: EnforcementLevel, remediation: str, tags: list[str],
                 config_schema: PolicyConfigSchema | None = None):
    """Decorator: a StackValidationPolicy around `fn(args, report, topology)`."""

    def wrap(fn) -> StackValidationPolicy:
        def validate(args: StackValidationArgs, report: ReportViolation) -> None:
            fn(args, report, Topology.of(args.resources))

        return StackValidationPolicy(
            name=name, description=description, validate=validate, enforcement_level=level,
            remediation_steps=remediation, tags=tags, config_schema=config_schema,
        )

    return wrap


def resource_policy(name: str, description: str, level: EnforcementLevel, remediation: str, tags: list[str],
                    config_schema: PolicyConfigSchema | None = None):
    """Decorator: a ResourceValidationPolicy around `fn(args, report)`."""

    def wrap(fn) -> ResourceValidationPolicy:
        return ResourceValidationPolicy(
            name=name, description=description, validate=fn, enforcement_level=level,
            remediation_steps=remediation, tags=tags, config_schema=config_schema,
        )

    return wrap


def releases_or_skip(args: StackValidationArgs, topology: Topology) -> None:
    """Mark the policy not applicable when no Milvus Helm release is in the stack."""
    if not topology.releases:
        args.not_applicable("no Milvus Helm release in the stack")


def mode_or_skip(args: StackValidationArgs, topology: Topology, *, multi_zone_only: bool = False,
                 ha_only: bool = False) -> str:
    """The stack's declared mode, or mark the policy not applicable (saying why)."""
    from .model.deployment import HA_MODES, MULTI_ZONE_MODES

    mode = topology.mode()
    if mode is None:
        if topology.declarations():
            args.not_applicable("the milvus-zones/mode declarations disagree or name no known mode "
                                "(see mode-consistent)")
        args.not_applicable("no milvus-zones/mode declared (see mode-declared)")
    if ha_only and mode not in HA_MODES:
        args.not_applicable(f"mode is {mode}; this rule is for multi-zone-ha (and cross-region-ha regions)")
    if multi_zone_only and mode not in MULTI_ZONE_MODES:
        args.not_applicable(f"mode is {mode}; this rule is for the multi-zone modes")
    return mode
