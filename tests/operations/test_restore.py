"""`milvus-zones restore`: the offline checks on good and bad requests, the command, the Job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml
from typer.testing import CliRunner

from milvus_zones.cli import app
from milvus_zones.engine.stacks import resolve_stack
from milvus_zones.operations import restore as rs
from milvus_zones.planning.stackconfig import spec_from_config

NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
GOOD = "milvus_202703100230"
runner = CliRunner()


def spec(stack: str = "multi-zone-ha"):
    return spec_from_config(resolve_stack(stack).values)


def refused(req: rs.RestoreRequest, stack: str = "multi-zone-ha") -> list[tuple[str, str]]:
    with pytest.raises(rs.RestoreError) as e:
        rs.check(spec(stack), req, NOW)
    return e.value.problems


def test_a_suffixed_restore_of_named_collections_maps_each_to_a_new_name():
    rp = rs.check(spec(), rs.RestoreRequest(GOOD, ("products", "shop.orders"), "_r"), NOW)
    assert rp.mapping == (("default.products", "default.products_r"), ("shop.orders", "shop.orders_r"))
    assert rp.location == f"oss://acme-milvus-multi-zone-ha/backup/milvus/{GOOD}/"
    assert rp.command == ["/app/milvus-backup", "restore", "--config", "/etc/milvus-backup/backup.yaml",
                          "-n", GOOD, "--filter", "default.products,shop.orders", "-s", "_r"]


def test_a_dropped_collection_restores_under_its_own_name_when_named():
    rp = rs.check(spec(), rs.RestoreRequest(GOOD, ("products",), existing=("orders",)), NOW)
    assert rp.mapping == (("default.products", "default.products"),) and rp.suffix is None


def test_the_whole_backup_with_a_suffix():
    rp = rs.check(spec(), rs.RestoreRequest(GOOD, (), "_drill"), NOW)
    assert rp.filters == () and rp.command[-2:] == ["-s", "_drill"]


@pytest.mark.parametrize(("name", "says"), [
    ("milvus-2027", "not a milvus-backup name"),
    ("1milvus", "not a milvus-backup name"),
    ("other_202703100230", "not a backup of this stack"),
    ("milvus_20270310", "not a backup of this stack"),
    ("milvus_202713100230", "not a date and time"),
    ("milvus_202703110230", "in the future"),
    ("milvus_202702010230", "days old: the cleanup deletes this stack's backups after 7 days"),
])
def test_a_backup_name_outside_the_stacks_naming_or_retention_is_refused(name, says):
    ((option, message),) = refused(rs.RestoreRequest(name, (), "_r"))
    assert option == "--backup" and says in message


def test_a_collection_named_twice_clashes():
    ((option, message),) = refused(rs.RestoreRequest(GOOD, ("products", "default.products"), "_r"))
    assert option == "--collections" and "twice" in message
    ((option, message),) = refused(rs.RestoreRequest(GOOD, ("shop.*", "shop.orders"), "_r"))
    assert "twice" in message


def test_without_a_suffix_the_request_must_name_the_collections():
    ((option, message),) = refused(rs.RestoreRequest(GOOD))
    assert option == "--rename-suffix" and "name the collections" in message
    ((option, _),) = refused(rs.RestoreRequest(GOOD, ("shop.*",)))
    assert option == "--rename-suffix"


def test_restoring_onto_an_existing_collection_clashes():
    ((option, message),) = refused(rs.RestoreRequest(GOOD, ("products",), existing=("default.products",)))
    assert option == "--collections" and "exists in the target" in message
    ((option, _),) = refused(rs.RestoreRequest(GOOD, ("products",), "_r", existing=("products_r",)))
    assert option == "--rename-suffix"


def test_every_problem_is_reported_at_once():
    found = refused(rs.RestoreRequest("bad-name", ("a.b.c",), "-x"))
    assert [o for o, _ in found] == ["--backup", "--rename-suffix", "--collections"]


def test_capacity_is_one_query_replicas_memory():
    # multi-zone-ha: 2 query nodes per zone of ecs.g7.2xlarge (8 vCPU x 4 GiB), loads stop at 90 %.
    ok = rs.check(spec(), rs.RestoreRequest(GOOD, ("products",), "_r", data_size_gib=57), NOW)
    assert "57.6 GiB loadable" in ok.notes[0]
    ((option, message),) = refused(rs.RestoreRequest(GOOD, ("products",), "_r", data_size_gib=58))
    assert option == "--data-size" and "2 query node(s) x 32 GiB" in message


def test_the_managed_backend_and_a_stack_without_backups_are_refused(tmp_path):
    ((option, message),) = refused(rs.RestoreRequest(GOOD, (), "_r"), stack="managed-single-zone")
    assert option == "STACK" and "managed" in message


def test_cross_region_restores_into_the_primary():
    name = "milvus_cn_hangzhou_202703100230"
    rp = rs.check(spec("cross-region-ha"), rs.RestoreRequest(name, (), "_r"), NOW)
    assert rp.target.region == "cn-hangzhou" and rp.target.region_role == "primary"


def test_the_job_runs_the_stacks_backup_pod_once_with_a_deadline():
    kv = pytest.importorskip("kubernetes_validate")
    rp = rs.check(spec(), rs.RestoreRequest(GOOD, ("products",), "_r"), NOW)
    job = rs.restore_job(rp)
    kv.validate(job, "1.33.0", strict=True)
    pod = job["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "milvus-backup"
    assert pod["containers"][0]["command"] == rp.command
    assert job["spec"]["backoffLimit"] == 0 and job["spec"]["activeDeadlineSeconds"] > 0
    assert job["metadata"]["namespace"] == "milvus"
    other = rs.restore_job(rs.check(spec(), rs.RestoreRequest(GOOD, ("products",), "_s"), NOW))
    assert other["metadata"]["name"] != job["metadata"]["name"]  # two restores are two Jobs


def _recent() -> str:
    return f"milvus_{(datetime.now(UTC) - timedelta(days=1)):%Y%m%d}0230"


def test_cli_prints_the_command_for_a_good_request():
    r = runner.invoke(app, ["restore", "multi-zone-ha", "--backup", _recent(), "--collections", "products",
                            "--rename-suffix", "_r"])
    assert r.exit_code == 0, r.output
    assert "/app/milvus-backup restore" in r.output and "default.products -> default.products_r" in r.output


def test_cli_apply_prints_a_job_manifest():
    r = runner.invoke(app, ["restore", "single-zone", "--backup", _recent(), "--rename-suffix", "_r", "--apply"])
    assert r.exit_code == 0, r.output
    job = yaml.safe_load(r.output)
    assert job["kind"] == "Job" and job["spec"]["template"]["spec"]["containers"][0]["command"][1] == "restore"


def test_cli_bad_request_exits_2_with_one_message_per_problem():
    r = runner.invoke(app, ["restore", "multi-zone-ha", "--backup", "other_202703100230",
                            "--collections", "a,default.a"])
    assert r.exit_code == 2
    assert "--backup: 'other_202703100230' is not a backup of this stack" in r.output
    assert "restore default.a twice" in r.output
    assert "Traceback" not in r.output


def test_cli_unknown_stack_exits_2():
    r = runner.invoke(app, ["restore", "no-such-stack", "--backup", GOOD])
    assert r.exit_code == 2 and "unknown stack" in r.output
