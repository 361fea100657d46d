"""Every self-hosted stack plans its backups: the schedule and retention from its config, the backup
prefix of its own bucket, and a RAM role that only milvus-backup's service account may assume and
that writes nothing but that prefix."""

from __future__ import annotations

import json

import pytest
import yaml
from support.graphs import PROJECT_DIR, graph_of

from milvus_zones.engine.offline import Graph, run_program
from milvus_zones.engine.stacks import resolve_stack

SELF_HOSTED = ["single-zone", "multi-zone-basic", "multi-zone-ha"]
CRON = "kubernetes:batch/v1:CronJob"
ROLE = "alicloud:ram/role:Role"
POLICY = "alicloud:ram/policy:Policy"


def backup_parts(g: Graph, deployment: str = "milvus") -> dict:
    def one(type_: str, suffix: str):
        (r,) = [r for r in g.of_type(type_) if r.urn.endswith(f"::{deployment}-backup-{suffix}")]
        return r
    return {"cron": one(CRON, "cron"), "role": one(ROLE, "role"), "policy": one(POLICY, "policy"),
            "sa": one("kubernetes:core/v1:ServiceAccount", "sa"), "config": one("kubernetes:core/v1:ConfigMap", "config")}


def container(cron) -> dict:
    (c,) = cron.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return c


def env(cron) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container(cron)["env"]}


@pytest.mark.parametrize("stack", SELF_HOSTED)
def test_every_self_hosted_stack_backs_up_daily_into_its_prefix(stack):
    g = graph_of(stack)
    parts = backup_parts(g)
    spec = parts["cron"].inputs["spec"]
    assert (spec["schedule"], spec["timeZone"], spec["suspend"]) == ("30 2 * * *", "Etc/UTC", False)
    assert spec["concurrencyPolicy"] == "Forbid"
    assert env(parts["cron"])["RETENTION_DAYS"] == "7"
    assert env(parts["cron"])["BACKUP_NAME_PREFIX"] == "milvus"
    assert container(parts["cron"])["image"] == "milvusdb/milvus-backup:v0.5.16"

    bucket = g.outputs["bucket"]
    config = yaml.safe_load(parts["config"].inputs["data"]["backup.yaml"])
    assert config["minio"]["backupBucketName"] == config["minio"]["bucketName"] == bucket
    assert config["minio"]["backupRootPath"] == "backup/milvus"
    assert config["minio"]["rootPath"] == "milvus"  # the stack's bucketRootPath: what Milvus writes
    assert (config["minio"]["storageType"], config["minio"]["useIAM"]) == ("aliyun", True)
    assert "password" not in config["milvus"]  # MILVUS_PASSWORD comes from the Secret, as env
    assert config["backup"]["gcPause"] == {"enable": True, "address": "http://milvus.milvus.svc:9091"}


@pytest.mark.parametrize("stack", SELF_HOSTED)
def test_the_backup_role_is_assumed_by_milvus_backup_only_and_writes_only_the_backup_prefix(stack):
    g = graph_of(stack)
    parts = backup_parts(g)
    bucket = g.outputs["bucket"]
    trust = json.loads(parts["role"].inputs["assumeRolePolicyDocument"])
    (statement,) = trust["Statement"]
    assert statement["Condition"]["StringEquals"]["oidc:sub"] == "system:serviceaccount:milvus:milvus-backup"
    assert parts["sa"].inputs["metadata"]["annotations"]["pod-identity.alibabacloud.com/role-name"] == \
        parts["role"].inputs["roleName"]
    assert container(parts["cron"]) and \
        parts["cron"].inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["serviceAccountName"] == "milvus-backup"

    doc = json.loads(parts["policy"].inputs["policyDocument"])
    writes = [s for s in doc["Statement"] if "oss:PutObject" in s["Action"]]
    assert [s["Resource"] for s in writes] == [[f"acs:oss:*:*:{bucket}/backup/milvus/*"]]
    assert "oss:DeleteObject" in writes[0]["Action"]  # the retention cleanup deletes old backups
    reads = [s for s in doc["Statement"] if s["Action"] == ["oss:GetObject", "oss:GetObjectMeta"]]
    assert [s["Resource"] for s in reads] == [[f"acs:oss:*:*:{bucket}/milvus/*"]]


@pytest.mark.parametrize("stack", SELF_HOSTED)
def test_milvus_may_read_the_backups_but_not_write_them(stack):
    g = graph_of(stack)
    bucket = g.outputs["bucket"]
    (policy,) = [p for p in g.of_type(POLICY) if p.urn.endswith("::milvus-oss-policy")]
    doc = json.loads(policy.inputs["policyDocument"])
    writable = {r for s in doc["Statement"] if "oss:PutObject" in s["Action"] for r in s["Resource"]}
    readable = {r for s in doc["Statement"] if "oss:GetObject" in s["Action"] for r in s["Resource"]}
    assert writable == {f"acs:oss:*:*:{bucket}/milvus/*"}
    assert f"acs:oss:*:*:{bucket}/backup/milvus/*" in readable


@pytest.mark.parametrize("stack", SELF_HOSTED)
def test_the_backup_pod_is_non_root_bounded_and_keyless(stack):
    cron = backup_parts(graph_of(stack))["cron"]
    pod = cron.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    c = container(cron)
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert c["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}}
    assert set(c["resources"]) == {"requests", "limits"} and c["resources"]["limits"]["memory"]
    assert cron.inputs["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] > 0
    (password,) = [e for e in c["env"] if e["name"] == "MILVUS_PASSWORD"]
    assert password["valueFrom"]["secretKeyRef"]["key"] == "password"
    assert not any("ACCESS_KEY" in e["name"] or "SECRET_KEY" in e["name"] for e in c["env"])


def _with(tmp_path, stack: str, **config) -> Graph:
    data = yaml.safe_load((PROJECT_DIR / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    data["config"].update({f"milvus-zones:{k}": v for k, v in config.items()})
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(data))
    return run_program(PROJECT_DIR, resolve_stack(str(path)))


def test_schedule_and_retention_come_from_the_stack_config(tmp_path):
    g = _with(tmp_path, "single-zone", backup={"schedule": "15 */6 * * *", "retentionDays": 3})
    parts = backup_parts(g)
    assert parts["cron"].inputs["spec"]["schedule"] == "15 */6 * * *"
    assert env(parts["cron"])["RETENTION_DAYS"] == "3"


def test_backups_can_be_turned_off(tmp_path):
    g = _with(tmp_path, "single-zone", backup={"enabled": False})
    assert not g.of_type(CRON)
    assert not [r for r in g.of_type(ROLE) if "backup" in r.urn]


@pytest.mark.parametrize("stack", ["managed-single-zone", "managed-multi-zone-ha"])
def test_the_managed_backend_turns_on_its_automatic_backup(stack):
    (instance,) = graph_of(stack).of_type("alicloud:index/milvusInstance:MilvusInstance")
    assert instance.inputs["autoBackup"] is True


def test_the_managed_backend_follows_backup_enabled(tmp_path):
    g = _with(tmp_path, "managed-single-zone", backup={"enabled": False})
    (instance,) = g.of_type("alicloud:index/milvusInstance:MilvusInstance")
    assert instance.inputs["autoBackup"] is False


def test_failures_and_compare_show_the_backup_rpo_beside_the_zone_loss_figures(tmp_path):
    from milvus_zones.analysis import compare, failures

    g = _with(tmp_path, "multi-zone-ha", backup={"schedule": "0 */4 * * *", "retentionDays": 2})
    assert g.outputs["backup"]["rpoSeconds"] == 4 * 3600
    report = failures.report(g, with_contributions=False)
    text = failures.render(report, "text")
    assert "restore from the last backup" in text and "RPO 4 h + run time, kept 2 d (0 */4 * * * UTC)" in text
    assert failures.BACKUP_NOTE + "4 h + run time, kept 2 d (0 */4 * * * UTC)" in json.loads(
        failures.render(report, "json"))["notes"]
    (row,) = compare.compare([g])
    assert row.backup_rpo == "4 h + run time, kept 2 d (0 */4 * * * UTC)"
    assert row.rpo == "0 s"  # the zone-loss RPO is another figure, next to it
