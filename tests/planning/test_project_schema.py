"""Pulumi.yaml's config schema and the spec describe the same settings with the same defaults."""

import json
from pathlib import Path

import yaml

from milvus_zones.planning.spec import DeploymentSpec
from milvus_zones.planning.stackconfig import PROGRAM_KEYS, SPEC_KEYS, spec_from_config

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())

_PULUMI_TYPES = {str: "string", int: "integer", bool: "boolean", list: "array", dict: "object"}


def test_every_spec_setting_is_declared_and_nothing_else():
    assert set(PROJECT["config"]) == set(SPEC_KEYS) | PROGRAM_KEYS


def test_project_settings_are_typed_described_and_optional_ones_defaulted():
    required = {a for a, f in ((f.alias, f) for f in DeploymentSpec.model_fields.values()) if f.is_required()}
    for key, schema in PROJECT["config"].items():
        assert schema.get("description"), key
        assert schema.get("type") in _PULUMI_TYPES.values(), key
        # Pulumi requires every declared key without a default: only the spec's required keys and secrets may lack one.
        if "default" not in schema:
            assert key in required or schema.get("secret"), key


def test_project_defaults_are_the_specs_defaults():
    minimal = {
        "milvus-zones:mode": "multi-zone-ha",
        "milvus-zones:region": "cn-hangzhou",
        "milvus-zones:zones": '["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]',
        "milvus-zones:bucketName": "acme-milvus",
    }
    # The CLI passes defaults as config strings, structured ones as JSON.
    defaults = {
        f"milvus-zones:{k}": v["default"] if isinstance(v["default"], str) else json.dumps(v["default"])
        for k, v in PROJECT["config"].items()
        if "default" in v
    }
    from_defaults = spec_from_config({**defaults, **minimal})
    assert from_defaults == spec_from_config(minimal)


def test_stack_config_dir_and_runtime():
    assert PROJECT["stackConfigDir"] == "stacks"
    assert PROJECT["runtime"]["name"] == "python"


def test_readme_configuration_reference_lists_every_setting():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[1].strip().strip("`") for line in section.splitlines() if line.startswith("| `")}
    assert rows == set(PROJECT["config"])
