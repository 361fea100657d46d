"""workloads-sized, workloads-hardened and network-isolated: hand-written programs held to the library's bar."""

from __future__ import annotations

from support.policytest import check, edited, graph, messages, violated


def _values(change, fixture="ha-compliant"):
    return edited(graph(fixture), "milvus", lambda p: change(p["values"]), "Release")


def test_compliant_programs_pass():
    for fixture in ("single-compliant", "basic-compliant", "ha-compliant", "xr-compliant"):
        report = check(graph(fixture))
        assert not {"workloads-sized", "workloads-hardened", "network-isolated"} & violated(report), fixture


def test_a_component_without_limits_violates():
    report = check(_values(lambda v: v["queryNode"]["resources"].pop("limits")))
    assert violated(report) == {"workloads-sized"}
    assert "queryNode has no limits.cpu, limits.memory" in messages(report, "workloads-sized")[0]


def test_memory_limit_above_request_violates():
    report = check(_values(lambda v: v["etcd"]["resources"]["limits"].__setitem__("memory", "4Gi")))
    assert "etcd has memory limit 4Gi differs from its request 2Gi" in messages(report, "workloads-sized")[0]


def test_a_component_left_unsized_violates():
    report = check(_values(lambda v: v.pop("dataNode")))
    assert violated(report) == {"workloads-sized"}
    assert "dataNode has no requests.cpu" in messages(report, "workloads-sized")[0]


def test_root_or_escalation_violates():
    report = check(_values(lambda v: v["securityContext"].pop("runAsNonRoot")))
    assert violated(report) == {"workloads-hardened"}
    assert "runAsNonRoot is not true" in messages(report, "workloads-hardened")[0]
    report = check(_values(lambda v: v["etcd"]["containerSecurityContext"].__setitem__("allowPrivilegeEscalation", True)))
    assert "etcd: allowPrivilegeEscalation is not false" in messages(report, "workloads-hardened")[0]


def test_a_component_context_replaces_the_global_one():
    report = check(_values(lambda v: v["proxy"].__setitem__("containerSecurityContext", {"privileged": False})))
    assert "proxy: capabilities do not drop ALL" in messages(report, "workloads-hardened")[0]


def test_the_post_renderers_hardening_counts_only_when_it_runs():
    def via_postrender(v):
        v.pop("securityContext")
        v.pop("containerSecurityContext")
        v["annotations"] = {"milvus-zones/hardening": '{"automountServiceAccountToken": false, "container": '
                                                      '{"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},'
                                                      ' "images": [], "pod": {}}'}
    g = _values(via_postrender)
    assert "workloads-hardened" in violated(check(g))  # no postrender on the Release
    g = edited(g, "milvus", lambda p: p.__setitem__("postrender", "milvus-zones-postrender"), "Release")
    assert "workloads-hardened" not in violated(check(g))


def test_no_default_deny_violates():
    g = edited(graph("ha-compliant"), "np-default-deny", lambda p: p["spec"].__setitem__(
        "podSelector", {"matchLabels": {"app": "x"}}), "NetworkPolicy")
    report = check(g)
    assert violated(report) == {"network-isolated"}
    assert "no default-deny NetworkPolicy" in messages(report, "network-isolated")[0]


def test_etcd_open_to_everyone_violates():
    g = edited(graph("ha-compliant"), "np-etcd", lambda p: p["spec"].__setitem__("ingress", [{}]), "NetworkPolicy")
    report = check(g)
    assert violated(report) == {"network-isolated"}
    assert "reaches its etcd" in messages(report, "network-isolated")[0]
