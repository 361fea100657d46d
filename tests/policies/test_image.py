"""milvus-image-has-ha-features: resource groups, a streaming primary group or CDC on a Milvus that has them."""

import json

from support.policytest import check, edited, graph, messages, skipped, violated

POLICY = "milvus-image-has-ha-features"


def _values(**changes):
    def change(props):
        for key, value in changes.items():
            props["values"][key] = value
    return change


def _release(stack, **changes):
    return check(edited(graph(stack), "milvus", _values(**changes), "Release"))


def test_not_applicable_without_the_features():
    assert POLICY in skipped(check(graph("ha-compliant")))


def test_resource_groups_on_the_chart_default_image_are_mandatory():
    # No image.all.tag on chart 5.0.19: its default image, Milvus 2.6.15, has no streaming-node groups.
    report = _release("ha-compliant", replicaResourceGroups=["rga", "rgb"])
    assert POLICY in violated(report)
    (msg,) = messages(report, POLICY)
    assert "replicaResourceGroups" in msg and "2.6.15" in msg and "chart milvus 5.0.19's default image" in msg


def test_resource_groups_on_a_pinned_image_pass():
    for tag in ("v2.6.16", "v2.6.22", "v2.6.22@sha256:" + "0" * 64):
        report = _release("ha-compliant", replicaResourceGroups=["rga", "rgb"], image={"all": {"tag": tag}})
        assert POLICY not in violated(report, None), tag


def test_cdc_on_an_older_patch_is_mandatory():
    report = _release("ha-compliant", cdc={"enabled": True}, image={"all": {"tag": "v2.6.15"}})
    assert POLICY in violated(report)
    assert "cdc.enabled on Milvus 2.6.15 (image.all.tag v2.6.15)" in messages(report, POLICY)[0]


def test_primary_group_in_user_yaml_on_an_unknown_image_is_mandatory():
    user_yaml = json.dumps({"streaming": {"primaryResourceGroup": "rga"}})
    report = _release("ha-compliant", extraConfigFiles={"user.yaml": user_yaml}, image={"all": {"tag": "latest"}})
    assert POLICY in violated(report)
    assert "streaming.primaryResourceGroup" in messages(report, POLICY)[0]
    assert "which Milvus it runs is unknown" in messages(report, POLICY)[0]


def test_cross_region_program_with_a_cdc_image_passes():
    assert POLICY not in violated(check(graph("xr-compliant")), None)
