"""The image catalog: every image a milvus-zones stack runs, its tag, and its digest where a public
source ties one to exactly that tag.

One model, read by the library (the pins it renders, `milvus_zones.planning.catalog`), by
docs/images.md (a test keeps its table equal to this module) and by the pack's
`images-pinned-by-digest` policy (which images may run by tag alone).

No registry is reachable where this project is built, so no digest here was read from Docker Hub
itself. A digest is recorded only with its source (repository, path, commit, or a named document)
and with what the source says it is: `index` (a multi-platform manifest list / OCI index: the
runtime picks its platform's image from it) or `unknown` (the source pins it without saying).
An image without one runs by tag, and `searched` says where a digest was looked for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

DOCKER_HUB = "docker.io"
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
DIGEST_KINDS = ("index", "unknown")


@dataclass(frozen=True)
class Image:
    """A container image: its path under a registry, its tag, and its digest when a public source names it."""

    repository: str  # path under the registry, e.g. "milvusdb/milvus" ("library/python" for official images)
    tag: str
    digest: str | None = None
    kind: str | None = None  # what the digest is: "index" or "unknown" (see the module docstring)
    source: str = ""  # where the tag and, when there is one, the digest were read
    searched: str = ""  # without a digest: where one was looked for and not found

    def __post_init__(self) -> None:
        if self.digest is not None and not _DIGEST_RE.match(self.digest):
            raise ValueError(f"{self.repository}: digest must be sha256:<64 hex>; got {self.digest!r}")
        if (self.digest is None) != (self.kind is None) or (self.kind is not None and self.kind not in DIGEST_KINDS):
            raise ValueError(f"{self.repository}: a digest needs its kind ({', '.join(DIGEST_KINDS)}), and only a digest")
        if self.digest is not None and not self.source:
            raise ValueError(f"{self.repository}:{self.tag}: a digest needs its source")

    @property
    def name(self) -> str:
        """`repository:tag` as Docker Hub names it (official images without `library/`)."""
        return f"{self.repository.removeprefix('library/')}:{self.tag}"

    @property
    def reference_tag(self) -> str:
        """What goes after `repository:` in a chart's `tag` key: `tag@digest` pins the content."""
        return f"{self.tag}@{self.digest}" if self.digest else self.tag

    def ref(self, registry: str | None = None) -> str:
        """Full reference, e.g. docker.io/milvusdb/milvus:v2.6.22@sha256:..."""
        return f"{registry or DOCKER_HUB}/{self.repository}:{self.reference_tag}"

    def with_digests(self, digests: Mapping[str, str]) -> Image:
        """This image pinned by a stack's `imageDigests` entry for its name, which overrides the catalog's."""
        digest = digests.get(self.name)
        if digest is None or digest == self.digest:
            return self
        return replace(self, digest=digest, kind="unknown", source="stack setting imageDigests", searched="")


_NOT_FOUND = ("no digest tied to this tag in the code, issue or page corpora (find_string "
              "'<repository>:<tag>@sha256', '<repository>@sha256'; searches for the tag with 'digest'/'sha256'); "
              "Docker's repo-info covers official images only")

# ---- Milvus -------------------------------------------------------------------------------------
# 2.6: the newest patch in the official release notes (milvus-io/web-content
# v2.6.x/site/en/release_notes.md, "v2.6.22, Release date: August 4, 2026"). Its digest: Milvus
# QA's 2.6.22 -> 3.0.2 compatibility report (2026-09-18) pins
# harbor.milvus.io/milvusdb/milvus:v2.6.22@sha256:0c4247a0..., Zilliz's mirror of Docker Hub's
# milvusdb/milvus; two documents of the report agree; one source, which does not say index or
# single platform. 2.5 and 2.4 run their chart's own appVersion.
MILVUS_IMAGES: dict[str, Image] = {
    "2.4": Image("milvusdb/milvus", "v2.4.17", source="chart milvus-4.2.25 values.yaml image.all.tag",
                 searched=_NOT_FOUND),
    "2.5": Image("milvusdb/milvus", "v2.5.16", source="chart milvus-4.2.58 values.yaml image.all.tag",
                 searched=_NOT_FOUND),
    "2.6": Image(
        "milvusdb/milvus", "v2.6.22",
        digest="sha256:0c4247a007eca14e539b84a11ae3970ca332595bf599c82594a5681ef0a88fb3", kind="unknown",
        source="tag: milvus-io/web-content v2.6.x/site/en/release_notes.md; digest: Milvus QA's 2.6.22 -> 3.0.2 "
               "compatibility report (2026-09-18), harbor.milvus.io/milvusdb/milvus:v2.6.22@sha256:0c4247a0...",
    ),
}

# ---- the project's own workloads ----------------------------------------------------------------
# The Jobs (resource groups, replication) and the WAL pinning controller. Docker's own record of the
# official images (docker-library/repo-info, generated from the registry by its bot) lists for
# python:3.11.11-slim-bookworm the OCI image index sha256:44f400c2... (linux amd64, arm v5, arm v7,
# arm64 v8, 386, ppc64le, s390x, with attestations; layers of 2025-04-08, the tag's last rebuild
# before 3.11.12), read at repos/python/remote/3.11.11-slim-bookworm.md of its fork
# maxmood96/repo-info, commit 03a11de4cf4f29c077517165e7b67b552d83114c.
JOB_IMAGE = Image(
    "library/python", "3.11.11-slim-bookworm",
    digest="sha256:44f400c25078305ba59890d096a5292817fae1bd703141d9959743b6409cba96", kind="index",
    source="docker-library/repo-info repos/python/remote/3.11.11-slim-bookworm.md "
           "(fork maxmood96/repo-info @ 03a11de4cf4f29c077517165e7b67b552d83114c)",
)

# The backup CronJob: milvus-io/milvus-backup's release image (tag v0.5.16).
BACKUP_IMAGE = Image("milvusdb/milvus-backup", "v0.5.16", source="milvus-io/milvus-backup release v0.5.16",
                     searched=_NOT_FOUND)


# ---- what the pinned charts run (their subcharts' defaults, read in each chart's values) ---------
@dataclass(frozen=True)
class ChartImage:
    """An image a pinned chart runs by its own default tag when `service` is enabled."""

    chart_version: str
    service: str  # etcd, pulsar (v2), pulsarv3, kafka
    image: Image


def _chart(version: str, service: str, repository: str, tag: str) -> ChartImage:
    source = f"chart milvus-{version}: values.yaml, else the {service} subchart's defaults, as rendered"
    return ChartImage(version, service, Image(repository, tag, source=source, searched=_NOT_FOUND))


CHART_IMAGES: tuple[ChartImage, ...] = (
    _chart("5.0.19", "etcd", "milvusdb/etcd", "3.5.25-r1"),
    _chart("4.2.58", "etcd", "milvusdb/etcd", "3.5.18-r1"),
    _chart("4.2.25", "etcd", "milvusdb/etcd", "3.5.16-r1"),
    _chart("5.0.19", "pulsarv3", "apachepulsar/pulsar", "3.0.7"),
    _chart("4.2.58", "pulsarv3", "apachepulsar/pulsar", "3.0.7"),
    _chart("4.2.25", "pulsar", "apachepulsar/pulsar", "2.9.5"),
    _chart("5.0.19", "kafka", "bitnamilegacy/kafka", "3.1.0"),
    _chart("5.0.19", "kafka", "bitnamilegacy/zookeeper", "3.7.0"),
    _chart("4.2.58", "kafka", "bitnami/kafka", "3.1.0-debian-10-r52"),
    _chart("4.2.58", "kafka", "bitnami/zookeeper", "3.7.0-debian-10-r320"),
    _chart("4.2.25", "kafka", "bitnami/kafka", "3.1.0-debian-10-r52"),
    _chart("4.2.25", "kafka", "bitnami/zookeeper", "3.7.0-debian-10-r320"),
)


def chart_images(chart_version: str, services: set[str]) -> list[Image]:
    """The images chart `chart_version` runs for the enabled `services` (etcd, pulsar, pulsarv3, kafka)."""
    return [c.image for c in CHART_IMAGES if c.chart_version == chart_version and c.service in services]


def all_images() -> list[Image]:
    """Every image a stack may run, once each."""
    found: dict[str, Image] = {}
    for image in [*MILVUS_IMAGES.values(), JOB_IMAGE, BACKUP_IMAGE, *(c.image for c in CHART_IMAGES)]:
        found.setdefault(image.name, image)
    return list(found.values())


def tag_only() -> list[str]:
    """`repository:tag` of the catalog's images that no trustworthy source gives a digest for."""
    return sorted(i.name for i in all_images() if i.digest is None)
