"""`milvus-zones policy-config`: the pack config for `pulumi preview --policy-pack-config`, whose
externalResources are what the stack reads with `.get` (never sent to policies by the engine)."""

from __future__ import annotations

import json

import milvus_zones_policies as pack
import pytest
from pulumi_policy import StackValidationPolicy
from support.policytest import REPO, run_cached
from typer.testing import CliRunner

import milvus_zones.engine.offline
from milvus_zones.analysis.check import check_graph
from milvus_zones.cli import app
from milvus_zones.engine.stacks import resolve_stack

STACK_POLICIES = {p.name for p in pack.ALL_POLICIES if isinstance(p, StackValidationPolicy)}


@pytest.fixture(autouse=True)
def cached_programs(monkeypatch):
    monkeypatch.setattr(milvus_zones.engine.offline, "run_program", run_cached)


def _config(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["policy-config", *args, "--program", str(REPO)])
    return result.exit_code, result.output


def test_every_stack_policy_gets_the_stacks_reads(tmp_path):
    out = tmp_path / "pack.json"
    code, output = _config("existing-pools", "-o", str(out))
    assert code == 0, output
    data = json.loads(out.read_text())
    assert set(data) == STACK_POLICIES
    facts = {json.dumps(e["externalResources"], sort_keys=True) for e in data.values()}
    assert len(facts) == 1
    (one,) = (json.loads(f) for f in facts)
    assert one["vswitches"]["vsw-bp1poolsh000000001"]["zoneId"] == "cn-hangzhou-h"
    assert len(one["nodePools"]) == 4


def test_the_written_file_is_what_preview_needs(tmp_path):
    # Reads excluded, as the engine does: the written file alone makes the stack pass.
    out = tmp_path / "pack.json"
    assert _config("existing-cluster", "-o", str(out))[0] == 0
    g = milvus_zones.engine.offline.run_program(REPO, resolve_stack("existing-cluster", REPO))
    assert not check_graph(g, out).mandatory_violations
    assert check_graph(g).mandatory_violations


def test_a_users_config_is_merged_in_and_wins(tmp_path):
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps({"all": "mandatory", "compute-zone-count": "advisory"}))
    code, output = _config("existing-vpc", "--policy-config", str(mine))
    assert code == 0, output
    data = json.loads(output)
    assert data["all"] == "mandatory"
    assert data["compute-zone-count"]["enforcementLevel"] == "advisory"
    assert "vsw-bp1nodeh0000000001" in data["compute-zone-count"]["externalResources"]["vswitches"]


@pytest.mark.parametrize("args,message", [
    (["no-such-stack"], "unknown stack 'no-such-stack'"),
    (["existing-vpc", "--policy-config", "{bad}"], "externalResources.vswitches.vsw-1 needs zoneId"),
])
def test_bad_input_is_one_message_and_exit_2(tmp_path, args, message):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"compute-zone-count": {"externalResources": {"vswitches": {"vsw-1": {}}}}}))
    code, output = _config(*[str(bad) if a == "{bad}" else a for a in args])
    assert code == 2
    assert message in output and "Traceback" not in output


def test_check_adds_the_facts_itself():
    result = CliRunner().invoke(app, ["check", "existing-vpc", "existing-pools", "existing-cluster", "--program",
                                      str(REPO)])
    assert result.exit_code == 0, result.output


EMBED = REPO / "tests" / "programs" / "team-embed"


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_a_program_of_your_own_passes_with_external_facts_it_declares(tmp_path):
    facts = EMBED / "external-resources.existing-vpc.json"
    code, output = _invoke("check", "existing-vpc", "--program", str(EMBED))
    assert code == 1 and "externalResources" in output
    code, output = _invoke("check", "existing-vpc", "--program", str(EMBED), "--external", str(facts))
    assert code == 0, output
    out = tmp_path / "pack.json"
    code, output = _invoke("policy-config", "existing-vpc", "--program", str(EMBED), "--external", str(facts),
                           "-o", str(out))
    assert code == 0, output
    data = json.loads(out.read_text())
    assert set(data) == STACK_POLICIES
    assert all(e["externalResources"] == json.loads(facts.read_text()) for e in data.values())
    # The file it wrote is what `pulumi preview --policy-pack-config` takes: check reads it the same way.
    code, output = _invoke("check", "existing-vpc", "--program", str(EMBED), "--policy-config", str(out))
    assert code == 0, output


def test_a_program_of_your_own_without_facts_is_told_how(tmp_path):
    code, output = _invoke("policy-config", "existing-vpc", "--program", str(EMBED))
    assert code == 2 and "--external" in output


@pytest.mark.parametrize("content, fragment", [
    ("{not json", "not JSON"),
    ('{"switches": {}}', "has no key 'switches'"),
    ('{"vswitches": {"vsw-1": {}}}', "needs zoneId"),
])
def test_bad_external_facts_exit_2_naming_the_file(tmp_path, content, fragment):
    bad = tmp_path / "facts.json"
    bad.write_text(content)
    for command in ("check", "policy-config"):
        code, output = _invoke(command, "existing-vpc", "--program", str(EMBED), "--external", str(bad))
        assert code == 2, output
        assert f"--external {bad}" in output and fragment in output, output
