"""The Milvus a release runs must have the HA features its values switch on."""

from __future__ import annotations

from typing import Any

from ._policy import MANDATORY, releases_or_skip, stack_policy
from .model.deployment import WAL_GROUPS_SINCE
from .model.values import dig, is_list, truthy

# Streaming-node resource groups (milvus-io/milvus#48632), the WAL's fallback to a surviving group
# (#49552) and built-in CDC arrived in Milvus 2.6.16 (release notes, web-content
# v2.6.x/site/en/release_notes.md; CDC guide userGuide/tools/milvus-cdc/set_up_cdc_replication.md).
FEATURES_MIN_VERSION = WAL_GROUPS_SINCE
_MIN = ".".join(map(str, FEATURES_MIN_VERSION))


def features_used(rel: Any) -> list[str]:
    """Values keys of a release that need Milvus 2.6.16 or later."""
    used = []
    groups = rel.get("replicaResourceGroups")
    if is_list(groups) and len(groups) > 0:
        used.append("replicaResourceGroups")
    config = rel.user_yaml()
    if rel.get("streaming", "primaryResourceGroup") or dig(config, "streaming", "primaryResourceGroup"):
        used.append("streaming.primaryResourceGroup")
    if truthy(rel.get("cdc", "enabled"), default=False):
        used.append("cdc.enabled")
    return used


@stack_policy(
    name="milvus-image-has-ha-features",
    description=f"A Milvus release that uses replicaResourceGroups, streaming.primaryResourceGroup or CDC "
                f"runs Milvus {_MIN} or later, the first with streaming-node resource groups, the WAL "
                "fallback to a surviving group and CDC (chart 5.0.19's default image is 2.6.15).",
    level=MANDATORY,
    remediation=f"Set image.all.tag to a Milvus 2.6 patch {_MIN} or later (milvus-zones pins v2.6.22) in every "
                "release that lists replicaResourceGroups, sets streaming.primaryResourceGroup or enables cdc.",
    tags=["ha", "version", "replication"],
)
def milvus_image_has_ha_features(args, report, topology):
    releases_or_skip(args, topology)
    using = [(rel, features_used(rel)) for rel in topology.releases]
    using = [(rel, used) for rel, used in using if used]
    if not using:
        args.not_applicable("no Milvus release uses resource groups, a streaming primary group or CDC")
    for rel, used in using:
        version, source = rel.milvus_version()
        if version is None:
            report(f"Milvus release {rel.res.name} uses {', '.join(used)} but which Milvus it runs is unknown "
                   f"({source}); pin image.all.tag to v{_MIN} or later.", rel.res.urn)
        elif version < FEATURES_MIN_VERSION:
            report(f"Milvus release {rel.res.name} uses {', '.join(used)} on Milvus "
                   f"{'.'.join(map(str, version))} ({source}), which lacks them; they need Milvus {_MIN} "
                   "or later.", rel.res.urn)
