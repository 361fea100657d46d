"""Rewrite the peer-parity table in docs/policies.md from the pack's metadata.

    .venv/bin/python scripts/parity_table.py

tests/policies/test_parity.py fails when the table in the docs differs from what this writes.
"""

from __future__ import annotations

from pathlib import Path

from milvus_zones_policies import parity_markdown  # installed with the project (pyproject's packages)

ROOT = Path(__file__).resolve().parents[1]

BEGIN, END = "<!-- parity-table:begin (scripts/parity_table.py) -->", "<!-- parity-table:end -->"


def rewrite(text: str) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{parity_markdown()}{END}{tail}"


if __name__ == "__main__":
    doc = ROOT / "docs" / "policies.md"
    doc.write_text(rewrite(doc.read_text()))
