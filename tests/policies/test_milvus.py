"""milvus-authorization-enabled and etcd-persistent-with-pdb."""

from __future__ import annotations

import json

from support.policytest import check, edited, graph, messages, resource, violated, with_resource


def _values(change):
    return edited(graph("ha-compliant"), "milvus", lambda p: change(p["values"]), "Release")


def test_authorization_off_violates():
    g = _values(lambda v: v["extraConfigFiles"].__setitem__(
        "user.yaml", json.dumps({"common": {"security": {"authorizationEnabled": False}}})))
    report = check(g)
    assert violated(report) == {"milvus-authorization-enabled"}
    assert "authorizationEnabled: true" in report.violations[0].message


def test_authorization_unset_violates():
    assert violated(check(_values(lambda v: v.pop("extraConfigFiles")))) == {"milvus-authorization-enabled"}


def test_authorization_through_proxy_env_passes():
    def env(v):
        v.pop("extraConfigFiles")
        v["proxy"]["extraEnv"] = [{"name": "COMMON_SECURITY_AUTHORIZATIONENABLED", "value": "true"}]

    # Without user.yaml the cluster-level replica number goes too: only the advisory RTO policy may object.
    assert violated(check(_values(env)), None) <= {"ha-failover-within-rto"}


def test_custom_config_map_is_read_from_the_stack():
    g = _values(lambda v: (v.pop("extraConfigFiles"), v.__setitem__("customConfigMap", "milvus-config")))
    assert "not in this stack" in messages(check(g), "milvus-authorization-enabled")[0]
    cm = {"metadata": {"name": "milvus-config", "namespace": "milvus"},
          "data": {"milvus.yaml": "common:\n  security:\n    authorizationEnabled: true\n"}}
    report = check(with_resource(g, "milvus-root", "milvus-config", "kubernetes:core/v1:ConfigMap", cm))
    assert violated(report, None) <= {"ha-failover-within-rto"}  # user.yaml's replica number is gone too


def test_etcd_without_pdb_violates_and_a_managed_pdb_fixes_it():
    g = _values(lambda v: v["etcd"]["pdb"].__setitem__("create", False))
    report = check(g)
    assert violated(report) == {"etcd-persistent-with-pdb"}
    assert "etcd.pdb.create true" in report.violations[0].message
    pdb = {"metadata": {"name": "etcd", "namespace": "milvus"},
           "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app.kubernetes.io/name": "etcd",
                                                                    "app.kubernetes.io/instance": "milvus"}}}}
    fixed = with_resource(g, "milvus-root", "etcd-pdb", "kubernetes:policy/v1:PodDisruptionBudget", pdb)
    assert not check(fixed).violations


def test_pdb_of_another_release_does_not_count():
    g = _values(lambda v: v["etcd"]["pdb"].__setitem__("create", False))
    pdb = {"metadata": {"name": "etcd", "namespace": "milvus"},
           "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": "etcd",
                                                 "app.kubernetes.io/instance": "other"}}}}
    g = with_resource(g, "milvus-root", "etcd-pdb", "kubernetes:policy/v1:PodDisruptionBudget", pdb)
    assert violated(check(g)) == {"etcd-persistent-with-pdb"}


def test_etcd_without_persistence_violates():
    report = check(_values(lambda v: v["etcd"]["persistence"].__setitem__("enabled", False)))
    assert violated(report) == {"etcd-persistent-with-pdb"}
    assert "without persistent volumes" in report.violations[0].message


def test_release_on_external_etcd_is_not_applicable():
    g = _values(lambda v: v.__setitem__("externalEtcd", {"enabled": True, "endpoints": ["etcd:2379"]}))
    assert resource(g, "milvus", "Release")
    report = check(g)
    assert "etcd-persistent-with-pdb" not in violated(report)
    assert any(na.policy == "etcd-persistent-with-pdb" for na in report.not_applicable)
