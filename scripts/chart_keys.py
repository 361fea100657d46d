"""Generate the key lists `helmValues` is checked against, from the Milvus chart archives.

For each chart version: the keys of the chart's values.yaml and of each subchart's (under its
alias), as a compact tree (JSON): a map of key -> subtree, 0 for a leaf, 1 for an open map (an empty
map or null in the chart's values, such as `nodeSelector: {}`, which takes any key). The package
ships the result (milvus_zones/rendering/chart_keys/) because the archives are not part of it.

    python scripts/chart_keys.py [CHARTS_DIR]   # default ../shared/reference/milvus-helm/charts
"""

import io
import json
import sys
import tarfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "milvus_zones" / "rendering" / "chart_keys"
DEFAULT_CHARTS = REPO.parent / "shared" / "reference" / "milvus-helm" / "charts"


def tree(values: object) -> object:
    if isinstance(values, dict):
        return {str(k): tree(v) for k, v in values.items()} if values else 1
    return 1 if values is None else 0


def _member(tar: tarfile.TarFile, name: str) -> bytes:
    f = tar.extractfile(name)
    assert f is not None, name
    return f.read()


def chart_tree(archive: bytes) -> dict:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        root = tar.getnames()[0].split("/")[0]
        values = yaml.safe_load(_member(tar, f"{root}/values.yaml")) or {}
        out = tree(values)
        assert isinstance(out, dict)
        names = set(tar.getnames())
        reqs = f"{root}/requirements.yaml"
        deps = (yaml.safe_load(_member(tar, reqs)) or {}).get("dependencies", []) if reqs in names else []
        if not deps:
            deps = (yaml.safe_load(_member(tar, f"{root}/Chart.yaml")) or {}).get("dependencies", [])
        for dep in deps:
            sub = f"{root}/charts/{dep['name']}-{dep['version']}.tgz"
            if sub not in names:
                continue
            key = dep.get("alias") or dep["name"]
            merged = chart_tree(_member(tar, sub))
            own = out.get(key)
            out[key] = _merge(merged, own) if isinstance(own, dict) else merged
        return out


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(out.get(k), dict) and isinstance(v, dict) else out.get(k, v)
    return out


def generate(charts: Path) -> dict[str, str]:
    """File name -> content, one file per chart archive."""
    files = {}
    for archive in sorted(charts.glob("milvus-*.tgz")):
        version = archive.name.removeprefix("milvus-").removesuffix(".tgz")
        files[f"milvus-{version}.json"] = json.dumps(chart_tree(archive.read_bytes()), sort_keys=True,
                                                     separators=(",", ":")) + "\n"
    return files


if __name__ == "__main__":
    charts = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CHARTS
    OUT.mkdir(exist_ok=True)
    for name, content in generate(charts).items():
        (OUT / name).write_text(content)
        print(f"{OUT / name}: {len(content)} bytes")
