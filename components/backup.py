"""Backups for cross-region-ha: milvus-backup in the primary region, copied to the other region by OSS."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_alicloud as alicloud
import pulumi_kubernetes as k8s

from milvus_zones.planning.catalog import oss_endpoint, with_registry
from milvus_zones.planning.plan import BackupPlan, TopologyPlan

BACKUP_IMAGE = "milvusdb/milvus-backup:v0.5.8"
RENDER_IMAGE = "busybox:1.36.1"


@dataclass(frozen=True)
class RegionBackupTarget:
    plan: TopologyPlan
    region_provider: alicloud.Provider
    k8s_provider: k8s.Provider
    bucket: pulumi.Input[str]
    milvus_service: str  # in-cluster host of the region's proxies
    service_account: str  # its RRSA role may write the backup prefix
    password_secret: str
    wait_for: tuple[pulumi.Resource, ...]


def backup_config(plan: TopologyPlan, bucket: str, milvus_host: str, prefix: str) -> str:
    """milvus-backup's backup.yaml; the password is filled in at run time from the Secret."""
    return json.dumps(  # JSON is YAML: no templating library needed in the pod
        {
            "milvus": {"address": milvus_host, "port": 19530, "user": "root", "password": "__MILVUS_PASSWORD__"},
            "minio": {
                "storageType": "aliyun",
                "address": oss_endpoint(plan.region),
                "port": 443,
                "useSSL": True,
                "useIAM": True,
                "bucketName": bucket,
                "rootPath": plan.bucket.root_path,
                "backupStorageType": "aliyun",
                "backupBucketName": bucket,
                "backupRootPath": f"{prefix}/{plan.name}",
            },
            "backup": {"parallelism": {"backupCollection": 4, "copydata": 64}},
        },
        indent=2,
        sort_keys=True,
    )


class Backups(pulumi.ComponentResource):
    """A daily milvus-backup CronJob in the primary region, and OSS cross-region replication of the
    backup prefix from each region's bucket to the other's, so backups outlive the loss of a region.

    Replication copies writes only (action PUT); each bucket's lifecycle rule expires old backups.
    """

    def __init__(self, name: str, plan: BackupPlan, primary: str, targets: Mapping[str, RegionBackupTarget],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("milvus-zones:index:Backups", name, {}, opts)
        first = next(iter(targets.values()))
        # RAM is global: one role lets OSS copy objects between the two buckets.
        buckets = pulumi.Output.all(*[t.bucket for t in targets.values()])
        role = alicloud.ram.Role(
            f"{name}-oss-replication",
            role_name=f"{name}-oss-replication"[:64],
            assume_role_policy_document=json.dumps({
                "Version": "1",
                "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                               "Principal": {"Service": ["oss.aliyuncs.com"]}}],
            }),
            description="OSS cross-region replication of milvus-backup's backups",
            opts=pulumi.ResourceOptions(parent=self, provider=first.region_provider),
        )
        policy = alicloud.ram.Policy(
            f"{name}-oss-replication",
            policy_name=f"{name}-oss-replication"[:128],
            policy_document=buckets.apply(lambda bs: json.dumps({
                "Version": "1",
                "Statement": [
                    {"Effect": "Allow", "Action": ["oss:ReplicateList", "oss:ReplicateGet", "oss:ReplicatePut",
                                                   "oss:ReplicateDelete", "oss:GetObject", "oss:PutObject",
                                                   "oss:ListObjects", "oss:GetBucketInfo"],
                     "Resource": [r for b in bs for r in (f"acs:oss:*:*:{b}", f"acs:oss:*:*:{b}/{plan.prefix}/*")]},
                ],
            }, sort_keys=True)),
            opts=pulumi.ResourceOptions(parent=self, provider=first.region_provider),
        )
        attachment = alicloud.ram.RolePolicyAttachment(
            f"{name}-oss-replication", role_name=role.role_name, policy_name=policy.policy_name, policy_type="Custom",
            opts=pulumi.ResourceOptions(parent=self, provider=first.region_provider),
        )
        for region, target in targets.items():
            peer_region, peer_bucket = plan.replicate_to[region]
            alicloud.oss.BucketReplication(
                f"{name}-crr-{region}",
                bucket=target.bucket,
                action="PUT",
                destination={"bucket": peer_bucket, "location": f"oss-{peer_region}"},
                prefix_set={"prefixes": [f"{plan.prefix}/"]},
                historical_object_replication="enabled",
                sync_role=role.role_name,
                opts=pulumi.ResourceOptions(parent=self, provider=target.region_provider, depends_on=[attachment]),
            )

        t = targets[primary]
        config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata={"name": "milvus-zones-backup", "namespace": t.plan.namespace},
            data={"backup.yaml": pulumi.Output.from_input(t.bucket).apply(
                lambda b: backup_config(t.plan, b, t.milvus_service, plan.prefix))},
            opts=pulumi.ResourceOptions(parent=self, provider=t.k8s_provider, depends_on=list(t.wait_for)),
        )
        k8s.batch.v1.CronJob(
            f"{name}-cron",
            metadata={"name": "milvus-zones-backup", "namespace": t.plan.namespace},
            spec={
                "schedule": plan.schedule,
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {"spec": {"backoffLimit": 2, "template": {"spec": {
                    "restartPolicy": "Never",
                    "serviceAccountName": t.service_account,  # RRSA: OSS access without keys
                    "nodeSelector": t.plan.component("proxy").node_selector,
                    "initContainers": [{
                        "name": "render-config",
                        "image": with_registry(RENDER_IMAGE, t.plan.image_registry),
                        # The password stays in the Secret: it is written only to this pod's memory.
                        # Shell substitution, not sed: any character may appear in the password
                        # (except a double quote or backslash, which JSON would need escaped).
                        "command": ["sh", "-c", 't="$(cat /template/backup.yaml)"; '
                                                'printf "%s" "${t//__MILVUS_PASSWORD__/$MILVUS_PASSWORD}" '
                                                "> /work/backup.yaml"],
                        "env": [{"name": "MILVUS_PASSWORD",
                                 "valueFrom": {"secretKeyRef": {"name": t.password_secret, "key": "password"}}}],
                        "volumeMounts": [{"name": "template", "mountPath": "/template"},
                                         {"name": "work", "mountPath": "/work"}],
                    }],
                    "containers": [{
                        "name": "backup",
                        "image": with_registry(BACKUP_IMAGE, t.plan.image_registry),
                        "command": ["sh", "-c", "milvus-backup create --config /work/backup.yaml "
                                                f"-n {t.plan.name.replace('-', '_')}_$(date -u +%Y%m%d%H%M)"],
                        "volumeMounts": [{"name": "work", "mountPath": "/work"}],
                    }],
                    "volumes": [{"name": "template", "configMap": {"name": config.metadata.name}},
                                {"name": "work", "emptyDir": {"medium": "Memory"}}],
                }}}},
            },
            opts=pulumi.ResourceOptions(parent=self, provider=t.k8s_provider, depends_on=[config, *t.wait_for]),
        )
        self.register_outputs({})
