"""The README's layout table names every module of the library, the components and the pack."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_module_is_in_the_readme_layout():
    readme = (REPO / "README.md").read_text()
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    modules = [p for folder in ("milvus_zones", "components", "policies/milvus_zones_policies")
               for p in (REPO / folder).rglob("*.py") if p.name != "__init__.py"]
    missing = sorted(str(p.relative_to(REPO)) for p in modules if f"`{p.name}`" not in layout
                     and f"`{p.relative_to(REPO)}`" not in layout)
    assert not missing, missing
