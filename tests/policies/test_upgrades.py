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
