"""The Milvus a release runs must have the HA features its values switch on."""

from __future__ import annotations

from typing import Any

from ._policy import MANDATORY, releases_or_skip, stack_policy
from ._values import dig, is_list, is_map, truthy
from .topology import parse_version

# Streaming-node resource groups (milvus-io/milvus#48632), the WAL's fallback to a surviving group
# (#49552) and built-in CDC arrived in Milvus 2.6.16 (release notes, web-content
# v2.6.x/site/en/release_notes.md; CDC guide userGuide/tools/milvus-cdc/set_up_cdc_replication.md).
FEATURES_MIN_VERSION = (2, 6, 16)
_MIN = ".".join(map(str, FEATURES_MIN_VERSION))
# Chart -> the Milvus image it runs when `image.all.tag` is unset (Chart.yaml appVersion, values.yaml).
CHART_APP_VERSIONS: dict[tuple[int, int, int], tuple[int, int, int]] = {
    (4, 2, 25): (2, 4, 17),
    (4, 2, 58): (2, 5, 16),
    (5, 0, 19): (2, 6, 15),
}


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


def running_version(rel: Any) -> tuple[tuple[int, int, int] | None, str]:
    """The Milvus patch a release runs, and where that was read."""
    image = rel.get("image", "all")
    tag = dig(image, "tag") if is_map(image) else None
    if tag is not None:
        return parse_version(tag), f"image.all.tag {tag}"
    chart = rel.chart_version
    if chart is None:
        return None, "no chart version and no image.all.tag: the image is whatever the latest chart ships"
    text = "chart milvus {}.{}.{}".format(*chart)
    if chart in CHART_APP_VERSIONS:
        return CHART_APP_VERSIONS[chart], f"{text}'s default image (no image.all.tag)"
    return None, f"{text} with no image.all.tag: its default image is not known to this pack"


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
        version, source = running_version(rel)
        if version is None:
            report(f"Milvus release {rel.res.name} uses {', '.join(used)} but which Milvus it runs is unknown "
                   f"({source}); pin image.all.tag to v{_MIN} or later.", rel.res.urn)
        elif version < FEATURES_MIN_VERSION:
            report(f"Milvus release {rel.res.name} uses {', '.join(used)} on Milvus "
                   f"{'.'.join(map(str, version))} ({source}), which lacks them; they need Milvus {_MIN} "
                   "or later.", rel.res.urn)
