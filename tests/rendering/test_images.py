"""The image catalog (milvus_zones_policies/model/images.py) against what the stacks really run.

Every container and init container of the rendered releases and of the program's own workloads, for
each chart version and message service, runs an image of the catalog, from `imageRegistry`, by the
catalog's tag and (where it has one) digest; every catalog image runs somewhere; docs/images.md lists
each with its digest or as unverified.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from milvus_zones_policies.model.images import all_images

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = "acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com/mirror"
OWN_WORKLOADS = ("kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob", "kubernetes:apps/v1:Deployment")
VARIANTS = [
    ("multi-zone-ha", {"imageRegistry": REGISTRY}),  # 2.6, Woodpecker
    ("multi-zone-ha", {"messageService": "pulsar", "imageRegistry": REGISTRY}),  # 5.0.19, Pulsar v3
    ("multi-zone-basic", {"messageService": "kafka", "imageRegistry": REGISTRY}),  # 5.0.19, bitnamilegacy
    ("multi-zone-ha", {"milvusVersion": "2.5", "imageRegistry": REGISTRY}),  # 4.2.58, Pulsar v3
    ("single-zone", {"milvusVersion": "2.5", "messageService": "kafka", "imageRegistry": REGISTRY}),  # 4.2.58, bitnami
    ("single-zone", {"milvusVersion": "2.4", "imageRegistry": REGISTRY}),  # 4.2.25, Pulsar v2
    ("cross-region-ha", {"imageRegistry": REGISTRY}),
]
IDS = ["woodpecker", "pulsar-2.6", "kafka-2.6", "ha-2.5", "kafka-2.5", "single-2.4", "cross-region"]


def _images(rendered, graph, stack: str, changes: dict) -> list[tuple[str, str]]:
    """(workload, image) of every container the stack runs: chart releases and its own workloads."""
    out = [(f"{r.name}/{w}", image) for r in rendered(stack, **changes) for w, image in r.images()]
    for r in (r for t in OWN_WORKLOADS for r in graph(stack, **changes).of_type(t)):
        spec = r.inputs["spec"]
        pod = (spec["jobTemplate"]["spec"] if "jobTemplate" in spec else spec)["template"]["spec"]
        out += [(r.name, c["image"]) for c in pod.get("containers", []) + pod.get("initContainers", [])]
    return out


@pytest.mark.parametrize("stack,changes", VARIANTS, ids=IDS)
def test_every_image_is_the_catalogs_from_the_registry(rendered, graph, stack, changes):
    catalog = {f"{i.repository}:{i.reference_tag}": i for i in all_images()}
    for workload, image in _images(rendered, graph, stack, changes):
        assert image.startswith(f"{REGISTRY}/"), f"{workload}: {image} is not pulled from imageRegistry"
        ref = image.removeprefix(f"{REGISTRY}/")
        assert ref in catalog, f"{workload}: {ref} is not in the image catalog (or not with its digest)"


def test_every_catalog_image_runs_in_some_variant(rendered, graph):
    seen = {image.removeprefix(f"{REGISTRY}/").removeprefix("library/").split("@")[0]
            for stack, changes in VARIANTS for _, image in _images(rendered, graph, stack, changes)}
    assert {i.name for i in all_images()} - seen == set()


def test_docs_list_every_image_with_its_digest_or_as_unverified():
    text = (ROOT / "docs" / "images.md").read_text()
    for image in all_images():
        rows = [line for line in text.splitlines() if line.startswith(f"| `{image.name}`")]
        assert len(rows) == 1, f"docs/images.md: no single row for {image.name}"
        if image.digest:
            assert f"`{image.digest}`" in rows[0] and image.kind in rows[0], rows[0]
        else:
            assert "unverified" in rows[0] and "sha256:" not in rows[0], rows[0]
