"""Facts about the outside world that the spec and planner rely on, with their sources."""

from __future__ import annotations

import re
from dataclasses import dataclass

from milvus_zones_policies.model.images import (  # noqa: F401  (re-exported: the catalog is defined once, in the pack)
    BACKUP_IMAGE,
    CHART_IMAGES,
    DOCKER_HUB,
    JOB_IMAGE,
    MILVUS_IMAGES,
    Image,
    chart_images,
)


@dataclass(frozen=True)
class ChartPin:
    """A Milvus minor version and the chart release that ships its last patch."""

    chart_version: str
    app_version: str
    repo: str = "https://zilliztech.github.io/milvus-helm/"

    @property
    def major(self) -> int:
        return int(self.chart_version.split(".")[0])


# zilliztech/milvus-helm Chart.yaml appVersion of each pinned chart (design brief, section 3).
CHARTS: dict[str, ChartPin] = {
    "2.4": ChartPin("4.2.25", "2.4.17"),
    "2.5": ChartPin("4.2.58", "2.5.16"),
    "2.6": ChartPin("5.0.19", "2.6.15"),
}

# ---- images -------------------------------------------------------------------------------------
# The image catalog (tags, digests and their sources) is one model, shared with the policy pack:
# milvus_zones_policies/model/images.py (docs/images.md lists it); re-exported from here.

# The first Milvus with streaming-node resource groups (milvus-io/milvus#48632), the automatic WAL
# fallback (#49552), the batch management API and built-in CDC (web-content v2.6.x
# site/en/userGuide/tools/milvus-cdc/set_up_cdc_replication.md: "Milvus v2.6.16 or later").
HA_FEATURES_MIN_VERSION = (2, 6, 16)


@dataclass(frozen=True)
class ChartImageKey:
    """One image a pinned chart or its subcharts runs, and how its values move it to another registry.

    style "repository": the key has repository/tag only, so the registry is prefixed to `repository`;
    style "registry": a bitnami subchart, whose `image.registry` key takes it (common.images.image).
    `service` names what must be enabled for the image to run (milvus, etcd, pulsar, pulsarv3, kafka).
    """

    path: tuple[str, ...]  # values path of the image block, e.g. ("etcd", "image")
    repository: str  # the chart's default repository there
    style: str
    service: str


def _pulsar_keys(root: str, repository: str = "apachepulsar/pulsar") -> tuple[ChartImageKey, ...]:
    keys = [ChartImageKey((root, "images", c), repository, "repository", root)
            for c in ("zookeeper", "bookie", "autorecovery", "broker", "proxy")]
    return (*keys, ChartImageKey((root, "pulsar_metadata", "image"), repository, "repository", root))


# Read from each chart's values.yaml (shared/reference/milvus-helm/<version>/values.yaml and the
# archives' templates): Milvus' own `image.all` (and 4.2.x's `image.tools` config-tool init
# container), the etcd subchart (bitnami, `image.registry`), Pulsar v2/v3 (`images.<component>` and
# `pulsar_metadata.image`, rendered by pulsar.imageFullName) and Kafka with its ZooKeeper (bitnami).
_SUBCHART_KEYS = (
    ChartImageKey(("etcd", "image"), "milvusdb/etcd", "registry", "etcd"),
    *_pulsar_keys("pulsarv3"),
    *_pulsar_keys("pulsar"),
    ChartImageKey(("kafka", "image"), "bitnami/kafka", "registry", "kafka"),
    ChartImageKey(("kafka", "zookeeper", "image"), "bitnami/zookeeper", "registry", "kafka"),
)
_CONFIG_TOOL = ChartImageKey(("image", "tools"), "milvusdb/milvus-config-tool", "repository", "milvus")
CHART_IMAGE_KEYS: dict[str, tuple[ChartImageKey, ...]] = {
    "4.2.25": (_CONFIG_TOOL, *_SUBCHART_KEYS),
    "4.2.58": (_CONFIG_TOOL, *_SUBCHART_KEYS),
    "5.0.19": _SUBCHART_KEYS,
}


def key_image(chart_version: str, key: ChartImageKey) -> Image | None:
    """The catalog image chart `chart_version` runs from the image block `key` (None: not in the catalog,
    as 4.2.x's config tool, which no template of the pinned charts renders)."""
    name = key.repository.rsplit("/", 1)[-1]
    found = [c.image for c in CHART_IMAGES if c.chart_version == chart_version and c.service == key.service
             and c.image.repository.rsplit("/", 1)[-1] == name]
    return found[0] if found else None


def with_registry(reference: str, registry: str | None) -> str:
    """A Docker Hub reference ('busybox:1.36.1', 'milvusdb/milvus-backup:v0.5.16') pulled from `registry`."""
    if registry is None:
        return reference
    path = reference.removeprefix(f"{DOCKER_HUB}/")
    first = path.split("/", 1)[0]
    if "/" in path and ("." in first or ":" in first or first == "localhost"):
        raise ValueError(f"{reference}: not a Docker Hub reference; cannot move it to {registry}")
    return f"{registry}/{path if '/' in path else 'library/' + path}"


def version_tuple(tag: str) -> tuple[int, int, int] | None:
    """'v2.6.22' -> (2, 6, 22); None for anything that is not a release tag."""
    m = re.match(r"^v(\d+)\.(\d+)\.(\d+)$", tag)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


# Zones per region that offer the ECS families we default to. Regions listed have three or more
# zones, which every multi-zone mode needs (Alibaba Cloud region and zone list).
REGION_ZONES: dict[str, tuple[str, ...]] = {
    "cn-hangzhou": ("cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k", "cn-hangzhou-b", "cn-hangzhou-g"),
    "cn-shanghai": ("cn-shanghai-l", "cn-shanghai-m", "cn-shanghai-n", "cn-shanghai-e", "cn-shanghai-f", "cn-shanghai-g"),
    "cn-beijing": ("cn-beijing-h", "cn-beijing-i", "cn-beijing-j", "cn-beijing-k", "cn-beijing-l", "cn-beijing-g"),
    "cn-zhangjiakou": ("cn-zhangjiakou-a", "cn-zhangjiakou-b", "cn-zhangjiakou-c"),
    "cn-wulanchabu": ("cn-wulanchabu-a", "cn-wulanchabu-b", "cn-wulanchabu-c"),
    "cn-shenzhen": ("cn-shenzhen-c", "cn-shenzhen-d", "cn-shenzhen-e", "cn-shenzhen-f"),
    "cn-hongkong": ("cn-hongkong-b", "cn-hongkong-c", "cn-hongkong-d"),
    "ap-northeast-1": ("ap-northeast-1a", "ap-northeast-1b", "ap-northeast-1c"),
    "ap-southeast-1": ("ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"),
    "ap-southeast-5": ("ap-southeast-5a", "ap-southeast-5b", "ap-southeast-5c"),
    "eu-central-1": ("eu-central-1a", "eu-central-1b", "eu-central-1c"),
}

# Regions where OSS offers zone-redundant storage (Alibaba OSS disaster-recovery docs).
OSS_ZRS_REGIONS: frozenset[str] = frozenset(
    {
        "cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-zhangjiakou", "cn-wulanchabu", "cn-shenzhen",
        "cn-hongkong", "ap-northeast-1", "ap-southeast-1", "ap-southeast-5", "eu-central-1",
    }
)


def oss_endpoint(region: str, internal: bool = True) -> str:
    """OSS endpoint host; pods reach the internal endpoint from inside the VPC."""
    return f"oss-{region}{'-internal' if internal else ''}.aliyuncs.com"


@dataclass(frozen=True)
class InstanceType:
    """An ECS instance type's vCPUs and memory, as the instance-family docs list them."""

    vcpu: int
    memory_gib: int


def _family(prefix: str, gib_per_vcpu: int, sizes: dict[str, int]) -> dict[str, InstanceType]:
    return {f"ecs.{prefix}.{size}": InstanceType(v, v * gib_per_vcpu) for size, v in sizes.items()}


_SIZES = {"large": 2, "xlarge": 4, "2xlarge": 8, "3xlarge": 12, "4xlarge": 16, "6xlarge": 24, "8xlarge": 32}

# The ECS types a stack may use for its pools (Alibaba ECS docs, "Instance families": the g families
# give 4 GiB per vCPU, r families 8 GiB, c families 2 GiB; a type's size suffix sets its vCPUs:
# large 2, xlarge 4, 2xlarge 8, 3xlarge 12, 4xlarge 16, 6xlarge 24, 8xlarge 32).
INSTANCE_TYPES: dict[str, InstanceType] = {
    **_family("g7", 4, _SIZES), **_family("g8i", 4, _SIZES), **_family("g8a", 4, _SIZES),
    **_family("r7", 8, _SIZES), **_family("r8i", 8, _SIZES), **_family("r8a", 8, _SIZES),
    **_family("c7", 2, _SIZES), **_family("c8i", 2, _SIZES),
}
