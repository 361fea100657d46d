"""The offline runner drives pulumi-policy's own analyzer the way the engine does."""

from __future__ import annotations

import copy
import json

import pytest
from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationPolicy,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE
from support.policytest import check, edited, graph, messages, resource, skipped, violated

from milvus_zones.analysis.check import check_graph, resolve_config
from milvus_zones.engine.offline import RESOURCE_SIG, SIG_KEY, ProgramError


def _probe(fn, stack=False):
    cls = StackValidationPolicy if stack else ResourceValidationPolicy
    return cls(name="probe", description="Probe of what the analyzer hands a policy.", validate=fn,
               enforcement_level=EnforcementLevel.MANDATORY)


def _seen(g, fn, stack=False, **kw):
    return [v.message for v in check_graph(g, policies=[_probe(fn, stack)], **kw).violations]


def test_resource_policies_get_inputs_stack_policies_get_outputs():
    # Outputs differ from inputs only in the recorded provider response.
    g = edited(graph("ha-compliant"), "ack", lambda p: p.__setitem__("deletionProtection", False), outputs_only=True)
    assert "ack-deletion-protection" not in violated(check(g))  # a resource policy: inputs say true
    g = edited(graph("ha-compliant"), "data", lambda p: p.pop("versioning"), "Bucket", outputs_only=True)
    assert "bucket-versioned" in violated(check(g))  # a stack policy: outputs say off


def test_request_carries_options_parent_and_provider():
    def probe(args, report):
        if args.resource_type == "kubernetes:helm.sh/v3:Release":
            parent = args.opts.parent.rsplit("::", 2)[-2].rsplit("$", 1)[-1]
            report(f"protect={args.opts.protect} parent={parent} "
                   f"provider={args.provider.resource_type}:{args.provider.name}")
        if args.resource_type == "alicloud:oss/bucket:Bucket":
            report(f"default {args.provider.resource_type} {dict(args.provider.props)}")

    seen = _seen(graph("ha-compliant"), probe, config={"alicloud:region": "cn-hangzhou", "other:key": "x"})
    assert seen == [
        "default pulumi:providers:alicloud {'region': 'cn-hangzhou'}",  # the data bucket
        "default pulumi:providers:alicloud {'region': 'cn-hangzhou'}",  # its log bucket
        "protect=True parent=pulumi:pulumi:Stack provider=pulumi:providers:kubernetes:k8s",
    ]


def test_stack_resources_have_parent_dependencies_and_property_dependencies():
    def probe(args, report):
        pool = next(r for r in args.resources if r.name == "compute-h")
        zones = sorted(d.props["zoneId"] for d in pool.property_dependencies["vswitchIds"])
        report(f"{pool.parent.resource_type} {len(pool.dependencies)} {zones}")

    assert _seen(graph("ha-compliant"), probe, stack=True) == ["pulumi:pulumi:Stack 2 ['cn-hangzhou-h']"]


def test_resource_references_are_downgraded_to_ids():
    g = copy.deepcopy(graph("ha-compliant"))
    pool = resource(g, "compute-h")
    ref = {SIG_KEY: RESOURCE_SIG, "urn": resource(g, "ack").urn, "id": "ack-id"}
    pool.inputs_wire["clusterRef"] = ref

    def probe(args, report):
        if args.name == "compute-h":
            report(args.props["clusterRef"])

    assert _seen(g, probe) == ["ack-id"]


def _unknown(g, name, key):
    return edited(g, name, lambda p: p.__setitem__(key, UNKNOWN_STRING_VALUE))


def test_unknown_ids_at_preview_still_resolve_zones_through_dependencies():
    # At a real preview vSwitch ids are unknown; the zone rules follow property dependencies instead.
    g = graph("ha-compliant")
    for pool in ("compute-h", "compute-i", "quorum-h", "quorum-i", "quorum-j"):
        g = edited(g, pool, lambda p: p.__setitem__("vswitchIds", [UNKNOWN_STRING_VALUE]))
    g = _unknown(g, "ack", "vswitchIds")
    assert not check(g).violations


def test_reading_an_unknown_value_is_an_advisory_cannot_run_during_preview():
    report = check(_unknown(graph("ha-compliant"), "compute-i", "desiredSize"))
    assert violated(report, "advisory") >= {"ha-compute-node-count-even"}
    assert not report.mandatory_violations
    assert any("can't run policy 'ha-compute-node-count-even'" in m and "during preview" in m
               for m in messages(report, "ha-compute-node-count-even"))


# -- pack config ------------------------------------------------------------------------------------

def _config(tmp_path, data):
    path = tmp_path / "policy.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_enforcement_level_from_config(tmp_path):
    g = graph("ha-odd-compute")
    assert violated(check(g)) == {"ha-compute-node-count-even", "ha-compute-zones-symmetric"}
    report = check(g, _config(tmp_path, {"ha-compute-node-count-even": "advisory"}))
    assert violated(report) == {"ha-compute-zones-symmetric"}
    assert violated(report, "advisory") == {"ha-compute-node-count-even"}
    report = check(g, _config(tmp_path, {"ha-compute-node-count-even": {"enforcementLevel": "disabled"}}))
    assert violated(report, None) == {"ha-compute-zones-symmetric"}
    report = check(g, _config(tmp_path, {"all": "advisory", "ha-compute-zones-symmetric": "mandatory"}))
    assert violated(report) == {"ha-compute-zones-symmetric"}


def test_config_defaults_come_from_the_schema():
    resolved = resolve_config({})
    assert resolved["ack-api-server-private"] == ("mandatory", {"allowPublicApiServer": False})
    assert resolved["mode-declared"] == ("advisory", {"externalResources": {}})  # every stack policy takes it


@pytest.mark.parametrize("data, error", [
    ({"no-such-policy": "mandatory"}, "unknown policy 'no-such-policy'"),
    ({"all": "fatal"}, "all must be one of advisory, mandatory, remediate, disabled"),
    ({"ack-api-server-private": {"allowPublicAPI": True}},
     "has no setting 'allowPublicAPI'; allowed: enforcementLevel, allowPublicApiServer"),
    ({"allowed-regions": {"allowedRegions": "cn-hangzhou"}}, "allowed-regions.allowedRegions must be of type array"),
    ({"ack-rrsa-enabled": 3}, "must be a level or an object"),
    ("{not json", "not valid JSON"),
    ([], "a JSON object"),
])
def test_bad_config_is_bad_input(tmp_path, data, error):
    with pytest.raises(ProgramError, match=error.replace("(", r"\(").replace(")", r"\)")):
        check(graph("ha-compliant"), _config(tmp_path, data))


def test_not_applicable_is_reported_with_its_reason():
    report = check(graph("single-compliant"))
    reasons = {na.policy: na.reason for na in report.not_applicable if not na.urn}
    assert reasons["metadata-spans-three-zones"] == "mode is single-zone; this rule is for the multi-zone modes"
    assert "control-plane-multi-zone" in skipped(report)
