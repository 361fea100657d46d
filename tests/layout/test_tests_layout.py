"""The tests are laid out like the code: one folder per stage, shared helpers only in tests/support."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
STAGES = {p.name for p in (REPO / "milvus_zones").iterdir() if (p / "__init__.py").exists()}
# Beside the stages: the components (and the program), the command, the pack, the layout itself,
# the hand-written programs (data, not tests) and the shared helpers.
OTHERS = {"components", "cli", "policies", "layout", "programs", "support"}


def _folders() -> set[str]:
    return {p.name for p in TESTS.iterdir() if p.is_dir() and p.name != "__pycache__"}


def test_every_stage_has_its_test_folder_and_nothing_else_sits_beside_them():
    assert _folders() >= STAGES, sorted(STAGES - _folders())
    assert _folders() <= STAGES | OTHERS, sorted(_folders() - STAGES - OTHERS)
    assert not [p.name for p in TESTS.glob("test_*.py")], "tests belong in the folder of their stage"


def test_helpers_are_imported_from_support_only():
    # With --import-mode=importlib a test folder is not on sys.path: a helper imported by its bare name
    # would only resolve through pythonpath, which lists tests/ (for `support`) and nothing else.
    assert tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["pythonpath"] == ["tests"]
    helpers = {p.stem for p in TESTS.rglob("*.py") if "programs" not in p.parts} - {"conftest", "__init__"}
    offenders = []
    for path in TESTS.rglob("*.py"):
        if "programs" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            offenders += [f"{path.relative_to(REPO)}: {n}" for n in names if n.split(".")[0] in helpers]
    assert not offenders, offenders
    assert not [p.name for p in (TESTS / "support").glob("test_*.py")], "tests/support holds helpers, not tests"
