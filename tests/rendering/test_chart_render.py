"""The real chart rendered from each stack's Helm values: the Milvus it runs and where each replica lands."""

from __future__ import annotations

import re

import pytest
from support.chart import cluster_pools

from milvus_zones.planning.catalog import HA_FEATURES_MIN_VERSION, MILVUS_IMAGES, version_tuple
from milvus_zones.rendering.postrender import RG_LABEL

STACKS = ["single-zone", "multi-zone-basic", "multi-zone-ha", "cross-region-ha"]
HA_STACKS = ["multi-zone-ha", "cross-region-ha"]
# Every Milvus container: the chart renders "{{ image.all.repository }}:{{ image.all.tag }}".
MILVUS_IMAGE = re.compile(r"^(?:.+/)?milvusdb/milvus:(?P<tag>v[\d.]+)(?:@(?P<digest>sha256:[0-9a-f]{64}))?$")
GROUP_ENV = "MILVUS_SERVER_LABEL_RESOURCE_GROUP"


def milvus_images(release) -> dict[str, str]:
    return {w: image for w, image in release.images() if "milvusdb/milvus:" in image}


@pytest.mark.parametrize("stack", STACKS)
def test_every_milvus_container_runs_the_pinned_image(rendered, stack):
    pinned = MILVUS_IMAGES["2.6"]
    for release in rendered(stack):
        images = milvus_images(release)
        assert images, f"{release.name}: no Milvus container rendered"
        for workload, image in images.items():
            m = MILVUS_IMAGE.match(image)
            assert m, f"{workload}: {image}"
            assert (m["tag"], m["digest"]) == (pinned.tag, pinned.digest), f"{workload}: {image}"


@pytest.mark.parametrize("stack", HA_STACKS)
def test_resource_groups_and_cdc_run_on_a_milvus_that_has_them(rendered, stack):
    for release in rendered(stack):
        uses = bool(release.values.get("replicaResourceGroups")) or release.values.get("cdc", {}).get("enabled")
        assert uses, f"{release.name}: the HA stack should use resource groups or CDC"
        for workload, image in milvus_images(release).items():
            version = version_tuple(MILVUS_IMAGE.match(image)["tag"])
            assert version is not None and version >= HA_FEATURES_MIN_VERSION, f"{workload}: {image}"


@pytest.mark.parametrize("stack", HA_STACKS)
def test_each_group_runs_its_query_and_streaming_nodes_in_its_own_zone(rendered, graph, stack):
    g = graph(stack)
    for release in rendered(stack):
        pools = [p for p in cluster_pools(g, release) if p.labels.get("milvus-zones/role") == "compute"]
        groups = release.values["replicaResourceGroups"]
        zone_of_group: dict[str, set[str]] = {}
        for component in ("querynode", "streamingnode"):
            workloads = release.by_component(component)
            # One Deployment per group, nothing left on the shared selector.
            assert sorted(w.labels.get(RG_LABEL) for w in workloads) == sorted(groups), component
            for w in workloads:
                group = w.labels[RG_LABEL]
                assert w.env()[GROUP_ENV] == group, w.name
                selector = w.pod["nodeSelector"]
                hosts = [p for p in pools if p.hosts(selector)]
                assert len(hosts) == 1, f"{w.name}: nodeSelector {selector} matches pools {[p.name for p in hosts]}"
                zones = set(hosts[0].zones)
                assert len(zones) == 1, f"{w.name}: pool {hosts[0].name} spans {zones}"
                zone_of_group.setdefault(group, set()).update(zones)
        # Query and streaming nodes of a group share one zone; the groups cover both compute zones.
        assert all(len(z) == 1 for z in zone_of_group.values()), zone_of_group
        compute_zones = {z for p in pools for z in p.zones}
        assert {next(iter(z)) for z in zone_of_group.values()} == compute_zones


REGISTRY = "acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com/mirror"
# Variants rendered once each and shared by the tests below (each is a full program run).
HA_25 = {"milvusVersion": "2.5", "imageRegistry": REGISTRY}
HA_USER_TAG = {"milvusImageTag": "v2.6.20", "imageRegistry": REGISTRY}


def test_ha_on_25_runs_2516_one_release_pinned_per_zone(rendered, graph):
    releases = rendered("multi-zone-ha", **HA_25)
    g = graph("multi-zone-ha", **HA_25)
    assert [r.chart_version for r in releases] == ["4.2.58", "4.2.58"]
    zones = []
    for release in releases:
        for workload, image in milvus_images(release).items():
            assert MILVUS_IMAGE.match(image)["tag"] == MILVUS_IMAGES["2.5"].tag, f"{workload}: {image}"
        pools = [p for p in cluster_pools(g, release) if p.labels.get("milvus-zones/role") == "compute"]
        (querynode,) = release.by_component("querynode")
        (pool,) = [p for p in pools if p.hosts(querynode.pod["nodeSelector"])]
        zones += pool.zones
        assert querynode.env()["MILVUS_SERVER_LABEL_AZ"] == pool.zones[0]
    assert len(set(zones)) == 2


def test_user_tag_reaches_every_milvus_container(rendered):
    for release in rendered("multi-zone-ha", **HA_USER_TAG):
        assert set(milvus_images(release).values()) == {f"{REGISTRY}/milvusdb/milvus:v2.6.20"}

OWN_WORKLOADS = ("kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob", "kubernetes:apps/v1:Deployment")


@pytest.mark.parametrize("stack,changes", [
    ("multi-zone-ha", HA_USER_TAG),
    ("multi-zone-ha", {"messageService": "pulsar", "imageRegistry": REGISTRY}),
    ("multi-zone-basic", {"messageService": "kafka", "imageRegistry": REGISTRY}),
    ("multi-zone-ha", HA_25),
    ("single-zone", {"milvusVersion": "2.4", "imageRegistry": REGISTRY}),
    ("cross-region-ha", {"imageRegistry": REGISTRY}),
], ids=["woodpecker", "pulsar-2.6", "kafka-2.6", "ha-2.5", "single-2.4", "cross-region"])
def test_image_registry_moves_every_image_the_stack_runs(rendered, graph, stack, changes):
    releases = rendered(stack, **changes)
    seen = set()
    for release in releases:
        for workload, image in release.images():
            assert image.startswith(f"{REGISTRY}/"), f"{release.name} {workload}: {image}"
            seen.add(image.removeprefix(f"{REGISTRY}/").split(":")[0])
    # The project's own Jobs, CronJobs and controllers, outside the chart.
    g = graph(stack, **changes)
    for r in (r for t in OWN_WORKLOADS for r in g.of_type(t)):
        spec = r.inputs["spec"]
        pod = (spec["jobTemplate"]["spec"] if "jobTemplate" in spec else spec)["template"]["spec"]
        for c in pod.get("containers", []) + pod.get("initContainers", []):
            assert c["image"].startswith(f"{REGISTRY}/"), f"{r.name}: {c['image']}"
    assert "milvusdb/milvus" in seen
    kind = changes.get("messageService")
    if kind == "pulsar" or changes.get("milvusVersion") in ("2.4", "2.5"):
        assert "apachepulsar/pulsar" in seen
    if kind == "kafka":
        assert {"bitnamilegacy/kafka", "bitnamilegacy/zookeeper"} <= seen
