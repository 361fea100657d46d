"""mode-declared (advisory) and mode-consistent (mandatory)."""

from __future__ import annotations

from policytest import MANAGED, check, edited, graph, messages, skipped, violated

MODE_RULES = {"ha-compute-node-count-even", "compute-zone-count", "metadata-spans-three-zones",
              "object-storage-zone-redundant"}


def test_declared_mode_is_read_from_tags_and_labels():
    report = check(graph("ha-compliant"))
    assert not report.violations
    assert not skipped(report) & MODE_RULES


def test_undeclared_mode_is_an_advisory_not_silence():
    report = check(graph("ha-undeclared"))
    assert violated(report, "advisory") == {"mode-declared"}
    assert not report.mandatory_violations
    (msg,) = messages(report, "mode-declared")
    assert "milvus-zones/mode" in msg and "labels" in msg
    assert MODE_RULES <= skipped(report)  # said so, in the report, not silently passed


def test_one_declaration_is_enough():
    # Only the Helm release label remains: the mode is still known.
    g = graph("ha-undeclared")
    g = edited(g, "milvus", lambda p: p["values"].__setitem__("labels", {"milvus-zones/mode": "multi-zone-ha"}),
               "Release")
    report = check(g)
    assert not report.violations and not skipped(report) & MODE_RULES


def test_conflicting_declarations_are_mandatory():
    report = check(graph("ha-conflicting-mode"))
    assert violated(report) == {"mode-consistent"}
    (v,) = report.mandatory_violations
    assert v.resource_name == "data" and "multi-zone-basic" in v.message and "multi-zone-ha" in v.message


def test_unknown_mode_value_is_mandatory():
    g = edited(graph("ha-compliant"), "ack", lambda p: p["tags"].__setitem__("milvus-zones/mode", "multi-zone-hq"))
    report = check(g)
    assert "mode-consistent" in violated(report)
    assert any("'multi-zone-hq'" in m for m in messages(report, "mode-consistent"))


def test_managed_instance_declares_by_multi_zone_mode():
    assert not check(graph("ha", MANAGED)).violations
    g = edited(graph("ha", MANAGED), "milvus", lambda p: p.pop("multiZoneMode"), "MilvusInstance")
    assert violated(check(g), "advisory") == {"mode-declared"}


def test_managed_instance_tag_must_match_its_settings():
    g = edited(graph("ha", MANAGED), "milvus", lambda p: p.__setitem__("tags", {"milvus-zones/mode": "single-zone"}),
               "MilvusInstance")
    assert violated(check(g)) == {"mode-consistent"}
