"""Changes a running cluster cannot take in one step: refused, naming the key and the supported path."""

import pytest

from milvus_zones.planning.stackconfig import spec_from_config
from milvus_zones.planning.upgrade import upgrade_problems


def spec(**overrides):
    base = {"mode": "multi-zone-basic", "region": "cn-hangzhou",
            "zones": '["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]', "bucketName": "acme-milvus",
            "milvusVersion": "2.5"}
    base.update(overrides)
    return spec_from_config({f"milvus-zones:{k}": v for k, v in base.items()})


def keys(old, new):
    return {k for k, _ in upgrade_problems(old, new)}


def test_same_config_and_safe_growth_pass():
    assert upgrade_problems(spec(), spec()) == []
    assert upgrade_problems(spec(), spec(etcdVolumeSizeGi="50", computeNodeCount="6")) == []


def test_25_to_26_keeping_the_message_service_passes_outside_ha():
    assert upgrade_problems(spec(), spec(milvusVersion="2.6", messageService="pulsar")) == []


def test_25_to_26_with_the_default_message_service_is_refused():
    found = upgrade_problems(spec(), spec(milvusVersion="2.6"))
    assert [k for k, _ in found] == ["messageService"]
    assert "set messageService: pulsar" in found[0][1]


def test_ha_25_to_26_is_not_in_place():
    old = spec(mode="multi-zone-ha", computeNodeCount="4")
    new = spec(mode="multi-zone-ha", computeNodeCount="4", milvusVersion="2.6", messageService="pulsar")
    assert keys(old, new) == {"milvusVersion"}
    assert "new 2.6 stack" in upgrade_problems(old, new)[0][1]


@pytest.mark.parametrize("old, new, key", [
    ({"mode": "single-zone", "zones": '["cn-hangzhou-h"]', "milvusVersion": "2.4"},
     {"mode": "single-zone", "zones": '["cn-hangzhou-h"]', "milvusVersion": "2.6", "messageService": "pulsar"},
     "milvusVersion"),
    ({"milvusVersion": "2.6"}, {"milvusVersion": "2.5"}, "milvusVersion"),
    ({}, {"bucketName": "acme-other"}, "bucketName"),
    ({}, {"bucketRootPath": "other"}, "bucketRootPath"),
    ({}, {"messageService": "kafka"}, "messageService"),
    ({"etcdVolumeSizeGi": "50"}, {"etcdVolumeSizeGi": "20"}, "etcdVolumeSizeGi"),
    ({"quorumNodesPerZone": "2"}, {"quorumNodesPerZone": "1"}, "quorumNodesPerZone"),
])
def test_each_refused_change_names_its_key(old, new, key):
    assert key in keys(spec(**old), spec(**new))
