"""cross-region-spans-two-regions: compliant and violating hand-written programs."""

from support.policytest import check, graph, messages, violated


def test_two_regions_replicating_pass():
    assert "cross-region-spans-two-regions" not in violated(check(graph("xr-compliant")), None)


def test_replication_off_is_mandatory():
    report = check(graph("xr-no-cdc"))
    assert violated(report) == {"cross-region-spans-two-regions"}
    assert all("cdc.enabled is not true" in m for m in messages(report, "cross-region-spans-two-regions"))


def test_one_region_is_mandatory():
    report = check(graph("xr-one-region"))
    assert "cross-region-spans-two-regions" in violated(report)
    assert any("in at least 2 regions" in m and "are in 1: cn-hangzhou" in m
               for m in messages(report, "cross-region-spans-two-regions"))


def test_not_applicable_outside_cross_region():
    report = check(graph("ha-compliant"))
    assert "cross-region-spans-two-regions" in {n.policy for n in report.not_applicable}
