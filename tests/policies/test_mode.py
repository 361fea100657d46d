"""mode-declared (advisory) and mode-consistent (mandatory)."""

from __future__ import annotations

from support.policytest import MANAGED, check, edited, graph, messages, skipped, violated

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
    assert skipped(report) >= MODE_RULES  # said so, in the report, not silently passed


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


# -- cross-region-ha: one mode for the stack, a region mode per deployment --------------------------------

def _region_mode(g, prefix, value):
    """Tag one region's cluster with milvus-zones/region-mode."""
    return edited(g, f"{prefix}ack", lambda p: p["tags"].__setitem__("milvus-zones/region-mode", value))


def test_cross_region_is_a_mode_and_each_region_is_judged_on_its_own():
    assert not check(graph("xr-compliant")).violations
    report = check(graph("xr-odd-peer"))
    assert violated(report) == {"ha-compute-node-count-even", "ha-compute-zones-symmetric"}
    assert {v.resource_name for v in report.violations} == {"peer-compute-l", "peer-compute-m"}


def test_region_mode_basic_exempts_a_region_from_the_ha_limits():
    report = check(_region_mode(graph("xr-odd-peer"), "peer-", "multi-zone-basic"))
    # The HA limits no longer apply to the peer; its basic-mode recovery budget (advisory) does.
    assert violated(report, None) == {"basic-recovery-within-rto"}
    assert not report.mandatory_violations


def test_unknown_region_mode_is_mandatory():
    report = check(_region_mode(graph("xr-compliant"), "peer-", "multi-zone-hq"))
    assert violated(report) == {"mode-consistent"}
    assert "milvus-zones/region-mode 'multi-zone-hq'" in report.violations[0].message


def test_region_mode_outside_cross_region_is_mandatory():
    report = check(_region_mode(graph("ha-compliant"), "", "multi-zone-basic"))
    assert violated(report) == {"mode-consistent"}
    assert "only cross-region-ha reads" in report.violations[0].message


# -- several Milvus deployments in one stack, each of its own mode ------------------------------------------

def test_two_deployments_of_different_modes_are_each_judged_by_their_own():
    report = check(graph("two-modes"))
    assert not report.violations
    # The multi-zone rules still ran: for the multi-zone-ha deployment.
    assert not skipped(report) & MODE_RULES


def test_a_deployment_keeps_its_mode_rules_beside_another():
    # An odd compute count in the HA deployment is still refused; the single-zone one is not held to it.
    g = edited(graph("two-modes"), "compute-h", lambda p: p.__setitem__("desiredSize", "3"), "NodePool")
    report = check(g)
    assert violated(report) == {"ha-compute-node-count-even", "ha-compute-zones-symmetric"}
    assert {v.resource_name for v in report.violations} == {"compute-h", "compute-i"}


def test_an_inconsistent_deployment_is_named():
    report = check(graph("two-modes-inconsistent"))
    assert violated(report) == {"mode-consistent"}
    (v,) = report.mandatory_violations
    assert v.resource_name == "peer-data"
    assert "cluster peer-ack's declarations differ" in v.message and "single-zone" in v.message


def test_two_milvus_zones_components_in_one_program_pass():
    from support.policytest import PROGRAMS

    report = check(graph("two-instances", PROGRAMS / "team-embed"))
    assert not report.violations
    assert not skipped(report) & MODE_RULES
