"""The test NetworkPolicy evaluator follows Kubernetes' rules (docs "Network Policies"): isolation
only once selected, additive rules, AND within one peer, OR between peers, ipBlock except, ports."""

from __future__ import annotations

from support.netpol import External, Pod, allowed


def _np(ns: str, selector: dict, ingress: list | None = None, egress: list | None = None,
        types: list[str] | None = None) -> dict:
    spec: dict = {"podSelector": selector}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    if types is not None:
        spec["policyTypes"] = types
    return {"kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": ns}, "spec": spec}


DB = Pod("data", {"app": "db"}, "10.0.0.5", {"client": 5432})
APP = Pod("data", {"app": "api"}, "10.0.0.6")
MON = Pod("monitoring", {"app": "prom"}, "10.0.0.7")
MON_OTHER = Pod("monitoring", {"app": "grafana"}, "10.0.0.8")


def test_unselected_pods_are_open_and_a_selected_pod_is_isolated():
    assert allowed([], APP, DB, 5432)
    deny = [_np("data", {}, types=["Ingress"])]
    assert not allowed(deny, APP, DB, 5432)
    # A policy of another namespace does not isolate this one.
    assert allowed([_np("monitoring", {}, types=["Ingress"])], APP, DB, 5432)


def test_rules_add_up_and_ports_restrict():
    policies = [_np("data", {}, types=["Ingress"]),
                _np("data", {"matchLabels": {"app": "db"}}, [{"from": [{"podSelector": {"matchLabels": {"app": "api"}}}],
                                                             "ports": [{"port": "client"}]}])]
    assert allowed(policies, APP, DB, 5432)  # named port resolved on the destination
    assert not allowed(policies, APP, DB, 5433)
    assert not allowed(policies, MON, DB, 5432)  # a bare podSelector means the policy's own namespace


def test_namespace_and_pod_selector_in_one_peer_are_anded_in_two_peers_ored():
    ns = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    pod = {"podSelector": {"matchLabels": {"app": "prom"}}}
    anded = [_np("data", {}, [{"from": [{**ns, **pod}]}])]
    assert allowed(anded, MON, DB, 1) and not allowed(anded, MON_OTHER, DB, 1) and not allowed(anded, APP, DB, 1)
    ored = [_np("data", {}, [{"from": [ns, pod]}])]
    assert allowed(ored, MON_OTHER, DB, 1)  # any pod of monitoring
    assert not allowed(ored, APP, DB, 1)  # pod peer: only app=prom of the policy's namespace


def test_ip_blocks_and_egress():
    egress = [_np("data", {"matchLabels": {"app": "api"}}, egress=[
        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/16"]}}], "ports": [{"port": 443}]},
        {"to": [{"podSelector": {"matchLabels": {"app": "db"}}}]},
    ], types=["Egress"])]
    assert allowed(egress, APP, External("100.118.28.1"), 443)
    assert not allowed(egress, APP, External("10.0.9.9"), 443)  # except
    assert not allowed(egress, APP, External("100.118.28.1"), 80)
    assert allowed(egress, APP, DB, 5432)
    assert not allowed(egress, APP, MON, 9090)
    assert allowed(egress, DB, MON, 9090)  # db is not selected: its egress is open
    # Both ends must agree: egress allowed but the destination isolated for ingress.
    both = [*egress, _np("data", {"matchLabels": {"app": "db"}}, [], types=["Ingress"])]
    assert not allowed(both, APP, DB, 5432)
    # policyTypes absent: Egress only when an egress section exists.
    assert allowed([_np("data", {}, ingress=[{}])], APP, External("1.1.1.1"), 443)
    assert not allowed([_np("data", {}, ingress=[{}], egress=[])], APP, External("1.1.1.1"), 443)


def test_end_port_and_protocol():
    policies = [_np("data", {}, [{"ports": [{"port": 8000, "endPort": 8010}, {"protocol": "UDP", "port": 53}]}])]
    assert allowed(policies, APP, DB, 8005) and not allowed(policies, APP, DB, 8011)
    assert allowed(policies, APP, DB, 53, "UDP") and not allowed(policies, APP, DB, 53)
