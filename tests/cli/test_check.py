"""`milvus-zones check` on hand-written programs: exit codes and the violated policy, in every format."""

from __future__ import annotations

import json
from pathlib import Path

import milvus_zones_policies as pack
import pytest
from support.policytest import MANAGED, ON_ACK, REPO, SARIF_SCHEMA, graph, run_cached
from typer.testing import CliRunner

import milvus_zones.engine.offline
from milvus_zones.analysis.check import check_graph, render
from milvus_zones.cli import app

# The "done when": each program makes `check` exit 1 naming this policy.
DONE_WHEN = {
    "ha-odd-compute": "ha-compute-node-count-even",
    "ha-milvus-24": "ha-milvus-version-supported",
    "basic-lrs-bucket": "object-storage-zone-redundant",
    "basic-etcd-two-zones": "metadata-spans-three-zones",
}
FORMATS = ["text", "json", "markdown", "sarif"]


@pytest.fixture(autouse=True)
def cached_programs(monkeypatch):
    monkeypatch.setattr(milvus_zones.engine.offline, "run_program", run_cached)


def _check(*args: str):
    return CliRunner().invoke(app, ["check", *args])


def _sarif_validator():
    if SARIF_SCHEMA is None:
        pytest.skip("SARIF 2.1.0 schema not found next to the repository")
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SARIF_SCHEMA.read_text())
    return jsonschema.validators.validator_for(schema)(schema)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("stack, policy", DONE_WHEN.items())
def test_violating_program_exits_1_naming_the_policy(stack, policy, fmt):
    result = _check(stack, "--program", str(ON_ACK), "--format", fmt)
    assert result.exit_code == 1, result.output
    assert policy in result.output
    if fmt == "json":
        data = json.loads(result.output)
        assert not data["passed"]
        assert policy in {v["policy"] for v in data["violations"] if v["enforcementLevel"] == "mandatory"}
    elif fmt == "sarif":
        data = json.loads(result.output)
        errors = sorted(_sarif_validator().iter_errors(data), key=str)
        assert not errors, errors[0].message
        results = data["runs"][0]["results"]
        assert any(r["ruleId"] == policy and r["level"] == "error" for r in results)
        rules = data["runs"][0]["tool"]["driver"]["rules"]
        assert rules[next(r["ruleIndex"] for r in results if r["ruleId"] == policy)]["id"] == policy
        assert all(r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith("urn:pulumi:")
                   for r in results)
    elif fmt == "markdown":
        assert f"`{policy}`" in result.output and "| **mandatory** |" in result.output
    else:
        assert "FAILED" in result.output


@pytest.mark.parametrize("stack", ["ha-compliant", "basic-compliant", "single-compliant"])
def test_compliant_program_exits_0(stack):
    result = _check(stack, "--program", str(ON_ACK))
    assert result.exit_code == 0, result.output
    assert "PASSED: 0 mandatory, 0 advisory" in result.output


def test_advisory_only_exits_0():
    result = _check("ha-undeclared", "--program", str(ON_ACK), "--format", "json")
    assert result.exit_code == 0
    assert [v["policy"] for v in json.loads(result.output)["violations"]] == ["mode-declared"]


def test_managed_instance_on_2_4_exits_1():
    result = _check("ha-milvus-24", "--program", str(MANAGED))
    assert result.exit_code == 1 and "ha-milvus-version-supported" in result.output


def test_stack_given_as_a_path(tmp_path):
    result = _check(str(ON_ACK / "Pulumi.ha-milvus-24.yaml"), "--program", str(ON_ACK), "-f", "json")
    assert result.exit_code == 1 and "ha-milvus-version-supported" in result.output


def test_bad_policy_config_exits_2(tmp_path):
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"ha-compute-node-count": "mandatory"}))
    result = _check("ha-compliant", "--program", str(ON_ACK), "--policy-config", str(config))
    assert result.exit_code == 2
    assert "unknown policy 'ha-compute-node-count'" in result.output
    assert "Traceback" not in result.output


def test_policy_config_lowers_a_level_to_advisory(tmp_path):
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"metadata-spans-three-zones": "advisory"}))
    result = _check("basic-etcd-two-zones", "--program", str(ON_ACK), "--policy-config", str(config))
    assert result.exit_code == 0 and "metadata-spans-three-zones" in result.output


def test_sarif_locates_the_program_line_that_creates_the_resource_and_the_stack_file():
    from milvus_zones.engine.offline import read_stack_config

    source = ON_ACK / "Pulumi.basic-lrs-bucket.yaml"
    stack_file = read_stack_config(source).file
    data = json.loads(render(check_graph(graph("basic-lrs-bucket"), source=source, stack_file=stack_file,
                                         program_dir=ON_ACK), "sarif"))
    assert not list(_sarif_validator().iter_errors(data))
    result = next(r for r in data["runs"][0]["results"] if r["ruleId"] == "object-storage-zone-redundant")
    loc = result["locations"][0]["physicalLocation"]
    uri = loc["artifactLocation"]["uri"]
    path = Path(uri.removeprefix("file://")) if uri.startswith("file://") else Path.cwd() / uri
    program_line = path.read_text().splitlines()[loc["region"]["startLine"] - 1]
    assert path.resolve().is_relative_to(ON_ACK.resolve())
    assert "Bucket(" in program_line  # the line that registers the offending bucket
    related = result["relatedLocations"][0]["physicalLocation"]
    assert related["artifactLocation"]["uri"].endswith("tests/programs/milvus-on-ack/Pulumi.basic-lrs-bucket.yaml")
    assert related["region"]["startLine"] >= 1


def test_sarif_of_a_clean_run_is_valid_and_lists_every_rule():
    data = json.loads(render(check_graph(graph("ha-compliant")), "sarif"))
    assert not list(_sarif_validator().iter_errors(data))
    run = data["runs"][0]
    assert run["results"] == [] and len(run["tool"]["driver"]["rules"]) == len(pack.ALL_POLICIES)
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in run["tool"]["driver"]["rules"]}
    assert levels["mode-declared"] == "warning" and levels["ha-milvus-version-supported"] == "error"


def test_markdown_escapes_what_would_break_a_pr_comment():
    text = render(check_graph(graph("ha-undeclared")), "markdown")
    assert "milvus-zones/mode=&lt;mode&gt;" in text and "<mode>" not in text


# -- the library's own stacks (issue 3: `check` exits 0 on every stack in stacks/) -----------------------

STACKS = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in (REPO / "stacks").glob("Pulumi.*.yaml"))


@pytest.mark.skipif(not STACKS, reason="no stacks in stacks/ yet")
@pytest.mark.parametrize("stack", STACKS)
def test_every_library_stack_passes(stack):
    result = _check(stack, "--format", "json")
    data = json.loads(result.output)
    assert result.exit_code == 0, [(v["policy"], v["message"]) for v in data["violations"]]
    assert data["violations"] == []
