"""milvus-backup's configuration, the backup CronJob and the restore Job, from the plan. Pure: no Pulumi.

Keys and behaviour checked in zilliztech/milvus-backup at v0.5.16 (the newest tag; Milvus 2.6 is
supported from v0.5.9 and stable from v0.5.12):
- internal/cfg/cfg.go: the keys read (`milvus.*`, `minio.*` with the `minio.backup*` keys falling
  back to the `minio.*` ones, `backup.gcPause.{enable,address}`), and MILVUS_PASSWORD read from the
  environment ahead of the file (value.go Resolve: override > env > file > default);
- internal/storage/aliyun.go: `storageType: aliyun` builds a virtual-host-style client, and
  `useIAM` takes credentials from Alibaba's default chain (credentials-go v1.4.10,
  `NewCredential(nil)`), which reads RRSA's injected OIDC token: no keys; `sts_vpc_env` sends its
  token exchange to STS's VPC endpoint;
- core/backup/gc_controller.go: a failed GC pause is only logged, so the address must be right:
  it calls GET /management/datacoord/garbage_collection/pause (internal/client/milvus/manage.go),
  a route the Milvus *proxy* registers on its 9091 server (milvus internal/proxy/management.go
  RegisterMgrRoute, at v2.6.15, v2.6.16 and v2.5.16), so it goes to the chart's proxy Service
  (`<fullname>`, port 9091 `metrics`, rendered while `metrics.enabled`, the chart default), not to
  mixCoord: mixCoord registers /management/data_gc instead, and its Service spans the standby too;
- Dockerfile: the binary is /app/milvus-backup in an Alpine image (busybox sh) that runs as root
  unless told otherwise; its default log file is relative to /app, so logs go to /tmp here.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from typing import Any

from milvus_zones.planning.catalog import BACKUP_IMAGE, oss_endpoint, with_registry
from milvus_zones.planning.plan import BackupPlan, TopologyPlan
from milvus_zones.planning.sizing import JOB, JOB_CPU_LIMIT_M
from milvus_zones.rendering.helm_values import RRSA_ROLE_ANNOTATION

BINARY = "/app/milvus-backup"
NAME = "milvus-zones-backup"  # CronJob, ConfigMap and the Jobs' label value
SERVICE_ACCOUNT = "milvus-backup"
CONFIG_DIR = "/etc/milvus-backup"
SCRIPT_DIR = "/opt/milvus-zones"
APP_LABEL = "app.kubernetes.io/name"
RESTORE_NAME = "milvus-zones-restore"
RESTORE_DEADLINE_S = 6 * 3600  # a restore that has not finished in 6 h is stuck: fail, and alert
BACKUP_DEADLINE_S = 4 * 3600
RUN_AS = 65532  # any non-root id: the image's files are world-readable, it writes only to /tmp


def backup_script() -> str:
    return resources.files("milvus_zones.jobs").joinpath("backup.sh").read_text()


def proxy_management_url(fullname: str, namespace: str) -> str:
    return f"http://{fullname}.{namespace}.svc:9091"


def backup_config(plan: TopologyPlan, bucket: str, fullname: str) -> str:
    """backup.yaml (JSON is YAML); the password comes from the environment, never this file."""
    backup = _backup(plan)
    assert plan.bucket is not None  # _backup checked it
    root_path = plan.bucket.root_path
    endpoint = oss_endpoint(plan.region)
    storage = {"address": endpoint, "port": 443, "useSSL": True, "useIAM": True, "region": plan.region}
    return json.dumps(
        {
            "log": {"level": "info", "console": True, "file": {"filename": "/tmp/milvus-backup.log"}},
            "milvus": {"address": f"{fullname}.{plan.namespace}.svc", "port": 19530, "user": "root", "tlsMode": 0},
            "minio": {
                "storageType": "aliyun",
                **storage,
                "bucketName": bucket,
                "rootPath": root_path,
                # Same bucket and provider: milvus-backup copies objects inside OSS, nothing through the pod.
                "backupStorageType": "aliyun",
                "backupAddress": endpoint,
                "backupPort": 443,
                "backupUseSSL": True,
                "backupUseIAM": True,
                "backupRegion": plan.region,
                "backupBucketName": bucket,
                "backupRootPath": backup.prefix,
                "crossStorage": False,
            },
            "backup": {
                "parallelism": {"backupCollection": 4, "copydata": 64, "restoreCollection": 2},
                "gcPause": {"enable": True, "address": proxy_management_url(fullname, plan.namespace)},
            },
        },
        indent=2,
        sort_keys=True,
    )


def _backup(plan: TopologyPlan) -> BackupPlan:
    if plan.backup is None or plan.bucket is None:
        raise ValueError(f"{plan.name}: no backups planned (backup.enabled off, or the managed backend)")
    return plan.backup


def sts_vpc_env(plan: TopologyPlan) -> list[dict]:
    """RRSA's token exchange over the VPC: credentials-go v1.4.10 (milvus-backup v0.5.16's go.mod), whose
    OIDC provider (credentials/providers/oidc.go, Build) calls sts-vpc.<region>.aliyuncs.com when these are
    set and sts.aliyuncs.com, a public endpoint, when they are not."""
    return [{"name": "ALIBABA_CLOUD_STS_REGION", "value": plan.region},
            {"name": "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED", "value": "true"}]


def pod_spec(plan: TopologyPlan, password_secret: str, command: list[str], env: list[dict]) -> dict:
    """The pod both the backup CronJob and a restore Job run: RRSA account, config, non-root, bounded."""
    backup_image = plan.image(BACKUP_IMAGE)
    return {
        "restartPolicy": "Never",
        "serviceAccountName": SERVICE_ACCOUNT,
        "automountServiceAccountToken": False,  # it talks to Milvus and OSS, never to the API server
        "nodeSelector": dict(plan.component("proxy").node_selector),
        "securityContext": {
            "runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS, "fsGroup": RUN_AS,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [{
            "name": "milvus-backup",
            "image": with_registry(f"{backup_image.repository}:{backup_image.reference_tag}", plan.image_registry),
            "command": command,
            "env": [
                {"name": "MILVUS_PASSWORD",
                 "valueFrom": {"secretKeyRef": {"name": password_secret, "key": "password"}}},
                *sts_vpc_env(plan),
                *env,
            ],
            # What sizing reserves for our Jobs on the proxies' pools; memory limit = request.
            "resources": {"requests": {"cpu": f"{JOB.cpu_m}m", "memory": f"{JOB.memory_mi}Mi"},
                          "limits": {"cpu": f"{JOB_CPU_LIMIT_M}m", "memory": f"{JOB.memory_mi}Mi"}},
            "securityContext": {
                "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
            },
            "volumeMounts": [
                {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
                {"name": "script", "mountPath": SCRIPT_DIR, "readOnly": True},
                {"name": "tmp", "mountPath": "/tmp"},
            ],
        }],
        "volumes": [
            {"name": "config", "configMap": {"name": NAME}},
            {"name": "script", "configMap": {"name": f"{NAME}-script", "defaultMode": 0o555}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}},
        ],
    }


def cronjob_spec(plan: TopologyPlan, password_secret: str) -> dict:
    backup = _backup(plan)
    env = [
        {"name": "MILVUS_BACKUP", "value": BINARY},
        {"name": "BACKUP_CONFIG", "value": f"{CONFIG_DIR}/backup.yaml"},
        {"name": "BACKUP_NAME_PREFIX", "value": backup.name_prefix},
        {"name": "RETENTION_DAYS", "value": str(backup.retention_days)},
    ]
    labels = {APP_LABEL: NAME}
    return {
        "schedule": backup.schedule,
        "timeZone": "Etc/UTC",  # the names and the RPO are in UTC, whatever the nodes' zone
        "suspend": backup.suspended,
        "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": 3600,  # a run missed by more than an hour waits for the next
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 3,
        "jobTemplate": {
            "metadata": {"labels": labels},
            "spec": {
                "backoffLimit": 1,
                "activeDeadlineSeconds": BACKUP_DEADLINE_S,
                "template": {"metadata": {"labels": labels},
                             "spec": pod_spec(plan, password_secret, ["sh", f"{SCRIPT_DIR}/backup.sh"], env)},
            },
        },
    }


def service_account(plan: TopologyPlan, role_name: Any) -> dict[str, Any]:
    """The account the backup pods run as; `role_name` (the RAM role's, known once Pulumi created it)
    is the role ACK's pod-identity webhook hands it through RRSA."""
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": SERVICE_ACCOUNT, "namespace": plan.namespace, "labels": {APP_LABEL: NAME},
                         "annotations": {RRSA_ROLE_ANNOTATION: role_name}},
            "automountServiceAccountToken": False}


def config_map(plan: TopologyPlan, backup_yaml: Any) -> dict[str, Any]:
    """milvus-backup's backup.yaml (backup_config, rendered once the bucket's name is known)."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": NAME, "namespace": plan.namespace, "labels": {APP_LABEL: NAME}},
            "data": {"backup.yaml": backup_yaml}}


def script_config_map(plan: TopologyPlan) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": f"{NAME}-script", "namespace": plan.namespace, "labels": {APP_LABEL: NAME}},
            "data": {"backup.sh": backup_script()}}


def cronjob(plan: TopologyPlan, password_secret: str) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": NAME, "namespace": plan.namespace, "labels": {APP_LABEL: NAME}},
            "spec": cronjob_spec(plan, password_secret)}


def restore_command(backup_name: str, filters: tuple[str, ...] = (), suffix: str | None = None,
                    config: str = f"{CONFIG_DIR}/backup.yaml") -> list[str]:
    """milvus-backup's own restore (cmd/restore/restore.go flags at v0.5.16: -n, --filter, -s)."""
    cmd = [BINARY, "restore", "--config", config, "-n", backup_name]
    if filters:
        cmd += ["--filter", ",".join(filters)]
    if suffix:
        cmd += ["-s", suffix]
    return cmd


def restore_job(plan: TopologyPlan, password_secret: str, backup_name: str, filters: tuple[str, ...] = (),
                suffix: str | None = None) -> dict:
    """A Job manifest (for `kubectl apply -f -`) running the restore in the stack's backup pod.

    backoffLimit 0: a half-done restore has created collections, so a blind retry clashes with them;
    the operator looks at the log and reruns with what is left.
    """
    _backup(plan)
    # One Job per request: the backup's timestamp, and a digest of what is restored under which names.
    stamp = backup_name.rsplit("_", 1)[-1].lower()
    digest = hashlib.sha256(json.dumps([backup_name, filters, suffix]).encode()).hexdigest()[:6]
    name = f"{RESTORE_NAME}-{re.sub(r'[^a-z0-9]', '', stamp)[:24]}-{digest}"
    labels = {APP_LABEL: RESTORE_NAME}
    spec: dict[str, Any] = pod_spec(plan, password_secret, restore_command(backup_name, filters, suffix), [])
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": plan.namespace, "labels": labels,
                     "annotations": {"milvus-zones/backup": backup_name}},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": RESTORE_DEADLINE_S,
            "ttlSecondsAfterFinished": 7 * 86400,
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    }
