"""milvus-image-has-ha-features: resource groups, a streaming primary group or CDC on a Milvus that has them."""

import json

from milvus_zones_policies.model.images import tag_only
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


# -- images-pinned-by-digest (opt-in: turned on by the pack config) ------------------------------
IMAGES = "images-pinned-by-digest"
BACKUP_TAG_ONLY = "milvusdb/milvus-backup:v0.5.17"


def _library(stack):
    from support.policytest import REPO, _run

    return _run(REPO.resolve(), (REPO / "stacks" / f"Pulumi.{stack}.yaml").resolve(), False)


def _on(tmp_path, level="advisory", **config):
    path = tmp_path / f"{level}-{len(config)}-{'-'.join(map(str, config.get('tagOnly', [])))[:40]}.json".replace("/", "_")
    path.write_text(json.dumps({IMAGES: {"enforcementLevel": level, **config}}))
    return path


def _backup_image(image):
    def change(props):
        props["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"] = image
    return change


def test_off_by_default():
    g = edited(_library("multi-zone-ha"), "milvus-backup-cron", _backup_image(BACKUP_TAG_ONLY), "CronJob")
    assert IMAGES not in violated(check(g), None)


def test_stacks_run_only_pinned_or_catalog_unverified_images(tmp_path):
    for stack in ("multi-zone-ha", "existing-cluster"):  # 2.6 on Woodpecker; 2.5 with Pulsar v3 and etcd by tag
        report = check(_library(stack), _on(tmp_path, "mandatory"))
        assert IMAGES not in violated(report, None), messages(report, IMAGES)


def test_a_milvus_tag_without_its_digest_is_reported(tmp_path):
    def untag(props):
        props["values"]["image"]["all"]["tag"] = "v2.6.22"
    report = check(edited(_library("multi-zone-ha"), "milvus-milvus-milvus", untag, "Release"), _on(tmp_path))
    assert IMAGES in violated(report, "advisory")
    assert "milvusdb/milvus:v2.6.22 (image.all) by tag only" in messages(report, IMAGES)[0]


def test_the_chart_default_milvus_image_is_reported(tmp_path):
    def drop_tag(props):
        props["values"]["image"]["all"].pop("tag")
    report = check(edited(_library("multi-zone-ha"), "milvus-milvus-milvus", drop_tag, "Release"), _on(tmp_path))
    assert "milvusdb/milvus:v2.6.15" in messages(report, IMAGES)[0]


def test_a_workload_image_by_tag_is_reported_unless_the_config_allows_it(tmp_path):
    g = edited(_library("multi-zone-ha"), "milvus-backup-cron", _backup_image(BACKUP_TAG_ONLY), "CronJob")
    report = check(g, _on(tmp_path))
    assert IMAGES in violated(report, "advisory")
    assert f"CronJob milvus-backup-cron runs {BACKUP_TAG_ONLY}" in messages(report, IMAGES)[0]
    assert IMAGES in violated(check(g, _on(tmp_path, "mandatory")))
    # The list replaces the default one (the catalog's unverified images: etcd here).
    assert IMAGES not in violated(check(g, _on(tmp_path, tagOnly=[*tag_only(), BACKUP_TAG_ONLY])), None)
    only_backup = messages(check(g, _on(tmp_path, tagOnly=[BACKUP_TAG_ONLY])), IMAGES)
    assert any("milvusdb/etcd:3.5.25-r1 (etcd.image)" in m for m in only_backup)


def test_a_workload_image_by_digest_passes(tmp_path):
    g = edited(_library("multi-zone-ha"), "milvus-backup-cron",
               _backup_image(f"{BACKUP_TAG_ONLY}@sha256:{'0' * 64}"), "CronJob")
    assert IMAGES not in violated(check(g, _on(tmp_path)), None)


def test_stack_digests_reach_what_the_releases_and_pods_carry(tmp_path):
    """With imageDigests naming every image a stack runs, nothing runs by tag, whatever tagOnly allows."""
    import hashlib

    from support.chart import stack_graph, stack_spec

    for stack, changes in (("single-zone", {"milvusVersion": "2.4"}),  # chart 4.2.25: etcd 6.3.3, Pulsar v2
                           ("multi-zone-basic", {"messageService": "kafka"})):  # 5.0.19: bitnamilegacy Kafka
        names = [i.name for i in stack_spec(stack, **changes).images]
        digests = {n: "sha256:" + hashlib.sha256(n.encode()).hexdigest() for n in names}
        strict = _on(tmp_path, "mandatory", tagOnly=[])
        assert IMAGES in violated(check(stack_graph(stack, **changes), strict))  # etcd, Pulsar/Kafka by tag
        report = check(stack_graph(stack, **changes, imageDigests=digests), strict)
        assert IMAGES not in violated(report, None), messages(report, IMAGES)
