"""The component provider: Pulumi's schema inference on MilvusZones, offline, as other languages see it."""

import json
from pathlib import Path

import yaml
from milvus_zones.components.milvus_zones import MilvusZones, MilvusZonesArgs
from pulumi.provider.experimental.component import ComponentProvider

REPO = Path(__file__).resolve().parents[2]
TOKEN = "milvus-zones:index:MilvusZones"


def schema() -> dict:
    return json.loads(ComponentProvider([MilvusZones], "milvus-zones", version="0.2.0").schema)


def test_schema_lists_the_component_with_described_inputs_and_outputs():
    s = schema()
    component = s["resources"][TOKEN]
    assert component["isComponent"] is True
    inputs = component["inputProperties"]
    # Every arg, camelCase, each with its docstring as the description.
    assert set(inputs) == {_camel(k) for k in MilvusZonesArgs.__annotations__}
    assert all(p.get("description") for p in inputs.values()), [k for k, p in inputs.items() if not p.get("description")]
    assert sorted(component["requiredInputs"]) == ["mode", "region", "rootPassword", "zones"]
    # Settings decide the plan before anything exists: plain values, not Outputs; the password may be one.
    assert inputs["mode"].get("plain") is True and not inputs["rootPassword"].get("plain")
    outputs = component["properties"]
    for key in ("milvusEndpoint", "vpcId", "clusterId", "bucketName", "kubeconfig", "regions"):
        assert outputs[key].get("description"), key
    # Nested settings are types of their own, described field by field.
    vpc = s["types"]["milvus-zones:index:ExistingVpcArgs"]
    assert vpc["required"] == ["vpcId"] and vpc["properties"]["nodeVswitches"]["description"]
    assert {"name": "alicloud", "version": "4.0.0"} in s["dependencies"]


def test_the_plugin_serves_the_same_component():
    plugin = yaml.safe_load((REPO / "provider" / "PulumiPlugin.yaml").read_text())
    assert plugin["runtime"]["name"] == "python"
    main = (REPO / "provider" / "__main__.py").read_text()
    assert 'component_provider_host(name="milvus-zones", components=[MilvusZones]' in main


def test_component_files_keep_annotations_inferable():
    # `from __future__ import annotations` turns annotations into strings the analyzer cannot resolve.
    offenders = [p.name for p in (REPO / "components").glob("*.py") if "from __future__ import annotations" in p.read_text()]
    assert offenders == []


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p.capitalize() for p in rest)


def test_library_doc_reference_is_generated_from_the_code():
    import runpy

    ref = runpy.run_path(str(REPO / "scripts" / "library_reference.py"))
    doc = ref["DOC"].read_text()
    assert doc == ref["render"](doc), "docs/library.md is out of date: run python scripts/library_reference.py"
    assert "| `computeNodeCount` · `compute_node_count` | integer |" in doc
