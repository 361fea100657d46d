"""Stack config -> validated DeploymentSpec, with one message per broken rule that names the key.

`spec_from_config` turns the flat config the language host passes (strings, structured values as
JSON) into the DeploymentSpec in pydantic's strict mode: no value silently coerced. The stack file
itself is read (strictly, with the line of every key) by `milvus_zones.engine.stackfile`.
"""

from __future__ import annotations

import difflib
import json
import re
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from milvus_zones.planning.spec import DeploymentSpec, NetworkSpec, SpecError

NAMESPACE = "milvus-zones"
# Keys of the namespace that are not part of the spec (read by the program itself).
PROGRAM_KEYS = frozenset({"rootPassword"})


def _aliases(model) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


SPEC_KEYS = _aliases(DeploymentSpec)
NETWORK_KEYS = _aliases(NetworkSpec)


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


def _scalar_kind(annotation: Any) -> type | None:
    """int or bool for fields that hold one (optional or constrained), else None."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    if typing.get_origin(annotation) is typing.Annotated:
        args = [typing.get_args(annotation)[0]]
    for a in args:
        if a is bool:
            return bool
        if a is int:
            return int
    return None


_SCALAR_KEYS = {f.alias or n: k for n, f in DeploymentSpec.model_fields.items() if (k := _scalar_kind(f.annotation))}
_INT_TEXT = re.compile(r"^-?[0-9]+$")


def namespace_values(config: Mapping[str, Any], namespace: str = NAMESPACE) -> dict[str, Any]:
    """Pick `namespace:key` entries and read each as its declared type. The language host passes
    every value as a string (structured ones as JSON, numbers and booleans as their text): only
    that exact text is read back; anything else stays a string for the strict validation to refuse."""
    out: dict[str, Any] = {}
    prefix = f"{namespace}:"
    for full, raw in config.items():
        if not full.startswith(prefix):
            continue
        key = full[len(prefix):]
        if key in PROGRAM_KEYS:
            continue
        value = raw
        if isinstance(raw, str) and key not in _STRING_KEYS:
            kind = _SCALAR_KEYS.get(key)
            if kind is int:
                value = int(raw) if _INT_TEXT.match(raw) else raw
            elif kind is bool:
                value = {"true": True, "false": False}.get(raw, raw)
            else:
                try:
                    value = json.loads(raw)
                except json.JSONDecodeError:
                    value = raw  # left as a string: pydantic names the key and the type it wanted
        out[key] = value
    return out


def spec_from_config(config: Mapping[str, Any], namespace: str = NAMESPACE) -> DeploymentSpec:
    return spec_from_settings(namespace_values(config, namespace), namespace)


def spec_from_settings(values: Mapping[str, Any], namespace: str = NAMESPACE) -> DeploymentSpec:
    """Settings already typed (a component's args, keys camelCase or snake_case) -> the validated spec."""
    try:
        # Strict: a list is never a string, "4" never an integer, 1 never true. JSON input so that
        # enum and Literal fields take their string values.
        return DeploymentSpec.model_validate_json(json.dumps(values), strict=True)
    except ValidationError as e:
        raise SpecError([_problem(err, namespace) for err in e.errors()]) from None
    except (TypeError, ValueError) as e:  # a value json cannot carry (only from Python callers)
        raise SpecError([("(config)", f"not a config value: {e}")]) from None


def _model_at(loc: list[str]) -> type[BaseModel] | None:
    """The model that holds the last element of loc (for nested settings' own allowed keys)."""
    model: type[BaseModel] | None = DeploymentSpec
    for part in loc[:-1]:
        if model is None:
            return None
        by_alias = {f.alias or n: f for n, f in model.model_fields.items()}
        f = by_alias.get(part)
        if f is None:
            return None
        inner = [a for a in (typing.get_args(f.annotation) or (f.annotation,)) if a is not type(None)]
        model = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return model


def _key_path(loc: list[Any]) -> str:
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _problem(err: Mapping[str, Any], namespace: str) -> tuple[str, str]:
    loc = [p for p in err["loc"] if p != "json-or-python"]
    key = _key_path(loc) if loc else "(config)"
    kind = err["type"]
    if kind == "extra_forbidden":
        model = _model_at([str(p) for p in loc])
        allowed = _aliases(model) if model is not None else []
        if model is DeploymentSpec:
            allowed = SPEC_KEYS + sorted(PROGRAM_KEYS)
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        where = f" of {_key_path(loc[:-1])}" if len(loc) > 1 else ""
        return key, f"unknown setting{where}{hint}; allowed: {', '.join(allowed)}"
    if kind == "missing":
        return key, f"required; set it with `pulumi config set {namespace}:{loc[0]} <value>`"
    msg = err["msg"].removeprefix("Value error, ")
    if "input" in err and kind not in ("value_error",):
        msg = f"{msg}; got {err['input']!r}"
    return key, msg


def format_problems(e: SpecError, namespace: str = NAMESPACE) -> str:
    return "\n".join(f"{namespace}:{k}: {m}" for k, m in e.problems)
