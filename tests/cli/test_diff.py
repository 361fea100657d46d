"""`milvus-zones diff`: the engine on recorded graphs, and the command as a user runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from support.graphs import PROJECT_DIR, STACKS, graph_of
from typer.testing import CliRunner

from milvus_zones.analysis.diff import diff_graphs, diff_stack, replace_rules
from milvus_zones.analysis.diff_reports import render
from milvus_zones.cli import app
from milvus_zones.engine.offline import run_program
from milvus_zones.engine.stacks import resolve_stack

runner = CliRunner()
HA = PROJECT_DIR / "stacks" / "Pulumi.multi-zone-ha.yaml"


def variant(folder: Path, **changes) -> Path:
    """multi-zone-ha with some milvus-zones keys changed, under the same file name (the same URNs)."""
    data = yaml.safe_load(HA.read_text())
    data["config"].update({f"milvus-zones:{k}": v for k, v in changes.items()})
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / HA.name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def graph(path: Path):
    return run_program(PROJECT_DIR, resolve_stack(str(path), PROJECT_DIR))


@pytest.fixture(scope="module")
def on_25(tmp_path_factory) -> Path:
    return variant(tmp_path_factory.mktemp("b25"), milvusVersion="2.5")


@pytest.fixture(scope="module")
def upgrade(on_25):
    entries, unknown = diff_graphs(graph(on_25), graph_of("multi-zone-ha"))
    return {e.urn.rsplit("::", 1)[1]: e for e in entries}, unknown


def test_no_change_shows_nothing():
    entries, _ = diff_graphs(graph_of("multi-zone-ha"), graph_of("multi-zone-ha"))
    assert entries == []


def test_25_to_26_changes_the_release_and_deletes_the_second_zones_release(upgrade):
    by_name, _ = upgrade
    release = by_name["milvus-milvus-milvus"]
    assert release.action == "update" and release.stateful and release.protected
    changed = {c.path: (c.old, c.new) for c in release.changes}
    assert changed["version"] == ("4.2.58", "5.0.19")
    assert changed["values.pulsarv3.enabled"] == (True, False)          # the message service swap
    assert changed["values.woodpecker"] == (None, {"enabled": True})
    assert by_name["milvus-milvus-milvus-i"].action == "delete"
    assert by_name["milvus-milvus-milvus-i"].data_loss


def test_25_to_26_is_refused_and_asks_for_a_backup_with_the_plans_names(on_25):
    result = runner.invoke(app, ["diff", "multi-zone-ha", "--base", str(on_25)])
    assert result.exit_code == 3, result.output
    out = result.stdout
    assert "milvus-zones:messageService: the running cluster's WAL is in pulsar" in out
    assert "milvus-zones:milvusVersion: multi-zone-ha on 2.5 runs one Milvus release per compute zone" in out
    assert "DATA LOSS: 1 stateful or protected resource(s)" in out
    assert "Milvus upgrade 2.5 -> 2.6, image v2.5.16 -> v2.6.22" in out
    assert "kubectl -n milvus create job --from=cronjob/milvus-zones-backup pre-upgrade-$STAMP" in out
    cron = next(r for r in graph_of("multi-zone-ha").of_type("kubernetes:batch/v1:CronJob"))
    assert cron.inputs["metadata"]["name"] == "milvus-zones-backup"  # the name the command uses is the plan's


def test_a_zone_change_deletes_that_zones_vswitches_and_pool(tmp_path):
    moved = variant(tmp_path, zones=["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-k"])
    entries, _ = diff_graphs(graph_of("multi-zone-ha"), graph(moved))
    by = {(e.action, e.urn.rsplit("::", 1)[1]) for e in entries}
    for name in ("milvus-net-node-j", "milvus-net-pod-j", "milvus-k8s-quorum-j"):
        assert ("delete", name) in by
    for name in ("milvus-net-node-k", "milvus-net-pod-k", "milvus-k8s-quorum-k"):
        assert ("create", name) in by
    pool = next(e for e in entries if e.urn.endswith("::milvus-k8s-quorum-j"))
    assert pool.data_loss


def test_a_cidr_change_replaces_the_vswitches_in_place(tmp_path):
    moved = variant(tmp_path, network={"vpcCidr": "10.31.0.0/16", "serviceCidr": "172.16.0.0/20"})
    entries, _ = diff_graphs(graph_of("multi-zone-ha"), graph(moved))
    switches = [e for e in entries if e.type == "alicloud:vpc/switch:Switch"]
    assert switches and all(e.action == "replace" and "cidrBlock" in e.reasons for e in switches)
    vpc = next(e for e in entries if e.type == "alicloud:vpc/network:Network")
    assert vpc.action == "update"  # a VPC's CIDR is updatable in place (no ForceNew)


def test_a_secret_change_is_masked(on_25):
    before, after = graph_of("multi-zone-ha"), graph_of("multi-zone-ha")
    result = diff_stack(before, after, "same")
    assert result.entries == [] and result.backup == []
    text = render([diff_stack(graph(on_25), after, "b")], "json")
    assert "offline-plan-placeholder-secret" not in text


@pytest.mark.parametrize("stack", STACKS)
def test_every_type_the_stacks_emit_has_replace_data(stack):
    known = replace_rules()["types"]
    missing = {r.type for r in graph_of(stack).resources if r.custom and not r.type.startswith("pulumi:providers:")
               } - set(known)
    assert not missing


def test_formats(on_25):
    md = runner.invoke(app, ["diff", "multi-zone-ha", "--base", str(on_25), "-f", "markdown"])
    assert md.exit_code == 3
    assert md.stdout.startswith("### `multi-zone-ha`: diff against")
    assert "| **delete** [stateful, protected] | `milvus-milvus-milvus-i` |" in md.stdout
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(md.stdout)
    fences = [t.content for t in tokens if t.type == "fence"]
    assert fences and "kubectl -n milvus create job --from=cronjob/milvus-zones-backup pre-upgrade-$STAMP" in fences[0]
    assert sum(t.type == "table_open" for t in tokens) == 1
    assert md.stdout.endswith("\n\n")  # concatenable, like check's sections
    js = runner.invoke(app, ["diff", "multi-zone-ha", "--base", str(on_25), "-f", "json"])
    doc = json.loads(js.stdout)
    assert doc["exitCode"] == 3 and doc["summary"]["delete"] >= 1
    assert doc["backupFirst"]["commands"][1].startswith("kubectl -n milvus create job --from=cronjob/milvus-zones-backup")
    assert {r["key"] for r in doc["upgradeRefusals"]} == {"milvus-zones:messageService", "milvus-zones:milvusVersion"}
    assert doc["replaceDataSources"]["terraform-provider-alicloud"].startswith("v1.")


def test_refused_without_data_loss_exits_1(tmp_path):
    smaller = variant(tmp_path / "new", etcdVolumeSizeGi=10)
    result = runner.invoke(app, ["diff", str(smaller), "--base", str(HA)])
    assert result.exit_code == 1, result.output
    assert "etcdVolumeSizeGi: 20 -> 10 GiB: Kubernetes cannot shrink" in result.stdout


def test_bad_base_and_output_exit_2_before_any_work(tmp_path):
    result = runner.invoke(app, ["diff", "multi-zone-ha", "--base", "no-such-ref-or-file"])
    assert result.exit_code == 2 and "neither a file nor a git revision" in result.output
    result = runner.invoke(app, ["diff", "multi-zone-ha", "-o", str(tmp_path / "missing" / "d.txt")])
    assert result.exit_code == 2 and "does not exist" in result.output
    broken = tmp_path / "b" / HA.name
    broken.parent.mkdir()
    broken.write_text(HA.read_text().replace("computeNodeCount: 4", "computeNodeCount: 3"))
    result = runner.invoke(app, ["diff", "multi-zone-ha", "--base", str(broken)])
    assert result.exit_code == 2 and "--base" in result.output and "Traceback" not in result.output


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A git repository holding the project, main at 2.5, a branch that moves to 2.6."""
    work = tmp_path_factory.mktemp("repo")
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, work / name)
    shutil.copytree(PROJECT_DIR / "stacks", work / "stacks")
    stack = work / "stacks" / HA.name
    stack.write_text(HA.read_text().replace('milvus-zones:milvusVersion: "2.6"', 'milvus-zones:milvusVersion: "2.5"'))
    run = {"cwd": work, "check": True, "capture_output": True}
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", "-b", "main"], **run)
    subprocess.run(["git", "add", "-A"], **run)
    subprocess.run([*git, "commit", "-qm", "deployed: 2.5"], **run)
    subprocess.run(["git", "checkout", "-q", "-b", "upgrade"], **run)
    stack.write_text(HA.read_text())
    subprocess.run([*git, "commit", "-qam", "2.6"], **run)
    return work


def test_default_base_is_the_merge_base_with_main(repo):
    result = runner.invoke(app, ["diff", "multi-zone-ha", "--program", str(repo)])
    assert result.exit_code == 3, result.output
    assert "stacks/Pulumi.multi-zone-ha.yaml at main@" in result.stdout and "(merge base with HEAD)" in result.stdout
    same = runner.invoke(app, ["diff", "single-zone", "--program", str(repo), "--base", "HEAD~1"])
    assert same.exit_code == 0 and "no changes" in same.stdout


def test_several_stacks_against_a_git_ref(repo):
    result = runner.invoke(app, ["diff", "single-zone", "multi-zone-ha", "--program", str(repo), "--base", "main",
                                 "-f", "json"])
    assert result.exit_code == 3
    doc = json.loads(result.stdout)
    assert set(doc["stacks"]) == {"single-zone", "multi-zone-ha"} and doc["exitCode"] == 3
    assert doc["stacks"]["single-zone"]["steps"] == []


def test_a_stack_new_at_the_base_is_all_create(repo, tmp_path):
    new = repo / "stacks" / "Pulumi.brand-new.yaml"
    new.write_text((PROJECT_DIR / "stacks" / "Pulumi.single-zone.yaml").read_text())
    try:
        result = runner.invoke(app, ["diff", "brand-new", "--program", str(repo), "-f", "json"])
    finally:
        new.unlink()
    doc = json.loads(result.stdout)
    assert result.exit_code == 0
    assert doc["summary"]["create"] > 0 and doc["summary"]["delete"] == 0
    assert any("the stack is new" in n for n in doc["notes"])


def test_switchover_refuses_what_diff_calls_data_loss(on_25, tmp_path):
    from milvus_zones.operations.switchover import check_no_replacement

    assert check_no_replacement(graph_of("multi-zone-ha"), graph_of("multi-zone-ha")) == []
    found = check_no_replacement(graph(on_25), graph_of("multi-zone-ha"))
    assert any(f.endswith("::milvus-milvus-milvus-i would be deleted") for f in found)
    moved = variant(tmp_path, network={"vpcCidr": "10.31.0.0/16", "serviceCidr": "172.16.0.0/20"})
    # vSwitches are not stateful: a CIDR change replaces them, the protected cluster only updates.
    assert check_no_replacement(graph_of("multi-zone-ha"), graph(moved)) == []


def test_an_in_place_upgrade_is_safe_but_asks_for_a_backup_first(tmp_path):
    single = PROJECT_DIR / "stacks" / "Pulumi.single-zone.yaml"
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old = tmp_path / "old" / single.name
    old.write_text(single.read_text().replace('milvusVersion: "2.6"', 'milvusVersion: "2.5"'))
    new = tmp_path / "new" / single.name
    new.write_text(single.read_text().replace('milvusVersion: "2.6"', 'milvusVersion: "2.6"\n  milvus-zones:messageService: pulsar'))
    result = runner.invoke(app, ["diff", str(new), "--base", str(old), "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    release = next(s for s in doc["steps"] if s["type"] == "kubernetes:helm.sh/v3:Release")
    assert release["op"] == "update" and not doc["dataLoss"] and not doc["upgradeRefusals"]
    assert doc["backupFirst"]["reason"] == "Milvus upgrade 2.5 -> 2.6, image v2.5.16 -> v2.6.22"


def test_deployed_tag_prints_the_stack_tag_command():
    result = runner.invoke(app, ["deployed-tag", "multi-zone-ha"])
    assert result.exit_code == 0
    assert result.stdout.strip() == (
        "pulumi stack tag set milvus-zones:deployed milvus=2.6,wal=woodpecker,bucket=acme-milvus-multi-zone-ha,"
        "root=milvus,etcdGi=20,quorumPerZone=1,mode=multi-zone-ha,backend=self-hosted -s multi-zone-ha")


def test_an_encrypted_value_set_since_the_base_is_noted(tmp_path):
    new = tmp_path / HA.name
    new.write_text(HA.read_text().replace('  milvus-zones:milvusVersion: "2.6"',
                                          '  milvus-zones:milvusVersion: "2.6"\n  milvus-zones:rootPassword:\n'
                                          '    secure: v1:AAAA:BBBB'))
    result = runner.invoke(app, ["diff", str(new), "--base", str(HA)])
    assert result.exit_code == 0, result.output
    assert "note: secret milvus-zones:rootPassword was set since the base" in result.stdout
    assert "v1:AAAA" not in result.stdout
