"""upgrade-from-deployed: the upgrade rules under `pulumi preview`, against the deployed state in the
`milvus-zones:deployed` stack tag; what the pack reads from the resources equals what the spec says."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from milvus_zones_policies.model.deployment import Topology
from milvus_zones_policies.model.resources import from_graph
from milvus_zones_policies.model.upgrade_rules import DEPLOYED_TAG, Running
from milvus_zones_policies.upgrades import proposed, upgrade_from_deployed

from milvus_zones.analysis.check import check_graph
from milvus_zones.engine.offline import config_for_program, read_project, run_program
from milvus_zones.engine.stacks import resolve_stack
from milvus_zones.planning.stackconfig import spec_from_config
from milvus_zones.planning.upgrade import deployed_tag, running

REPO = Path(__file__).resolve().parents[2]
SELF_HOSTED = ["single-zone", "multi-zone-basic", "multi-zone-ha", "cross-region-ha"]


@functools.cache
def stack(name: str):
    cfg = resolve_stack(name, REPO)
    return spec_from_config(config_for_program(read_project(REPO), cfg)[0]), run_program(REPO, cfg)


def run(name: str, tag: str | None):
    spec, graph = stack(name)
    return check_graph(graph, policies=[upgrade_from_deployed], stack_tags={DEPLOYED_TAG: tag} if tag else None)


@pytest.mark.parametrize("name", SELF_HOSTED)
def test_the_pack_reads_what_the_spec_deploys(name):
    spec, graph = stack(name)
    expected = running(spec)
    seen = proposed(Topology.of(from_graph(graph)), spec.bucket_name)
    assert seen == Running(**{**expected.__dict__, "quorum_nodes_per_zone": None})


@pytest.mark.parametrize("name", SELF_HOSTED)
def test_compliant_against_its_own_deployed_tag(name):
    spec, _ = stack(name)
    report = run(name, deployed_tag(spec)[1])
    assert [v.message for v in report.violations] == []


def test_not_applicable_without_the_tag():
    report = run("multi-zone-ha", None)
    assert not report.violations
    assert any(na.policy == "upgrade-from-deployed" and "no milvus-zones:deployed stack tag" in na.reason
               for na in report.not_applicable)


def test_25_pulsar_deployed_refuses_the_26_stack():
    report = run("multi-zone-ha", "milvus=2.5,wal=pulsar,bucket=acme-milvus-multi-zone-ha,root=milvus,etcdGi=20,"
                                  "mode=multi-zone-ha,backend=self-hosted")
    messages = [v.message for v in report.violations]
    assert all(v.enforcement_level == "mandatory" for v in report.violations)
    assert any(m.startswith("milvus-zones:messageService: ") and "set messageService: pulsar" in m for m in messages)
    assert any(m.startswith("milvus-zones:milvusVersion: ") and "new 2.6 stack" in m for m in messages)


@pytest.mark.parametrize(("tag", "key"), [
    ("bucket=acme-other", "bucketName"),
    ("etcdGi=50", "etcdVolumeSizeGi"),
    ("milvus=2.4", "milvusVersion"),
    ("backend=managed", "backend"),
])
def test_each_rule_against_the_tag(tag, key):
    messages = [v.message for v in run("single-zone", tag).violations]
    assert len(messages) == 1 and messages[0].startswith(f"milvus-zones:{key}: "), messages


def test_an_unreadable_tag_is_a_violation():
    messages = [v.message for v in run("single-zone", "milvus=two").violations]
    assert len(messages) == 1 and "cannot be read" in messages[0]


# -- several deployments in one stack: one tag each ------------------------------------------------------

EMBED = REPO / "tests" / "programs" / "team-embed"


@functools.cache
def two_instances():
    return run_program(EMBED, resolve_stack("two-instances", EMBED))


def _settings(mode, zones, bucket):
    from milvus_zones.planning.stackconfig import spec_from_settings

    return spec_from_settings({"mode": mode, "region": "cn-hangzhou", "zones": zones, "bucketName": bucket,
                               "computeNodeCount": 2})


TWO = {"search": _settings("multi-zone-ha", ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"], "team-search-vectors"),
       "staging": _settings("single-zone", ["cn-hangzhou-h"], "team-staging-vectors")}


def run_two(tags):
    return check_graph(two_instances(), policies=[upgrade_from_deployed], stack_tags=tags)


def test_each_deployment_is_held_to_its_own_tag():
    from milvus_zones.planning.upgrade import deployed_tags

    tags = deployed_tags(TWO)
    assert sorted(tags) == ["milvus-zones:deployed:search", "milvus-zones:deployed:staging"]
    # Within Pulumi's limits (ValidateStackTags: names of 40 characters at most, values of 256).
    assert all(len(k) <= 40 and len(v) <= 256 for k, v in tags.items())
    assert [v.message for v in run_two(tags).violations] == []


def test_one_deployments_tag_refuses_only_that_deployment():
    from milvus_zones.planning.upgrade import deployed_tags

    tags = deployed_tags(TWO)
    moved = Running(**{**running(TWO["staging"]).__dict__, "bucket_name": "team-old-vectors"})
    tags["milvus-zones:deployed:staging"] = moved.to_tag()
    messages = [v.message for v in run_two(tags).violations]
    assert len(messages) == 1, messages
    assert messages[0].startswith("milvus-zones:bucketName: from the deployed state (milvus-zones:deployed:staging=")


def test_a_deployment_without_a_tag_is_new_and_not_judged():
    from milvus_zones.planning.upgrade import deployed_tags

    tags = deployed_tags({"search": TWO["search"]})
    assert [v.message for v in run_two(tags).violations] == []


def test_the_stacks_one_tag_still_describes_a_one_deployment_stack():
    spec, _ = stack("single-zone")
    name, value = deployed_tag(spec)
    assert name == DEPLOYED_TAG  # the format recorded before
    assert [v.message for v in run("single-zone", value).violations] == []
    spec_graph = check_graph(stack("single-zone")[1], policies=[upgrade_from_deployed],
                             stack_tags={f"{DEPLOYED_TAG}:milvus": value})  # the same state, by deployment name
    assert [v.message for v in spec_graph.violations] == []


def test_a_tag_for_no_deployment_and_both_forms_are_refused():
    from milvus_zones.planning.upgrade import deployed_tags

    tags = {**deployed_tags(TWO), "milvus-zones:deployed:gone": running(TWO["staging"]).to_tag()}
    messages = [v.message for v in run_two(tags).violations]
    assert len(messages) == 1 and "milvus-zones:deployed:gone names no deployment" in messages[0]
    assert "search, staging" in messages[0]
    both = {**deployed_tags(TWO), DEPLOYED_TAG: running(TWO["search"]).to_tag()}
    messages = [v.message for v in run_two(both).violations]
    assert len(messages) == 1 and "keep one form" in messages[0]


def test_a_name_pulumi_would_refuse_as_a_tag_is_refused():
    from milvus_zones.planning.upgrade import deployed_tags

    with pytest.raises(ValueError, match="not a stack tag name Pulumi accepts"):
        deployed_tags({"a-rather-long-deployment-name": TWO["search"]})
