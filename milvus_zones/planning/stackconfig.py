"""Stack config -> validated DeploymentSpec, with one message per broken rule that names the key."""

from __future__ import annotations

import difflib
import json
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from milvus_zones.planning.spec import DeploymentSpec, NetworkSpec, SecuritySpec, SpecError

NAMESPACE = "milvus-zones"
# Keys of the namespace that are not part of the spec (read by the program itself).
PROGRAM_KEYS = frozenset({"rootPassword"})


def _aliases(model) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


SPEC_KEYS = _aliases(DeploymentSpec)
NETWORK_KEYS = _aliases(NetworkSpec)
SECURITY_KEYS = _aliases(SecuritySpec)
_NESTED_KEYS = {"network": NETWORK_KEYS, "security": SECURITY_KEYS}


def _is_text(annotation: Any) -> bool:
    """str, a str enum or a Literal of strings, optional or not: config gives these verbatim."""
    if typing.get_origin(annotation) in (list, dict):
        return False
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Literal:
        return all(isinstance(a, str) for a in args)
    if args:
        return all(_is_text(a) for a in args)
    return isinstance(annotation, type) and issubclass(annotation, str)


_STRING_KEYS = frozenset(f.alias or n for n, f in DeploymentSpec.model_fields.items() if _is_text(f.annotation))


def namespace_values(config: Mapping[str, Any], namespace: str = NAMESPACE) -> dict[str, Any]:
    """Pick `namespace:key` entries; Pulumi passes structured values as JSON strings."""
    out: dict[str, Any] = {}
    prefix = f"{namespace}:"
    for full, value in config.items():
        if not full.startswith(prefix):
            continue
        key = full[len(prefix):]
        if key in PROGRAM_KEYS:
            continue
        if isinstance(value, str) and key not in _STRING_KEYS:
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass  # left as a string: pydantic names the key and the type it wanted
        elif key in _STRING_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        out[key] = value
    return out


def spec_from_config(config: Mapping[str, Any], namespace: str = NAMESPACE) -> DeploymentSpec:
    values = namespace_values(config, namespace)
    try:
        return DeploymentSpec.model_validate(values)
    except ValidationError as e:
        raise SpecError([_problem(err, namespace) for err in e.errors()]) from None


def _problem(err: Mapping[str, Any], namespace: str) -> tuple[str, str]:
    loc = [str(p) for p in err["loc"]]
    key = ".".join(loc) if loc else "(config)"
    kind = err["type"]
    if kind == "extra_forbidden":
        nested = _NESTED_KEYS.get(loc[0]) if len(loc) > 1 else None
        allowed = nested if nested is not None else SPEC_KEYS + sorted(PROGRAM_KEYS)
        close = difflib.get_close_matches(loc[-1], allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return key, f"unknown setting{hint}; allowed: {', '.join(allowed)}"
    if kind == "missing":
        return key, f"required; set it with `pulumi config set {namespace}:{loc[0]} <value>`"
    msg = err["msg"].removeprefix("Value error, ")
    if "input" in err and kind not in ("value_error",):
        msg = f"{msg}; got {err['input']!r}"
    return key, msg


def format_problems(e: SpecError, namespace: str = NAMESPACE) -> str:
    return "\n".join(f"{namespace}:{k}: {m}" for k, m in e.problems)
