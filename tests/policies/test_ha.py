"""The seed's HA limits: ha-compute-node-count-even, ha-milvus-version-supported, ha-compute-zones-symmetric."""

from __future__ import annotations

from support.policytest import MANAGED, check, edited, graph, messages, skipped, violated

HA = {"ha-compute-node-count-even", "ha-milvus-version-supported", "ha-compute-zones-symmetric"}


def test_compliant_ha_passes_all_three():
    report = check(graph("ha-compliant"))
    assert not violated(report, None) & HA and not skipped(report) & HA


def test_ha_rules_do_not_apply_to_basic():
    report = check(graph("basic-compliant"))
    assert skipped(report) >= HA


# -- ha-compute-node-count-even -------------------------------------------------------------------

def test_odd_compute_count_violates():
    report = check(graph("ha-odd-compute"))
    assert "ha-compute-node-count-even" in violated(report)
    (msg,) = messages(report, "ha-compute-node-count-even")
    assert "3 compute node(s)" in msg and "compute-h=2" in msg and "compute-i=1" in msg


def test_odd_autoscaler_maximum_violates_at_scale_out():
    def autoscale(props):
        props.pop("desiredSize")
        props["scalingConfig"] = {"enable": True, "minSize": 2, "maxSize": 3}

    report = check(edited(graph("ha-compliant"), "compute-i", autoscale))
    assert violated(report) == {"ha-compute-node-count-even"}
    (msg,) = messages(report, "ha-compute-node-count-even")
    assert "at maxSize the compute pools hold 5 nodes" in msg


def test_even_autoscaler_bounds_pass():
    def autoscale(props):
        props.pop("desiredSize")
        props["scalingConfig"] = {"enable": True, "minSize": 2, "maxSize": 4}

    assert not check(edited(graph("ha-compliant"), "compute-i", autoscale)).violations


def test_compute_pools_are_found_by_the_query_node_selector():
    # Relabel one compute pool away from the release's nodeSelector: it no longer hosts query nodes,
    # so HA has compute in one zone only.
    def relabel(props):
        props["labels"] = [{"key": "workload", "value": "batch"}]

    report = check(edited(graph("ha-compliant"), "compute-i", relabel))
    assert violated(report) == {"compute-zone-count"}
    assert "compute pools (compute-h) are in 1: cn-hangzhou-h" in messages(report, "compute-zone-count")[0]


def test_managed_instance_odd_query_replicas_violate():
    assert "ha-compute-node-count-even" in violated(check(graph("ha-odd-query", MANAGED)))


# -- ha-milvus-version-supported ------------------------------------------------------------------

def test_chart_4_2_25_is_milvus_2_4():
    report = check(graph("ha-milvus-24"))
    assert violated(report) == {"ha-milvus-version-supported"}
    assert "2.4 (chart milvus 4.2.25)" in messages(report, "ha-milvus-version-supported")[0]


def test_image_tag_wins_over_the_chart():
    g = edited(graph("ha-compliant"), "milvus",
               lambda p: p["values"].__setitem__("image", {"all": {"tag": "v2.4.17"}}), "Release")
    assert "ha-milvus-version-supported" in violated(check(g))
    g = edited(graph("ha-milvus-24"), "milvus",
               lambda p: p["values"].__setitem__("image", {"all": {"tag": "v2.5.16"}}), "Release")
    assert "ha-milvus-version-supported" not in violated(check(g))


def test_chart_4_2_58_is_milvus_2_5():
    g = edited(graph("ha-milvus-24"), "milvus", lambda p: p.__setitem__("version", "4.2.58"), "Release")
    assert "ha-milvus-version-supported" not in violated(check(g))


def test_2_4_is_fine_outside_ha():
    g = edited(graph("basic-compliant"), "milvus", lambda p: p.__setitem__("version", "4.2.25"), "Release")
    assert "ha-milvus-version-supported" not in violated(check(g))


def test_managed_instance_db_version():
    assert "ha-milvus-version-supported" in violated(check(graph("ha-milvus-24", MANAGED)))
    assert "ha-milvus-version-supported" not in violated(check(graph("ha", MANAGED)))


# -- ha-compute-zones-symmetric -------------------------------------------------------------------

def test_unequal_instance_types_violate():
    g = edited(graph("ha-compliant"), "compute-i", lambda p: p.__setitem__("instanceTypes", ["ecs.g7.4xlarge"]))
    report = check(g)
    assert violated(report) == {"ha-compute-zones-symmetric"}
    assert "ecs.g7.4xlarge" in messages(report, "ha-compute-zones-symmetric")[0]


def test_a_compute_pool_over_two_zones_violates_in_ha():
    g = graph("ha-compliant")
    switch_i = next(r.urn for r in g.resources if r.name == "node-i")

    def two_zones(props):
        props["vswitchIds"] = props["vswitchIds"] + ["node-i-id"]

    g = edited(g, "compute-h", two_zones)
    next(r for r in g.resources if r.name == "compute-h").property_dependencies["vswitchIds"].append(switch_i)
    assert "spans zones cn-hangzhou-h, cn-hangzhou-i" in messages(check(g), "ha-compute-zones-symmetric")[0]


def _groups(postrender):
    def change(props):
        props["values"]["replicaResourceGroups"] = ["rgh", "rgi"]
        props["values"]["image"] = {"all": {"tag": "v2.6.22"}}  # groups need 2.6.16+ (milvus-image-has-ha-features)
        if postrender:
            props["postrender"] = "/usr/local/bin/pin-groups"
    return change


def test_resource_groups_need_a_post_renderer():
    report = check(edited(graph("ha-compliant"), "milvus", _groups(postrender=False), "Release"))
    assert violated(report) == {"ha-compute-zones-symmetric"}
    assert "post-renderer" in messages(report, "ha-compute-zones-symmetric")[0]
    pinned = check(edited(graph("ha-compliant"), "milvus", _groups(postrender=True), "Release"))
    assert not pinned.mandatory_violations
    # A post-renderer that does not pin each group to a zone (no per-group selectors) leaves a part of each
    # group in every zone: no complete replica outlives a zone, so reads wait for a reload (advisory RTO).
    assert violated(pinned, None) == {"ha-failover-within-rto"}
    assert "segments reloaded" in messages(pinned, "ha-failover-within-rto")[0]
