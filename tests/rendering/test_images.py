"""The image catalog (milvus_zones_policies/model/images.py) against what the stacks really run.

Every container and init container of the rendered releases and of the program's own workloads, for
each chart version and message service, runs an image of the catalog, from `imageRegistry`, by the
catalog's tag and (where it has one) digest; every catalog image runs somewhere; docs/images.md lists
each with its digest or as unverified. With `imageDigests` set, every one of them runs pinned by the
stack's digest, through the chart's own image keys, and the spec lists exactly what the stack runs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from milvus_zones_policies.model.images import all_images
from support.chart import stack_spec

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


def _name(image: str) -> str:
    """repository:tag as the catalog names it, from a reference as a container carries it."""
    return image.removeprefix(f"{REGISTRY}/").removeprefix("docker.io/").removeprefix("library/").split("@")[0]


@pytest.mark.parametrize("stack,changes", VARIANTS, ids=IDS)
def test_the_spec_lists_exactly_the_images_the_stack_runs(rendered, graph, stack, changes):
    # `imageDigests` accepts these names and no other, and `milvus-zones images` lists them.
    listed = {i.name for i in stack_spec(stack, **changes).images}
    assert {_name(image) for _, image in _images(rendered, graph, stack, changes)} == listed


def _digest(name: str) -> str:
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()  # one digest per image, distinct


# Without imageRegistry (the Docker Hub path of _set_images), the same chart versions and services.
PINNED = [(stack, {k: v for k, v in changes.items() if k != "imageRegistry"}) for stack, changes in VARIANTS]


@pytest.mark.parametrize("stack,changes", PINNED, ids=IDS)
def test_image_digests_pin_every_container_through_the_charts_keys(rendered, graph, stack, changes):
    names = [i.name for i in stack_spec(stack, **changes).images]
    pinned = {**changes, "imageDigests": {n: _digest(n) for n in names}}
    seen = set()
    for workload, image in _images(rendered, graph, stack, pinned):
        name = _name(image)
        # The tag stays in the reference (readable in `kubectl get pods`); the digest decides what runs.
        assert image.endswith(f"{name.split(':', 1)[1]}@{_digest(name)}"), f"{workload}: {image} is not pinned by the stack's digest"
        seen.add(name)
    assert seen == set(names)

