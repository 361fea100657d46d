"""Images: the Milvus a release runs has the HA features its values switch on; every image is pinned by digest."""

from __future__ import annotations

import re
from typing import Any

from ._policy import MANDATORY, OPT_IN, PolicyConfigSchema, releases_or_skip, stack_policy
from .model.deployment import CHART_MILVUS, WAL_GROUPS_SINCE, plain
from .model.images import CHART_IMAGES, tag_only
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


# -- images pinned by digest ------------------------------------------------------------------------
_WORKLOADS = ("kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob", "kubernetes:apps/v1:Deployment",
              "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet", "kubernetes:core/v1:Pod")
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _subchart_blocks(service: str, repository: str) -> list[tuple[str, ...]]:
    """Values paths of the image blocks that run `repository` for a subchart (the pinned charts' keys)."""
    if service == "etcd":
        return [("etcd", "image")]
    if service == "kafka":
        return [("kafka", "zookeeper", "image")] if "zookeeper" in repository else [("kafka", "image")]
    return [*((service, "images", c) for c in ("zookeeper", "bookie", "autorecovery", "broker", "proxy")),
            (service, "pulsar_metadata", "image")]


def release_images(rel: Any) -> list[tuple[str, str, bool]]:
    """(what, image, pinned by digest) of every image a Milvus release runs, from its values and the
    chart's defaults (the image catalog's CHART_IMAGES for the pinned charts)."""
    tag = rel.get("image", "all", "tag")
    repository = rel.get("image", "all", "repository") or "milvusdb/milvus"
    if not isinstance(tag, str) or not tag:
        version = CHART_MILVUS.get(rel.chart_version) if rel.chart_version else None
        tag = "v{}.{}.{}".format(*version) if version else "<chart default>"
    out = [("image.all", f"{repository}:{tag}", bool(_DIGEST.search(tag)))]
    chart = ".".join(map(str, rel.chart_version)) if rel.chart_version else None
    enabled = {*rel.message_services(), *(["etcd"] if rel.etcd_enabled else [])}
    for entry in CHART_IMAGES:
        if entry.chart_version != chart or entry.service not in enabled:
            continue
        for path in _subchart_blocks(entry.service, entry.image.repository):
            block = plain(rel.get(*path))
            block = block if isinstance(block, dict) else {}
            image_tag = str(block.get("tag") or entry.image.tag)
            pinned = bool(block.get("digest")) or bool(_DIGEST.search(image_tag))
            out.append((".".join(path), f"{block.get('repository') or entry.image.repository}:{image_tag}", pinned))
    return out


def _tag_only_allows(image: str, allowed: set[str]) -> bool:
    return any(image == a or image.endswith(f"/{a}") or image.endswith(f"/library/{a}") for a in allowed)


@stack_policy(
    name="images-pinned-by-digest",
    description="Every container image the stack runs is pinned by digest as well as tag (`repository:tag@sha256:...`), "
                "so a re-pushed tag cannot change what runs: the Milvus releases' images (image.all.tag and the "
                "subcharts' images, the chart defaults included), and the containers of its Jobs, CronJobs, "
                "Deployments, StatefulSets, DaemonSets and Pods. Images no trustworthy source gives a digest for are "
                "allowed by tag: config `tagOnly`, by default the image catalog's unverified list (docs/images.md). "
                "Opt-in: hand-written programs commonly run a chart's default images, by tag.",
    level=OPT_IN,
    remediation="Reference the image as repository:tag@sha256:<digest> (read the digest with `docker buildx "
                "imagetools inspect`, or `milvus-zones images pin STACK` for a milvus-zones stack, which writes the "
                "stack setting imageDigests), or list the image in the policy's `tagOnly` config.",
    tags=["security", "supply-chain"],
    config_schema=PolicyConfigSchema(properties={
        "tagOnly": {"type": "array", "items": {"type": "string"}, "default": tag_only(),
                    "description": "repository:tag of images allowed without a digest (Docker Hub names)."},
    }),
)
def images_pinned_by_digest(args, report, topology):
    allowed = set(args.get_config().get("tagOnly", tag_only()) or [])
    for rel in topology.releases:
        for what, image, pinned in release_images(rel):
            if not pinned and not _tag_only_allows(image, allowed):
                report(f"Milvus release {rel.res.name} runs {image} ({what}) by tag only; pin it by digest.", rel.res.urn)
    for res in topology.of_type(*_WORKLOADS):
        spec = plain(res.props.get("spec"))  # pulumi-policy's proxies -> dicts and lists
        spec = spec if isinstance(spec, dict) else {}
        if isinstance(spec.get("jobTemplate"), dict):
            spec = spec["jobTemplate"].get("spec") or {}
        pod = (spec.get("template") or {}).get("spec") if "template" in spec else spec
        pod = pod if isinstance(pod, dict) else {}
        for c in [*(pod.get("containers") or []), *(pod.get("initContainers") or [])]:
            ref = c.get("image") if isinstance(c, dict) else None
            if isinstance(ref, str) and not _DIGEST.search(ref) and not _tag_only_allows(ref, allowed):
                report(f"{res.resource_type.rsplit(':', 1)[-1]} {res.name} runs {ref} (container "
                       f"{c.get('name')}) by tag only; pin it by digest.", res.urn)
