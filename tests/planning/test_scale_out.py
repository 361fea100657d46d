"""Adding zones is refused with the supported path, and that path is documented."""

import re
from pathlib import Path

import pytest

from milvus_zones.planning.spec import SpecError
from milvus_zones.planning.stackconfig import spec_from_config

OPERATIONS = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()


def test_a_fourth_zone_is_refused_naming_cross_region_ha_and_its_runbook():
    with pytest.raises(SpecError) as e:
        spec_from_config({"milvus-zones:mode": "multi-zone-ha", "milvus-zones:region": "cn-hangzhou",
                          "milvus-zones:zones": ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"],
                          "milvus-zones:bucketName": "acme-milvus", "milvus-zones:computeNodeCount": 4})
    ((key, message),) = e.value.problems
    assert key == "zones" and "cross-region-ha" in message
    anchor = re.search(r"docs/operations\.md#([a-z-]+)", message).group(1)
    assert f'<a id="{anchor}"></a>' in OPERATIONS
