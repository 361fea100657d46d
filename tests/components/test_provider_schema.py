"""The component provider: Pulumi's schema inference on MilvusZones, offline, as other languages see it.

The schema is inferred in a Python process of its own, as the provider host infers it (`pulumi package
get-schema` starts the provider): Pulumi's analyzer reads each field's docstring with `inspect.getsource`
and silently drops what it cannot read, and inside this test process a lookup has been seen to come back
empty once in a while (the first field of a class, after other tests ran Pulumi programs here)."""

import functools
import json
import subprocess
import sys
from pathlib import Path

import yaml
from milvus_zones.components.milvus_zones import MilvusZonesArgs

REPO = Path(__file__).resolve().parents[2]
TOKEN = "milvus-zones:index:MilvusZones"
_INFER = ("import sys; from milvus_zones.components.milvus_zones import MilvusZones; "
          "from pulumi.provider.experimental.component import ComponentProvider; "
          "sys.stdout.write(ComponentProvider([MilvusZones], 'milvus-zones', version='0.4.0').schema)")


@functools.cache
def _schema_text() -> str:
    run = subprocess.run([sys.executable, "-c", _INFER], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert run.returncode == 0, run.stderr
    return run.stdout


def schema() -> dict:
    return json.loads(_schema_text())


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
    # The script infers the schema too: in a process of its own, like the provider host (module docstring).
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "library_reference.py"), "--check"],
                         capture_output=True, text=True, cwd=REPO, timeout=300)
    assert run.returncode == 0, "docs/library.md is out of date: run python scripts/library_reference.py\n" + \
        run.stdout + run.stderr
    doc = (REPO / "docs" / "library.md").read_text()
    assert "| `computeNodeCount` · `compute_node_count` | integer |" in doc
