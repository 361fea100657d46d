"""The package is laid out by stage; each stage imports only earlier ones (the rule in its __init__)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "milvus_zones"

# Stage of each sub-package of milvus_zones, in the order a deployment flows through them.
STAGES = {
    "jobs": 0,
    "planning": 1,
    "rendering": 2,
    "components": 3,
    "engine": 4,
    "analysis": 5,
    "operations": 6,
    "cli": 7,
}
# What each stage may import besides itself; the policy pack's package is importable from any stage.
ALLOWED = {
    "jobs": set(),
    "planning": set(),
    "rendering": {"planning"},
    "components": {"planning", "rendering", "jobs"},
    "engine": set(),
    "analysis": {"engine", "planning"},
    "operations": {"engine", "planning", "rendering", "analysis"},
    "cli": set(STAGES) - {"cli"},
}


def _sources() -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {"components": sorted((REPO / "components").glob("*.py")), "cli": [PACKAGE / "cli.py"]}
    for stage in STAGES:
        folder = PACKAGE / stage
        if folder.is_dir():
            out[stage] = sorted(folder.rglob("*.py"))
    return out


def _imported_stages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "milvus_zones" and len(parts) > 1 and parts[1] in STAGES:
                found.add(parts[1])
    return found


def test_every_module_belongs_to_a_stage():
    top = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert top <= set(STAGES), f"modules outside a stage package: {sorted(top - set(STAGES))}"


@pytest.mark.parametrize("stage", list(STAGES))
def test_stage_imports_only_earlier_stages(stage):
    bad = {
        f"{path.relative_to(REPO)} imports {other}"
        for path in _sources().get(stage, [])
        for other in _imported_stages(path) - ALLOWED[stage] - {stage}
    }
    assert not bad, sorted(bad)


def test_policy_pack_does_not_import_the_library():
    # The pack runs in a virtualenv of its own (policies/requirements.txt), without milvus_zones.
    offenders = [
        str(p.relative_to(REPO))
        for p in (REPO / "policies").rglob("*.py")
        if any(isinstance(n, (ast.Import, ast.ImportFrom)) and "milvus_zones" in (
            getattr(n, "module", None) or ",".join(a.name for a in n.names)).split(".")[0:1]
            for n in ast.walk(ast.parse(p.read_text())))
    ]
    assert not offenders
