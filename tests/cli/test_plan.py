"""`milvus-zones plan` as a user runs it: formats, and bad stack configs refused with one message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from milvus_zones.cli import app

PROJECT_DIR = Path(__file__).resolve().parents[2]

runner = CliRunner()
HA = PROJECT_DIR / "stacks" / "Pulumi.multi-zone-ha.yaml"


def edited(tmp_path: Path, **changes) -> Path:
    """The HA stack with some milvus-zones keys changed (None deletes a key)."""
    data = yaml.safe_load(HA.read_text())
    for key, value in changes.items():
        full = f"milvus-zones:{key}"
        if value is None:
            data["config"].pop(full, None)
        else:
            data["config"][full] = value
    path = tmp_path / "Pulumi.edited.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_json_plan_has_preview_shape_and_stack_outputs():
    result = runner.invoke(app, ["plan", "multi-zone-ha", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["changeSummary"]["create"] == len(doc["steps"])
    step = next(s for s in doc["steps"] if s["newState"]["type"] == "alicloud:cs/nodePool:NodePool")
    assert step["op"] == "create"
    assert set(step["newState"]) >= {"type", "custom", "parent", "inputs", "outputs", "dependencies", "propertyDependencies"}
    assert step["newState"]["propertyDependencies"]["vswitchIds"]
    assert doc["outputs"]["mode"] == "multi-zone-ha"


@pytest.mark.parametrize("fmt, marker", [("text", "zone cn-hangzhou-h"), ("markdown", "#### Zone `cn-hangzhou-h`"),
                                         ("mermaid", "flowchart TB")])
def test_other_formats_group_by_zone(fmt, marker):
    result = runner.invoke(app, ["plan", "multi-zone-basic", "--format", fmt])
    assert result.exit_code == 0, result.output
    assert marker in result.stdout
    assert "cn-hangzhou-j" in result.stdout


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"computeNodeCount": 3}, "milvus-zones:computeNodeCount: multi-zone-ha needs a multiple of 2"),
        ({"milvusVersion": "2.4"}, "milvus-zones:milvusVersion: multi-zone-ha does not support Milvus 2.4"),
        ({"zones": ["cn-hangzhou-h", "cn-hangzhou-i"]}, "milvus-zones:zones: mode multi-zone-ha needs exactly 3 zone(s)"),
        ({"zones": ["cn-hangzhou-h", "cn-hangzhou-i", "cn-shanghai-l"]}, "zone 'cn-shanghai-l' is not in region cn-hangzhou"),
        ({"network": {"vpcCidr": "10.30.0.0/16", "nodeCidrs": ["10.30.0.0/20", "10.30.0.0/24", "10.30.32.0/20"]}},
         "milvus-zones:network.nodeCidrs: 10.30.0.0/24 overlaps 10.30.0.0/20"),
        ({"mode": "multi-zone-turbo"}, "milvus-zones:mode: Input should be 'single-zone', 'multi-zone-basic', 'multi-zone-ha' or 'cross-region-ha'"),
        ({"computeNodeCont": 4}, "milvus-zones:computeNodeCont: unknown setting (did you mean 'computeNodeCount'?)"),
        ({"milvusImageTag": "v2.6.15"}, "milvus-zones:milvusImageTag: v2.6.15 lacks streaming-node resource groups"),
        ({"imageRegistry": "https://registry.example.com/"}, "milvus-zones:imageRegistry: must be a registry host"),
    ],
)
def test_bad_config_exits_2_with_one_clear_message(tmp_path, changes, expected):
    result = runner.invoke(app, ["plan", str(edited(tmp_path, **changes))])
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""  # nothing planned


def test_unknown_stack_lists_the_known_ones():
    result = runner.invoke(app, ["plan", "prod"])
    assert result.exit_code == 2
    assert "unknown stack 'prod'" in result.stderr and "multi-zone-ha" in result.stderr


def test_unparsable_stack_file(tmp_path):
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text("config: [unclosed\n")
    result = runner.invoke(app, ["plan", str(bad)])
    assert result.exit_code == 2 and "not valid YAML" in result.stderr


def test_installed_command_refuses_bad_input_without_traceback(tmp_path):
    exe = Path(sys.executable).parent / "milvus-zones"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "milvus_zones.cli"]
    proc = subprocess.run([*cmd, "plan", str(edited(tmp_path, computeNodeCount=5))], capture_output=True, text=True,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"}, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("milvus-zones:computeNodeCount:")


def test_the_plan_shows_named_pools_as_read_in_their_zones():
    result = CliRunner().invoke(app, ["plan", "existing-pools"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "NodePool" in line]
    read = [line for line in lines if "existing, read" in line]
    assert len(read) == 4 and len(lines) == 5  # quorum-j, left out of nodePools, is created
    assert any("milvus-k8s-compute-h" in line and "zones cn-hangzhou-h" in line for line in read)
