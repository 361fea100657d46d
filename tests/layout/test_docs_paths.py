"""Every file of this repository the README and docs/ name exists: a moved test or module updates them."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md"))]
# A backticked repository path: a top-level folder of ours, then a file with an extension.
PATH = re.compile(r"`((?:tests|milvus_zones|components|policies|scripts|stacks|examples)/[\w./-]+\.\w+)")


def test_named_files_exist():
    missing = [f"{doc.relative_to(REPO)}: {p}" for doc in DOCS for p in PATH.findall(doc.read_text())
               if "*" not in p and "<" not in p and not (REPO / p).exists()]
    assert not missing, "\n".join(missing)
