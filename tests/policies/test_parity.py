"""Peer parity: every Checkov/InfraGuard rule for our resource types is answered by a policy's metadata or
has a reason not to apply, and docs/policies.md shows exactly that table."""

from __future__ import annotations

import importlib.util
import re

import milvus_zones_policies as pack
import pytest
from milvus_zones_policies._policy import peer_rules
from milvus_zones_policies.peers import CHECKOV, INFRAGUARD, NOT_APPLICABLE, PEER_RULES
from support.policytest import REPO

IDS = [r.id for r in PEER_RULES]
CITED = {rule: p.name for p in pack.ALL_POLICIES for rule in peer_rules(p)}


def test_rule_ids_are_unique_and_well_formed():
    assert len(IDS) == len(set(IDS))
    for r in PEER_RULES:
        if r.scanner == CHECKOV:
            assert re.fullmatch(r"CKV_ALI_\d+", r.id)
        else:
            assert r.scanner == INFRAGUARD and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", r.id)
        assert r.title and r.resource_types


def test_policies_cite_only_known_rules_with_valid_notes():
    for p in pack.ALL_POLICIES:
        for rule, note in peer_rules(p).items():
            assert rule in IDS, f"{p.name} cites unknown peer rule {rule}"
            assert note == "" or (note.startswith("partial: ") and len(note) > 20), (p.name, rule)


def test_every_rule_is_answered_or_has_a_reason_and_never_both():
    for rule in IDS:
        assert (rule in CITED) != (rule in NOT_APPLICABLE), rule
    assert set(NOT_APPLICABLE) <= set(IDS)
    assert all(len(reason) > 40 for reason in NOT_APPLICABLE.values())


def test_parity_rows_follow_the_metadata():
    rows = {r["id"]: r for r in pack.parity()}
    assert list(rows) == IDS
    assert rows["CKV_ALI_2"]["status"] == "covered" and rows["CKV_ALI_2"]["policies"] == "security-group-ingress-restricted"
    assert rows["oss-zrs-enabled"]["status"] == "partial" and "single-zone" in rows["oss-zrs-enabled"]["note"]
    assert rows["CKV_ALI_11"]["status"] == "not applicable" and rows["CKV_ALI_11"]["policies"] == ""


def test_docs_table_is_the_generated_one():
    # Regenerate with: .venv/bin/python scripts/parity_table.py
    spec = importlib.util.spec_from_file_location("parity_table", REPO / "scripts" / "parity_table.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    doc = (REPO / "docs" / "policies.md").read_text()
    assert script.BEGIN in doc and script.END in doc
    assert script.rewrite(doc) == doc, "docs/policies.md parity table is stale: run scripts/parity_table.py"


@pytest.mark.parametrize("status", ["covered", "partial", "not applicable"])
def test_counts_line_matches_rows(status):
    rows = pack.parity()
    head = pack.parity_markdown().splitlines()[0]
    label = {"covered": "covered", "partial": "partly covered", "not applicable": "not applicable"}[status]
    assert f"{sum(r['status'] == status for r in rows)} {label}" in head
