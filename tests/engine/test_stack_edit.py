"""`switchover` edits stack files with ruamel.yaml's round trip: comments, quoting and layout kept."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from milvus_zones.engine.stackfile import edit_stack_text
from milvus_zones.operations.switchover import plan_change

ROOT = Path(__file__).resolve().parents[2]
STACKS = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))


@pytest.mark.parametrize("path", STACKS, ids=lambda p: p.name)
def test_unchanged_round_trip_is_byte_identical(path):
    text = path.read_text()
    assert edit_stack_text(text, {}) == text


def test_switchover_changes_only_its_two_keys():
    path = ROOT / "stacks" / "Pulumi.cross-region-ha.yaml"
    before = path.read_text()
    change = plan_change(path, "cn-shanghai", failover=False)
    changed = [line for line in difflib.ndiff(before.splitlines(), change.text.splitlines())
               if line.startswith(("+ ", "- "))]
    assert {line[2:].strip().split(":")[1] for line in changed} <= {"primaryRegion", "forcePromote"}
    assert "  milvus-zones:primaryRegion: cn-shanghai" in change.text.splitlines()
    kept = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert all(line in change.text.splitlines() for line in kept)  # every comment kept


def test_edit_keeps_quotes_and_nested_layout():
    text = ('# top\nconfig:\n  a:v: "2.6"  # quoted on purpose\n  a:list:\n    - x\n    - y\n'
            "  a:map:\n    k: 'v'\n")
    out = edit_stack_text(text, {"a:new": "z"})
    assert out == text + "  a:new: z\n"
    # A new value that would read back as a number stays quoted, and the line's comment stays.
    assert edit_stack_text(text, {"a:v": "2.5"}).splitlines()[2] == '  a:v: "2.5"  # quoted on purpose'


def test_duplicate_keys_refused():
    with pytest.raises(ValueError, match="duplicate"):
        edit_stack_text("config:\n  a:b: 1\n  a:b: 2\n", {})


def test_a_mapping_value_is_updated_in_place_keeping_its_entries_comments():
    text = ("config:\n"
            "  ns:digests:\n"
            "    # read from the ACR mirror on 2026-12-01\n"
            "    a:1: sha256:old  # kept with its entry\n"
            "    b:1: sha256:gone\n"
            "  ns:other: x\n")
    out = edit_stack_text(text, {"ns:digests": {"a:1": "sha256:new", "c:1": "sha256:added"}})
    assert out == ("config:\n"
                   "  ns:digests:\n"
                   "    # read from the ACR mirror on 2026-12-01\n"
                   "    a:1: sha256:new  # kept with its entry\n"
                   "    c:1: sha256:added\n"
                   "  ns:other: x\n")
