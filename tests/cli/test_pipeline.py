"""The README's PR-pipeline job, run as written against every stack plus an invalid one: the SARIF
validates against the SARIF 2.1.0 schema and locates every result, the markdown comment renders
(markdown-it) with one heading per stack."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = next((d / "shared" / "reference" / "sarif" / "sarif-schema-2.1.0.json" for d in (ROOT.parent, ROOT)
               if (d / "shared" / "reference" / "sarif" / "sarif-schema-2.1.0.json").exists()), None)


def readme_job() -> str:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```yaml\n(# \.github/workflows/policy\.yml.*?)```", text, re.S).group(1)
    steps = yaml.safe_load(block)["jobs"]["check"]["steps"]
    return next(s["run"] for s in steps if s.get("name") == "Policy check, every stack")


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    work = tmp_path_factory.mktemp("repo")
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, work / name)
    shutil.copytree(ROOT / "stacks", work / "stacks")
    # A PR that breaks one stack: an odd HA compute count.
    bad = (ROOT / "stacks" / "Pulumi.multi-zone-ha.yaml").read_text().replace(
        "milvus-zones:computeNodeCount: 4", "milvus-zones:computeNodeCount: 3")
    (work / "stacks" / "Pulumi.broken.yaml").write_text(bad)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    script = readme_job().replace("milvus-zones check", f"milvus-zones check --program {work}")
    done = subprocess.run(["bash", "-c", script], check=False, cwd=work, env=env, capture_output=True, text=True, timeout=600)
    return work, done


def test_job_exits_2_for_the_invalid_stack(pipeline):
    _, done = pipeline
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr


def test_sarif_validates_and_locates_every_result(pipeline):
    jsonschema = pytest.importorskip("jsonschema")
    if SCHEMA is None:
        pytest.skip("SARIF schema not beside the repository")
    work, _ = pipeline
    doc = json.loads((work / "policy.sarif").read_text())
    schema = json.loads(SCHEMA.read_text())
    errors = list(jsonschema.validators.validator_for(schema)(schema).iter_errors(doc))
    assert not errors, errors[0].message
    results = doc["runs"][0]["results"]
    broken = [r for r in results if r["properties"]["stack"] == "broken"]
    assert [r["ruleId"] for r in broken] == ["stack-config-invalid"]
    region = broken[0]["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"] == "stacks/Pulumi.broken.yaml"
    line = (work / "stacks" / "Pulumi.broken.yaml").read_text().splitlines()[region["region"]["startLine"] - 1]
    assert "computeNodeCount" in line
    assert set(doc["runs"][0]["properties"]["stacks"]) == {p.name[7:-5] for p in (work / "stacks").glob("*.yaml")}


def test_markdown_comment_renders_a_heading_per_stack(pipeline):
    from markdown_it import MarkdownIt

    work, _ = pipeline
    comment = (work / "policy-comment.md").read_text()
    assert comment.endswith("\n\n")
    tokens = MarkdownIt("commonmark").enable("table").parse(comment)
    h2 = [t for t in tokens if t.type == "heading_open" and t.tag == "h2"]
    h3 = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h3"]
    stacks = sorted(p.name[7:-5] for p in (work / "stacks").glob("*.yaml"))
    assert len(h2) == 1 and len(h3) == len(stacks)
    assert all(any(f"`{s}`" in h for h in h3) for s in stacks)
    assert any("broken" in h and "invalid configuration" in h for h in h3)
    # Two reports concatenated stay one document with every heading (each ends with a blank line).
    twice = MarkdownIt("commonmark").parse(comment + comment)
    assert sum(t.type == "heading_open" for t in twice) == 2 * (len(h3) + 1)
