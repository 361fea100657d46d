"""ack-deletion-protection, ack-rrsa-enabled, ack-api-server-private, stateful-resources-protected,
allowed-regions: resource policies, judged on inputs."""

from __future__ import annotations

import copy
import json

from support.policytest import check, edited, graph, messages, resource, violated


def _ack(change):
    return edited(graph("ha-compliant"), "ack", change)


def test_deletion_protection_off_violates():
    report = check(_ack(lambda p: p.__setitem__("deletionProtection", False)))
    assert violated(report) == {"ack-deletion-protection"}
    assert report.violations[0].resource_name == "ack"


def test_rrsa_off_violates():
    assert violated(check(_ack(lambda p: p.pop("enableRrsa")))) == {"ack-rrsa-enabled"}


def test_public_api_server_violates_unless_config_allows(tmp_path):
    g = _ack(lambda p: p.__setitem__("slbInternetEnabled", True))
    assert violated(check(g)) == {"ack-api-server-private"}
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"ack-api-server-private": {"allowPublicApiServer": True}}))
    assert not check(g, config).violations


def test_unset_api_server_exposure_is_public_by_the_provider_default():
    assert violated(check(_ack(lambda p: p.pop("slbInternetEnabled")))) == {"ack-api-server-private"}


# -- stateful-resources-protected -----------------------------------------------------------------------

def test_unprotected_stateful_resources_violate():
    g = copy.deepcopy(graph("ha-compliant"))
    for name, suffix in (("data", "Bucket"), ("ack", "ManagedKubernetes"), ("milvus", "Release")):
        resource(g, name, suffix).protect = False
    report = check(g)
    assert violated(report) == {"stateful-resources-protected"}
    assert {v.resource_name for v in report.violations} == {"data", "ack", "milvus"}


def test_unprotected_etcd_run_on_its_own_violates():
    for stack, suffix in (("ha-etcd-statefulset", "StatefulSet"), ("ha-etcd-release", "Release")):
        g = copy.deepcopy(graph(stack))
        resource(g, "etcd", suffix).protect = False
        report = check(g)
        assert violated(report) == {"stateful-resources-protected"}
        assert "etcd" in report.violations[0].message and report.violations[0].resource_name == "etcd"


def test_unprotected_managed_instance_violates():
    from support.policytest import MANAGED

    assert "stateful-resources-protected" not in violated(check(graph("ha", MANAGED)))
    g = copy.deepcopy(graph("ha", MANAGED))
    resource(g, "milvus", "MilvusInstance").protect = False
    assert violated(check(g)) == {"stateful-resources-protected"}


def test_release_without_its_own_etcd_need_not_be_protected():
    g = edited(graph("ha-compliant"), "milvus", lambda p: p["values"].__setitem__(
        "externalEtcd", {"enabled": True, "endpoints": ["etcd:2379"]}), "Release")
    resource(g, "milvus", "Release").protect = False
    assert "stateful-resources-protected" not in violated(check(g))


# -- allowed-regions ----------------------------------------------------------------------------------

def _regions(tmp_path, regions):
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"allowed-regions": {"allowedRegions": regions}}))
    return config


def test_any_region_by_default():
    assert "allowed-regions" not in violated(check(graph("ha-compliant")))


def test_zones_outside_the_allowed_regions_violate(tmp_path):
    report = check(graph("ha-compliant"), _regions(tmp_path, ["cn-shanghai"]))
    assert violated(report) == {"allowed-regions"}
    assert {v.resource_name for v in report.violations} == {"node-h", "node-i", "node-j", "pod-h", "pod-i", "pod-j"}
    assert "region cn-hangzhou (zoneId cn-hangzhou-h)" in messages(report, "allowed-regions")[0]
    assert not check(graph("ha-compliant"), _regions(tmp_path, ["cn-hangzhou"])).violations


def test_default_provider_region_comes_from_the_stack_config(tmp_path):
    # The engine configures default providers from `alicloud:*` stack config; so does the runner.
    report = check(graph("ha-compliant"), _regions(tmp_path, ["cn-hangzhou"]),
                   config={"alicloud:region": "cn-beijing"})
    assert "provider default region" in " ".join(messages(report, "allowed-regions"))
