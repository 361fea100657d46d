"""The Pulumi YAML example uses only inputs and outputs the provider's inferred schema has."""

import json
import re
from pathlib import Path

import yaml
from milvus_zones.components.milvus_zones import MilvusZones, settings_spec
from pulumi.provider.experimental.component import ComponentProvider

TOKEN = "milvus-zones:index:MilvusZones"

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "yaml-consumer" / "Pulumi.yaml"


def test_yaml_program_matches_the_schema_and_the_spec():
    program = yaml.safe_load(EXAMPLE.read_text())
    assert (EXAMPLE.parent / program["packages"]["milvus-zones"] / "PulumiPlugin.yaml").is_file()
    component = json.loads(ComponentProvider([MilvusZones], "milvus-zones").schema)["resources"][TOKEN]
    resource = program["resources"]["search"]
    assert resource["type"] == TOKEN
    props = resource["properties"]
    assert set(props) <= set(component["inputProperties"])
    assert set(component["requiredInputs"]) <= set(props)
    used = set(re.findall(r"\$\{search\.(\w+)\}", yaml.safe_dump(program["outputs"])))
    assert used and used <= set(component["properties"])
    # The same settings pass the spec, as the provider's construct would check them.
    settings_spec("search", {k: v for k, v in props.items() if k != "rootPassword"} | {"rootPassword": "x"})
