"""Reading resource properties as pulumi-policy hands them over.

Properties arrive wrapped in pulumi-policy's unknown-checking proxies: mappings and sequences that
are not `dict`/`list`, numbers as floats, and values unknown at preview raising `UnknownValueError`
when read. These helpers accept that shape (and plain dicts, for the library's own callers).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError

__all__ = [
    "TRUE_STRINGS",
    "UnknownValueError",
    "as_int",
    "dig",
    "is_list",
    "is_map",
    "labels_of",
    "region_of_zone",
    "truthy",
    "walk",
]

TRUE_STRINGS = frozenset({"true", "yes", "on", "1"})


def is_map(value: Any) -> bool:
    return isinstance(value, Mapping)


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def dig(value: Any, *path: str | int, default: Any = None) -> Any:
    """value[p0][p1]... or `default` when a step is missing (unknowns still raise)."""
    for key in path:
        if isinstance(key, int):
            if not is_list(value) or key >= len(value):
                return default
        elif not is_map(value) or key not in value:
            return default
        value = value[key]
    return default if value is None else value


def as_int(value: Any) -> int | None:
    """'3', 3, 3.0 -> 3; anything else -> None. (desiredSize is a string in pulumi-alicloud 4.)"""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except ValueError:
            return None
    return None


def truthy(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in TRUE_STRINGS
    return bool(value)


def labels_of(value: Any) -> dict[str, str]:
    """Node pool labels: `[{key, value}]` (alicloud) or a plain mapping."""
    if is_map(value):
        return {str(k): str(v) for k, v in value.items() if v is not None}
    out: dict[str, str] = {}
    if is_list(value):
        for item in value:
            if is_map(item) and "key" in item:
                out[str(item["key"])] = str(dig(item, "value", default=""))
    return out


_ZONE_WITH_DIGIT = re.compile(r"^(.*-\d+)[a-z]+$")  # ap-northeast-1a -> ap-northeast-1


def region_of_zone(zone: str) -> str:
    """cn-hangzhou-h -> cn-hangzhou; ap-southeast-1b -> ap-southeast-1."""
    m = _ZONE_WITH_DIGIT.match(zone)
    if m:
        return m.group(1)
    return zone.rsplit("-", 1)[0]


def walk(value: Any, path: tuple[str, ...] = ()):
    """Yield (path, leaf) for every known leaf; values unknown at preview are skipped."""
    if is_map(value):
        for key in list(value.keys()):
            try:
                child = value[key]
            except UnknownValueError:
                continue
            yield from walk(child, (*path, str(key)))
    elif is_list(value):
        for i in range(len(value)):
            try:
                child = value[i]
            except UnknownValueError:
                continue
            yield from walk(child, (*path, str(i)))
    else:
        yield path, value
