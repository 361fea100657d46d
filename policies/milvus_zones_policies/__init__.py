"""The milvus-zones CrossGuard pack: its policies (`pack`), and the model they share with milvus-zones (`model`).

Built into a PolicyPack only in policies/__main__.py (constructing one starts a gRPC server); the
offline runner (milvus_zones.analysis.check) runs these same objects through pulumi-policy's own
analyzer. This package must not import milvus_zones: the pack runs in a virtualenv of its own.
The pack's names are loaded on first use, so milvus_zones can import `model.names` (the labels,
tags and annotations both sides agree on) without loading pulumi-policy and every policy.
"""

from __future__ import annotations

from typing import Any

_PACK_NAMES = ("ALL_POLICIES", "PACK_NAME", "PACK_VERSION", "PACK_DESCRIPTION", "DEFAULT_ENFORCEMENT_LEVEL",
               "config_schema")
__all__ = list(_PACK_NAMES)


def __getattr__(name: str) -> Any:
    if name in _PACK_NAMES:
        from . import pack

        return getattr(pack, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
