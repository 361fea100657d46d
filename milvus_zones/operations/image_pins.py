"""`milvus-zones images`: the images a stack runs, and its tags pinned to the digests its registry serves.

Which images: `DeploymentSpec.images` (what the rendered stack runs; tests/rendering keeps them equal).
Pinning reads each tag-only image's digest from the registry the stack pulls from (`imageRegistry`,
else Docker Hub) and writes `milvus-zones:imageDigests` into the stack file, comments kept. Every
digest is read before anything is written, so a failure leaves the file as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from milvus_zones_policies.model.images import all_images

from milvus_zones.engine.stackfile import edit_stack_text
from milvus_zones.operations.registry import Registry, Resolved
from milvus_zones.planning.catalog import DOCKER_HUB, Image
from milvus_zones.planning.spec import DeploymentSpec
from milvus_zones.planning.stackconfig import NAMESPACE

KEY = f"{NAMESPACE}:imageDigests"


@dataclass(frozen=True)
class Row:
    """One image the stack runs: the reference its pods carry, its digest, and where the digest comes from."""

    name: str  # repository:tag, the imageDigests key
    reference: str  # registry/repository:tag
    digest: str | None
    source: str  # imageDigests, milvusImageDigest, catalog, or "-" (pulled by tag)


def _source(spec: DeploymentSpec, image: Image) -> str:
    if image.digest is None:
        return "-"
    if image.name in spec.image_digests:
        return "imageDigests"
    if spec.milvus_image_digest is not None and image.name == spec.milvus_image.name:
        return "milvusImageDigest"
    return "catalog"


def rows(spec: DeploymentSpec) -> list[Row]:
    """Every image the stack runs: registry, repository and tag (its pods add `@digest` where it has one)."""
    registry = spec.image_registry or DOCKER_HUB
    return [Row(i.name, f"{registry}/{i.repository}:{i.tag}", i.digest, _source(spec, i)) for i in spec.images]


def render(spec: DeploymentSpec) -> str:
    table = [(r.reference, r.digest or "by tag", r.source) for r in rows(spec)]
    widths = [max(len(row[c]) for row in [("image", "digest", "source"), *table]) for c in range(2)]
    lines = [f"{'image':<{widths[0]}}  {'digest':<{widths[1]}}  source"]
    lines += [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}" for a, b, c in table]
    tag_only = sum(1 for r in rows(spec) if r.digest is None)
    lines.append(f"{len(table)} images, {tag_only} by tag only"
                 + (" (`milvus-zones images pin` reads their digests from the registry)" if tag_only else "")
                 + "; catalog digests and their sources: docs/images.md")
    return "\n".join(lines)


def to_pin(spec: DeploymentSpec, everything: bool = False) -> list[Image]:
    """The images to read from the registry: those without a digest (every one with `everything`,
    except a Milvus image pinned by milvusImageDigest, which that setting owns)."""
    owned = spec.milvus_image.name if spec.milvus_image_digest is not None else None
    return [i for i in spec.images if (everything or i.digest is None) and i.name != owned]


def resolve(registry: Registry, images: list[Image]) -> list[tuple[Image, Resolved]]:
    """Each image's digest in `registry`; the first failure raises RegistryError (nothing is kept)."""
    return [(i, registry.resolve(i.repository, i.tag)) for i in images]


def _catalog_digest(image: Image) -> str | None:
    """The catalog's own digest for an image (what runs when imageDigests has no entry for it)."""
    return next((known.digest for known in all_images() if known.name == image.name), None)


def pinned_digests(spec: DeploymentSpec, resolved: list[tuple[Image, Resolved]]) -> dict[str, str]:
    """imageDigests after pinning: the stack's entries, and each digest read that the catalog does not
    already give (an entry equal to the catalog's would change nothing)."""
    digests = dict(spec.image_digests)
    for image, answer in resolved:
        if answer.digest == _catalog_digest(image) and image.name not in digests:
            continue
        digests[image.name] = answer.digest
    return digests


def edited_text(text: str, digests: dict[str, str]) -> str:
    """The stack file with `milvus-zones:imageDigests` set to `digests` (comments and order kept)."""
    return edit_stack_text(text, {KEY: digests})
