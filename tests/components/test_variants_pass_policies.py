"""Valid configurations beyond the shipped stacks pass every mandatory policy (versions, message services)."""


from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from milvus_zones.analysis.check import check_graph
from milvus_zones.engine.offline import run_program
from milvus_zones.engine.stacks import resolve_stack

PROJECT_DIR = Path(__file__).resolve().parents[2]

ZONES = ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]


@pytest.mark.parametrize(
    "mode, version, mq, nodes",
    [
        ("multi-zone-basic", "2.4", "pulsar", 3),  # Pulsar v2: placed by the post-renderer's patches
        ("multi-zone-basic", "2.5", "pulsar", 3),
        ("multi-zone-basic", "2.5", "kafka", 3),
        ("multi-zone-ha", "2.5", "pulsar", 4),  # two releases, one cluster
        ("multi-zone-ha", "2.6", "kafka", 2),
        ("single-zone", "2.4", "kafka", 1),
    ],
)
def test_variant_passes_the_pack(tmp_path, mode, version, mq, nodes):
    config = {
        "milvus-zones:mode": mode,
        "milvus-zones:region": "cn-hangzhou",
        "milvus-zones:zones": ZONES[:1] if mode == "single-zone" else ZONES,
        "milvus-zones:milvusVersion": version,
        "milvus-zones:messageService": mq,
        "milvus-zones:computeNodeCount": nodes,
        "milvus-zones:bucketName": "acme-milvus-variant",
    }
    path = tmp_path / "Pulumi.variant.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    stack = resolve_stack(str(path))
    report = check_graph(run_program(PROJECT_DIR, stack), source=path, config=stack.values)
    assert not report.mandatory_violations, [(v.policy, v.message) for v in report.mandatory_violations]
