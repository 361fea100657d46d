"""The spec's rules: each broken rule names its config key and what is allowed."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from milvus_zones.planning.plan import plan
from milvus_zones.planning.spec import (
    DeploymentSpec,
    MessageService,
    Mode,
    Redundancy,
    SpecError,
)
from milvus_zones.planning.stackconfig import format_problems, spec_from_config

ZONES3 = ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]


def config(**overrides):
    base = {
        "milvus-zones:mode": "multi-zone-ha",
        "milvus-zones:region": "cn-hangzhou",
        "milvus-zones:zones": '["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]',
        "milvus-zones:bucketName": "acme-milvus",
        "milvus-zones:computeNodeCount": "4",
    }
    base.update({f"milvus-zones:{k}": v for k, v in overrides.items()})
    return base


def problems(**overrides) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as e:
        spec_from_config(config(**overrides))
    return e.value.problems


def test_cloud_api_cidrs_reach_the_plan_and_default_to_the_wide_rule():
    assert spec_from_config(config()).egress_isolation.cloud_api_cidrs is None
    spec = spec_from_config(config(egressIsolation='{"cloudApiCidrs": ["100.64.0.0/10", "0.0.0.0/0"]}'))
    assert plan(spec).access.egress_cloud_api_cidrs == ("100.64.0.0/10", "0.0.0.0/0")


def test_valid_ha_config_reads_typed_values_from_pulumi_strings():
    spec = spec_from_config(config())
    assert spec.mode is Mode.MULTI_ZONE_HA
    assert spec.compute_node_count == 4
    assert spec.zones == ZONES3
    assert spec.effective_message_service is MessageService.WOODPECKER
    assert spec.effective_bucket_redundancy is Redundancy.ZRS
    assert spec.chart.chart_version == "5.0.19"


@pytest.mark.parametrize(
    "overrides, key, fragment",
    [
        ({"computeNodeCount": "3"}, "computeNodeCount", "multiple of 2"),
        ({"computeNodeCount": "0"}, "computeNodeCount", "greater than or equal to 1"),
        ({"milvusVersion": "2.4"}, "milvusVersion", "does not support Milvus 2.4"),
        ({"milvusVersion": "2.7"}, "milvusVersion", "'2.4', '2.5' or '2.6'"),
        ({"zones": '["cn-hangzhou-h", "cn-hangzhou-i"]'}, "zones", "exactly 3 zone(s)"),
        ({"zones": '["cn-hangzhou-h", "cn-hangzhou-h", "cn-hangzhou-i"]'}, "zones", "distinct"),
        ({"zones": '["cn-hangzhou-h", "cn-hangzhou-i", "cn-shanghai-l"]'}, "zones", "not in region cn-hangzhou"),
        ({"region": "mars-1"}, "region", "must be one of"),
        ({"mode": "multi"}, "mode", "'single-zone', 'multi-zone-basic', 'multi-zone-ha' or 'cross-region-ha'"),
        ({"primaryRegion": "cn-shanghai"}, "primaryRegion", "only used by mode cross-region-ha"),
        ({"forcePromote": "true"}, "forcePromote", "only used by mode cross-region-ha"),
        ({"computNodeCount": "4"}, "computNodeCount", "did you mean 'computeNodeCount'"),
        ({"bucketRedundancy": "LRS"}, "bucketRedundancy", "requires ZRS"),
        ({"bucketName": "Acme_Milvus"}, "bucketName", "lowercase letters"),
        ({"messageService": "woodpecker", "milvusVersion": "2.5"}, "messageService", "woodpecker needs Milvus 2.6"),
        ({"network": '{"vpcCidr": "10.0.0.0/16", "serviceCidr": "10.0.128.0/20"}'}, "network.serviceCidr", "overlaps the VPC"),
        (
            {"network": '{"vpcCidr": "10.0.0.0/16", "nodeCidrs": ["10.0.0.0/20", "10.0.8.0/24", "10.0.32.0/20"]}'},
            "network.nodeCidrs",
            "must not overlap",
        ),
        ({"network": '{"vpcCidr": "10.0.0.0/16", "nodeCidrs": ["10.1.0.0/20", "10.0.16.0/20", "10.0.32.0/20"]}'},
         "network.nodeCidrs", "not inside the VPC"),
        ({"network": '{"vpcCidr": "10.0.0.0/16", "subnets": []}'}, "network.subnets", "unknown setting"),
        ({"network": '{"vpcCidr": "8.8.0.0/16"}'}, "network.vpcCidr", "private range"),
        ({"tags": '{"milvus-zones/mode": "x"}'}, "tags", "reserved"),
        # OSS bucket tags (every stack tag goes on the buckets): keys of at most 64 characters, no
        # `aliyun`/`acs` prefix in any case, a restricted character set; values not starting with acs:.
        ({"tags": '{"' + "k" * 65 + '": "x"}'}, "tags", "1-64 letters"),
        ({"tags": '{"Aliyun-team": "x"}'}, "tags", "not allowed"),
        ({"tags": '{"ACS-team": "x"}'}, "tags", "not allowed"),
        ({"tags": '{"team#1": "x"}'}, "tags", "not allowed"),
        ({"tags": '{"team": "acs:x"}'}, "tags", "not starting with 'acs:'"),
        ({"tags": '{"team": "see https://x"}'}, "tags", "without http"),
        ({"egressIsolation": '{"cloudApiCidrs": ["100.64.0.0/33"]}'}, "egressIsolation.cloudApiCidrs", "not an IPv4 CIDR"),
        ({"egressIsolation": '{"cloudApiCidrs": ["100.64.0.1/10"]}'}, "egressIsolation.cloudApiCidrs", "not an IPv4 CIDR"),
        ({"egressIsolation": '{"cloudApiCidrs": []}'}, "egressIsolation.cloudApiCidrs", "cloudApis: false"),
        ({"egressIsolation": '{"cloudApiCidrs": ["10.0.0.0/20"]}', "network": '{"vpcCidr": "10.0.0.0/16"}'},
         "egressIsolation.cloudApiCidrs", "overlaps network.vpcCidr"),
    ],
)
def test_each_broken_rule_names_its_setting(overrides, key, fragment):
    found = problems(**overrides)
    assert any(k == key and fragment in m for k, m in found), found


def test_messages_are_prefixed_with_the_config_namespace():
    with pytest.raises(SpecError) as e:
        spec_from_config(config(computeNodeCount="5"))
    assert format_problems(e.value).startswith("milvus-zones:computeNodeCount: ")


def test_missing_required_key_says_how_to_set_it():
    cfg = config()
    del cfg["milvus-zones:bucketName"]
    with pytest.raises(SpecError) as e:
        spec_from_config(cfg)
    assert e.value.problems == [("bucketName", "required by the self-hosted backend; set it with "
                                                "`pulumi config set milvus-zones:bucketName <globally-unique-name>`")]


def test_missing_mode_says_how_to_set_it():
    cfg = config()
    del cfg["milvus-zones:mode"]
    with pytest.raises(SpecError) as e:
        spec_from_config(cfg)
    assert e.value.problems == [("mode", "required; set it with `pulumi config set milvus-zones:mode <value>`")]


def test_auto_and_empty_defaults_mean_derived():
    spec = spec_from_config(config(messageService="auto", bucketRedundancy="auto", kubernetesVersion="", milvusVersion="2.5"))
    assert spec.effective_message_service is MessageService.PULSAR
    assert spec.kubernetes_version is None


def test_single_zone_accepts_lrs_and_one_zone():
    spec = spec_from_config(
        config(mode="single-zone", zones='["cn-hangzhou-h"]', bucketRedundancy="LRS", computeNodeCount="3", milvusVersion="2.4")
    )
    assert spec.effective_bucket_redundancy is Redundancy.LRS


@settings(max_examples=60, deadline=None)
@given(count=st.integers(min_value=1, max_value=200), version=st.sampled_from(["2.4", "2.5", "2.6"]))
def test_ha_accepts_exactly_even_counts_on_supported_versions(count, version):
    ok = count % 2 == 0 and version != "2.4"
    try:
        DeploymentSpec(mode="multi-zone-ha", region="cn-hangzhou", zones=ZONES3, bucket_name="acme-milvus",
                       compute_node_count=count, milvus_version=version)
    except SpecError as e:
        assert not ok, e.problems
        keys = {k for k, _ in e.problems}
        assert keys <= {"computeNodeCount", "milvusVersion"}
    else:
        assert ok


# ---- the Milvus image ----------------------------------------------------------------------------

def test_the_catalog_pin_is_the_default_image():
    from milvus_zones.planning.catalog import HA_FEATURES_MIN_VERSION, MILVUS_IMAGES, version_tuple

    spec = spec_from_config(config())
    assert spec.milvus_image == MILVUS_IMAGES["2.6"]
    assert version_tuple(spec.milvus_image.tag) >= HA_FEATURES_MIN_VERSION
    assert spec.milvus_image.reference_tag.startswith(spec.milvus_image.tag + "@sha256:")


@pytest.mark.parametrize("mode_changes", [
    {},  # multi-zone-ha: streaming-node resource groups
    {"mode": "cross-region-ha", "peer": '{"region": "cn-shanghai", "zones": ["cn-shanghai-l", "cn-shanghai-m", '
                                        '"cn-shanghai-n"], "bucketName": "acme-milvus-sh", "network": '
                                        '{"vpcCidr": "10.1.0.0/16"}}'},
])
def test_ha_and_cdc_refuse_a_milvus_without_the_features(mode_changes):
    (problem,) = problems(milvusImageTag="v2.6.15", **mode_changes)
    assert problem[0] == "milvusImageTag"
    assert "allowed: v2.6.16 or later" in problem[1]
    assert spec_from_config(config(milvusImageTag="v2.6.16", **mode_changes)).milvus_image.tag == "v2.6.16"


def test_modes_without_ha_features_take_any_patch_of_their_minor():
    spec = spec_from_config(config(mode="multi-zone-basic", milvusImageTag="v2.6.15"))
    assert spec.milvus_image.ref() == "docker.io/milvusdb/milvus:v2.6.15"  # a user tag carries no catalog digest
    assert spec_from_config(config(milvusVersion="2.5", milvusImageTag="v2.5.10")).milvus_image.tag == "v2.5.10"


@pytest.mark.parametrize("changes, message", [
    ({"milvusImageTag": "v2.5.16"}, "must be a Milvus 2.6 release tag"),
    ({"milvusImageTag": "latest"}, "must be a Milvus 2.6 release tag"),
    ({"milvusImageDigest": "sha256:" + "a" * 64}, "set milvusImageTag too"),
    ({"milvusImageTag": "v2.6.22", "milvusImageDigest": "sha256:abc"}, "64 lowercase hex"),
    ({"imageRegistry": "registry.example.com/"}, "no trailing '/'"),
    ({"imageRegistry": "https://registry.example.com"}, "no scheme"),
])
def test_bad_image_settings_name_the_key(changes, message):
    (problem,) = problems(**changes)
    assert problem[0] in changes and message in problem[1], problem


def test_user_digest_and_registry_reach_the_plan():
    from milvus_zones.planning.plan import plan

    digest = "sha256:" + "b" * 64
    p = plan(spec_from_config(config(milvusImageTag="v2.6.20", milvusImageDigest=digest,
                                     imageRegistry="acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com/mirror")))
    assert p.milvus_image.ref(p.image_registry) == (
        f"acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com/mirror/milvusdb/milvus:v2.6.20@{digest}")


DIGEST_B = "sha256:" + "b" * 64


def test_image_digests_pin_every_image_the_stack_runs_over_the_catalogs():
    from milvus_zones.planning.catalog import JOB_IMAGE, MILVUS_IMAGES

    spec = spec_from_config(config(messageService="pulsar"))
    names = [i.name for i in spec.images]
    assert names == ["milvusdb/milvus:v2.6.22", "milvusdb/etcd:3.5.25-r1", "apachepulsar/pulsar:3.0.7",
                     "python:3.11.11-slim-bookworm", "milvusdb/milvus-backup:v0.5.16"]
    pinned = spec_from_config(config(messageService="pulsar",
                                     imageDigests=json.dumps(dict.fromkeys(names, DIGEST_B)))).images
    assert {i.digest for i in pinned} == {DIGEST_B}
    assert all(i.source == "stack setting imageDigests" for i in pinned)
    # Unset: the catalog's digest where it has one, else by tag.
    assert [i.digest for i in spec.images] == [MILVUS_IMAGES["2.6"].digest, None, None, JOB_IMAGE.digest, None]


def test_image_digests_take_a_user_milvus_tag():
    spec = spec_from_config(config(milvusImageTag="v2.6.20", imageDigests=json.dumps({"milvusdb/milvus:v2.6.20": DIGEST_B})))
    assert spec.milvus_image.reference_tag == f"v2.6.20@{DIGEST_B}"


@pytest.mark.parametrize("digests, message", [
    ({"milvusdb/etcd:3.5.18-r1": DIGEST_B},  # chart 4.2.58's etcd: not what a 2.6 stack runs
     "milvusdb/etcd:3.5.18-r1: not an image this stack runs; it runs milvusdb/milvus:v2.6.22, milvusdb/etcd:3.5.25-r1, "
     "python:3.11.11-slim-bookworm, milvusdb/milvus-backup:v0.5.16"),
    ({"milvusdb/etcd:3.5.25-r1": "sha256:abc"}, "milvusdb/etcd:3.5.25-r1: 'sha256:abc' is not a digest; allowed: sha256:"),
    ({"milvusdb/etcd:3.5.25-r1": "SHA256:" + "B" * 64}, "is not a digest"),
    ({"docker.io/milvusdb/etcd": DIGEST_B}, "is not an image name; keys are repository:tag"),
    ({"milvusdb/milvus:v2.6.22": DIGEST_B, "x": 1}, "imageDigests"),
])
def test_bad_image_digests_name_the_setting(digests, message):
    with pytest.raises(SpecError) as e:
        spec_from_config(config(imageDigests=json.dumps(digests)))
    text = format_problems(e.value)
    assert "imageDigests" in text and message in text, text


def test_milvus_pinned_twice_differently_is_refused():
    (problem,) = problems(milvusImageTag="v2.6.22", milvusImageDigest="sha256:" + "a" * 64,
                          imageDigests=json.dumps({"milvusdb/milvus:v2.6.22": DIGEST_B}))
    assert problem[0] == "imageDigests" and "pinned twice" in problem[1]


def test_cross_region_digests_reach_both_regions_plans():
    from milvus_zones.planning.catalog import JOB_IMAGE
    from milvus_zones.planning.plan import plan_cross_region

    peer = {"region": "cn-shanghai", "zones": ["cn-shanghai-l", "cn-shanghai-m", "cn-shanghai-n"],
            "bucketName": "acme-milvus-sh", "network": {"vpcCidr": "10.1.0.0/16"}}
    # multi-zone-basic regions run no Job image of their own; the stack's replication Job does.
    spec = spec_from_config(config(mode="cross-region-ha", regionMode="multi-zone-basic", peer=json.dumps(peer), computeInstanceType="ecs.g7.4xlarge",
                                   imageDigests=json.dumps({"python:3.11.11-slim-bookworm": DIGEST_B})))
    p = plan_cross_region(spec)
    assert {r.image(JOB_IMAGE).digest for r in p.regions} == {DIGEST_B}


def test_managed_backend_takes_no_image_settings():
    (problem,) = problems(backend="managed", bucketName="", imageDigests=json.dumps({"milvusdb/milvus:v2.6.22": DIGEST_B}))
    assert problem[0] == "imageDigests" and "managed backend" in problem[1]
    for key, value in (("milvusImageTag", "v2.6.22"), ("imageRegistry", "registry.example.com")):
        (problem,) = problems(backend="managed", bucketName="", **{key: value})
        assert problem[0] == key and "managed backend" in problem[1]


def test_security_defaults_are_on_and_validated():
    from milvus_zones.planning.spec import SecuritySpec
    from milvus_zones.planning.stackconfig import format_problems, spec_from_config

    base = {"milvus-zones:mode": "multi-zone-ha", "milvus-zones:region": "cn-hangzhou",
            "milvus-zones:zones": '["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]',
            "milvus-zones:bucketName": "acme-milvus"}
    s = spec_from_config(base).security
    assert s == SecuritySpec() and s.secrets_encryption and s.bucket_access_logging and not s.bucket_kms_key
    cases = (('{"bucketKms": true}', "security.bucketKms: unknown setting of security (did you mean 'bucketKmsKey'?)"),
             ('{"kmsPendingWindowDays": 3}', "security.kmsPendingWindowDays: Input should be greater than or equal to 7"),
             ('{"controlPlaneLogs": "sometimes"}', "security.controlPlaneLogs: Input should be a valid boolean"))
    for bad, expected in cases:
        with pytest.raises(SpecError) as e:
            spec_from_config({**base, "milvus-zones:security": bad})
        assert expected in format_problems(e.value)


def test_tags_at_the_limits_are_accepted():
    tags = {"k" * 64: "", "cost-center": "ml/search", "team name:env=prod+1.x_y": "v" * 128, "owner": "ACS team"}
    assert spec_from_config(config(tags=json.dumps(tags))).tags == tags
