"""Render the generated values with the real Milvus chart archives (helm-python-sdk), then post-render.

Each (chart version, values) pair is rendered once per session: tests share the result.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from milvus_zones.rendering import postrender

CHARTS = Path(__file__).resolve().parents[3] / "shared" / "reference" / "milvus-helm" / "charts"
needs_charts = pytest.mark.skipif(not CHARTS.is_dir(), reason=f"chart archives not at {CHARTS}")


@functools.cache
def _render(version: str, values_json: str, name: str, namespace: str) -> str:
    from helm_python import (
        Chart,  # imported here: the package is only needed where charts are rendered
    )

    # A fresh chart per render: Helm drops disabled subcharts from the loaded chart while rendering,
    # so a chart object rendered once without Kafka would render Kafka's ZooKeeper never again.
    chart = Chart.load(str(CHARTS / f"milvus-{version}.tgz"))
    files = chart.render(json.loads(values_json), name=name, namespace=namespace, is_install=True, revision=1)
    # Helm's own order: file name, then documents in file order; NOTES.txt is not a manifest.
    return "\n---\n".join(text for path, text in sorted(files.items()) if path.endswith((".yaml", ".yml")) and text.strip())


def render(version: str, values: dict, name: str, namespace: str = "milvus", *, post: bool = True) -> list[dict]:
    """Kubernetes objects of one release, post-rendered as the Release would be."""
    text = _render(version, json.dumps(values, sort_keys=True), name, namespace)
    if post:
        text = postrender.transform(text)
    return [d for d in postrender.load(text) if isinstance(d, dict)]
