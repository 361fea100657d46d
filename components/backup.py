"""Scheduled backups with milvus-backup (every self-hosted mode), and their copy to the other region
(cross-region-ha). What runs in the cluster is rendered by milvus_zones.rendering.backup_manifests."""

import json
from collections.abc import Mapping, Sequence
from typing import NamedTuple, NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud
import pulumi_kubernetes as k8s
from milvus_zones.components.storage import prefix_policy, trust_policy

from milvus_zones.planning.plan import BackupReplicationPlan, TopologyPlan
from milvus_zones.rendering import backup_manifests as bm


class BackupArgs(TypedDict):
    plan: TopologyPlan
    """The deployment's plan; its `backup` says where, when and how long."""
    bucket: pulumi.Input[str]
    """The deployment's bucket: Milvus' data (read) and the backup prefix (written)."""
    fullname: str
    """The chart's fullname of the primary release: its Service fronts the proxies (19530, 9091)."""
    oidc_provider_arn: pulumi.Input[str]
    """The cluster's RRSA OIDC provider: only the backup service account's token may assume the role."""
    oidc_issuer_url: pulumi.Input[str]
    """Issuer URL of that provider."""
    password_secret: str
    """Secret (key `password`) with Milvus' root password, in the plan's namespace."""
    k8s_provider: pulumi.ProviderResource
    """Kubernetes provider of the cluster."""
    wait_for: Sequence[pulumi.Resource]
    """The Milvus release(s): the CronJob needs the namespace, the Secret and a running Milvus."""
    role_name: str
    """Name of the backup RAM role (unique per account)."""
    kms_key_arn: NotRequired[pulumi.Input[str] | None]
    """The bucket's customer-managed key (security.bucketKmsKey): backups are read and written through it."""


class Backup(pulumi.ComponentResource):
    """A RAM role limited to the backup prefix (plus reading Milvus' prefix), assumed through RRSA by
    the `milvus-backup` service account only; the config, the script, and the CronJob that backs up
    and then deletes this stack's backups past their retention.

    Outputs: `role_arn`, `cronjob_name`.
    """

    role_arn: pulumi.Output[str]
    cronjob_name: pulumi.Output[str]

    def __init__(self, name: str, args: BackupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("milvus-zones:index:Backup", name, {}, opts)
        plan = args["plan"]
        assert plan.backup is not None and plan.bucket is not None
        backup, bucket_plan = plan.backup, plan.bucket
        child = pulumi.ResourceOptions(parent=self)
        trust = pulumi.Output.all(args["oidc_provider_arn"], args["oidc_issuer_url"]).apply(
            lambda a: trust_policy(a[0], a[1], plan.namespace, bm.SERVICE_ACCOUNT))
        role = alicloud.ram.Role(
            f"{name}-role",
            role_name=args["role_name"],
            assume_role_policy_document=trust,
            description=f"milvus-backup ({plan.namespace}/{bm.SERVICE_ACCOUNT}): oss://{bucket_plan.name}/{backup.prefix}",
            max_session_duration=3600,
            tags=plan.tags,
            opts=child,
        )
        policy = alicloud.ram.Policy(
            f"{name}-policy",
            policy_name=f"{args['role_name']}-oss"[:128],
            # Writes only its prefix; reads Milvus' files, which it copies inside OSS. With a customer-
            # managed bucket key, OSS decrypts and encrypts each object with that key on the caller's
            # behalf: kms:Decrypt / kms:GenerateDataKey on that key only (prefix_policy).
            policy_document=pulumi.Output.all(args["bucket"], args.get("kms_key_arn")).apply(
                lambda a: prefix_policy(a[0], [backup.prefix], [bucket_plan.root_path], a[1])),
            description=f"Read/write oss://{bucket_plan.name}/{backup.prefix}/, read {bucket_plan.root_path}/",
            opts=child,
        )
        attachment = alicloud.ram.RolePolicyAttachment(
            f"{name}-role-policy", role_name=role.role_name, policy_name=policy.policy_name, policy_type="Custom",
            opts=child)

        in_cluster = pulumi.ResourceOptions(parent=self, provider=args["k8s_provider"],
                                            depends_on=list(args["wait_for"]))
        sa = bm.service_account(plan, role.role_name)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa", metadata=sa["metadata"], automount_service_account_token=sa["automountServiceAccountToken"],
            opts=pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(depends_on=[attachment])),
        )
        backup_yaml = pulumi.Output.from_input(args["bucket"]).apply(lambda b: bm.backup_config(plan, b, args["fullname"]))
        config_manifest = bm.config_map(plan, backup_yaml)
        config = k8s.core.v1.ConfigMap(f"{name}-config", metadata=config_manifest["metadata"],
                                       data=config_manifest["data"], opts=in_cluster)
        script_manifest = bm.script_config_map(plan)
        script = k8s.core.v1.ConfigMap(f"{name}-script", metadata=script_manifest["metadata"],
                                       data=script_manifest["data"], opts=in_cluster)
        cron_manifest = bm.cronjob(plan, args["password_secret"])
        cron = k8s.batch.v1.CronJob(
            f"{name}-cron", metadata=cron_manifest["metadata"], spec=cron_manifest["spec"],
            opts=pulumi.ResourceOptions.merge(in_cluster,
                                              pulumi.ResourceOptions(depends_on=[account, config, script])),
        )
        self.role_arn = role.arn
        self.cronjob_name = cron.metadata.name
        self.register_outputs({"role_arn": self.role_arn, "cronjob_name": self.cronjob_name})


class ReplicationTarget(NamedTuple):
    """One region's end of the backup replication."""

    provider: alicloud.Provider
    """The region's alicloud provider (one provider has one region)."""
    bucket: pulumi.Input[str]
    """The region's bucket, source of its own backups and destination of the other region's."""
    key_id: pulumi.Input[str] | None = None
    """Id of the bucket's customer-managed KMS key (security.bucketKmsKey); None with OSS-managed keys."""
    key_arn: pulumi.Input[str] | None = None
    """ARN of that key, for the replication role's grant."""


class BackupReplication(pulumi.ComponentResource):
    """cross-region-ha: OSS cross-region replication of each region's backup prefix to the other's
    bucket, so backups outlive the loss of a region. Replication copies writes only (action PUT):
    a deletion by the retention cleanup in one region does not delete the other region's copy, which
    that bucket's own cleanup (its CronJob, once that region is primary) or versioning rule handles.

    With customer-managed keys (security.bucketKmsKey) OSS replicates SSE-KMS objects only when the
    rule says so (`SourceSelectionCriteria.SseKmsEncryptedObjects: Enabled`) and names the key that
    encrypts the replicas (`EncryptionConfiguration.ReplicaKmsKeyID`, required then): OSS' "Replicate
    KMS-encrypted source objects" option and its PutBucketReplication error 0031-00000033. Without
    them the backups, encrypted with the bucket's key, would silently never reach the other region.
    The role then uses both keys: kms:Decrypt to read the source, kms:GenerateDataKey to write the replica.
    """

    def __init__(self, name: str, plan: BackupReplicationPlan, targets: Mapping[str, ReplicationTarget],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("milvus-zones:index:BackupReplication", name, {}, opts)
        first_provider = next(iter(targets.values())).provider
        keyed = [t.key_id is not None for t in targets.values()]
        if any(keyed) and not all(keyed):
            raise pulumi.RunError(f"{name}: both regions' buckets need a customer-managed key, or neither")
        # RAM is global: one role lets OSS copy objects between the two buckets.
        buckets = pulumi.Output.all(*[t.bucket for t in targets.values()])
        key_arns = pulumi.Output.all(*[t.key_arn for t in targets.values() if t.key_arn is not None])
        role = alicloud.ram.Role(
            f"{name}-oss-replication",
            role_name=f"{name}-oss-replication"[:64],
            assume_role_policy_document=json.dumps({
                "Version": "1",
                "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                               "Principal": {"Service": ["oss.aliyuncs.com"]}}],
            }),
            description="OSS cross-region replication of milvus-backup's backups",
            opts=pulumi.ResourceOptions(parent=self, provider=first_provider),
        )
        policy = alicloud.ram.Policy(
            f"{name}-oss-replication",
            policy_name=f"{name}-oss-replication"[:128],
            policy_document=pulumi.Output.all(buckets, key_arns).apply(
                lambda a: replication_policy(a[0], plan.prefix, a[1])),
            opts=pulumi.ResourceOptions(parent=self, provider=first_provider),
        )
        attachment = alicloud.ram.RolePolicyAttachment(
            f"{name}-oss-replication", role_name=role.role_name, policy_name=policy.policy_name, policy_type="Custom",
            opts=pulumi.ResourceOptions(parent=self, provider=first_provider),
        )
        for region, target in targets.items():
            peer_region, peer_bucket = plan.replicate_to[region]
            peer = targets[peer_region]
            keys = peer.key_id is not None
            alicloud.oss.BucketReplication(
                f"{name}-crr-{region}",
                bucket=target.bucket,
                action="PUT",
                destination={"bucket": peer_bucket, "location": f"oss-{peer_region}"},
                prefix_set={"prefixes": [f"{plan.prefix}/"]},
                historical_object_replication="enabled",
                sync_role=role.role_name,
                source_selection_criteria={"sse_kms_encrypted_objects": {"status": "Enabled"}} if keys else None,
                encryption_configuration={"replica_kms_key_id": peer.key_id} if keys else None,
                opts=pulumi.ResourceOptions(parent=self, provider=target.provider, depends_on=[attachment]),
            )

        self.register_outputs({})


def replication_policy(buckets: Sequence[str], prefix: str, key_arns: Sequence[str] = ()) -> str:
    """The replication role's policy: replicate the backup prefix between the buckets, and use their keys."""
    statements: list[dict] = [
        {"Effect": "Allow", "Action": ["oss:ReplicateList", "oss:ReplicateGet", "oss:ReplicatePut",
                                       "oss:ReplicateDelete", "oss:GetObject", "oss:PutObject",
                                       "oss:ListObjects", "oss:GetBucketInfo"],
         "Resource": [r for b in buckets for r in (f"acs:oss:*:*:{b}", f"acs:oss:*:*:{b}/{prefix}/*")]},
    ]
    if key_arns:
        statements.append({"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                           "Resource": sorted(key_arns)})
    return json.dumps({"Version": "1", "Statement": statements}, sort_keys=True)
