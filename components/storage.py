"""The OSS bucket Milvus stores its data in, and the RAM role its pods assume through RRSA."""

import json
from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud
from milvus_zones.components.keys import protected_key

from milvus_zones.planning.plan import BucketPlan
from milvus_zones.planning.spec import SecuritySpec

# Actions Milvus' object-storage client uses: object reads/writes/deletes, listing, multipart uploads.
_OBJECT_ACTIONS = [
    "oss:GetObject",
    "oss:PutObject",
    "oss:DeleteObject",
    "oss:AbortMultipartUpload",
    "oss:ListParts",
    "oss:GetObjectMeta",
]
_READ_ACTIONS = ["oss:GetObject", "oss:GetObjectMeta"]
_BUCKET_ACTIONS = ["oss:ListObjects", "oss:GetBucketInfo", "oss:GetBucketLocation", "oss:ListMultipartUploads"]
NONCURRENT_VERSION_DAYS = 30  # how long an overwritten or deleted object stays recoverable
ACCESS_LOG_DAYS = 180  # how long the log bucket keeps access logs
# What a client needs of a customer-managed key to write and read SSE-KMS objects (OSS SSE-KMS docs);
# action names and the key ARN acs:kms:<region>:<account>:key/<id> from KMS "Use RAM to control access
# to KMS resources" (GenerateDataKey -> kms:GenerateDataKey, Decrypt -> kms:Decrypt). Milvus' role and
# the backup role get them on the bucket's key only (pack policy ram-bucket-key-granted).
_KMS_ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt"]


class StorageArgs(TypedDict):
    bucket: BucketPlan
    """Bucket name, Milvus' prefix in it, and the redundancy type the mode requires."""
    role_name: str
    """Name of the RAM role that Milvus' service account assumes."""
    oidc_provider_arn: pulumi.Input[str]
    """ARN of the cluster's RRSA OIDC provider (ManagedKubernetes rrsa_metadata)."""
    oidc_issuer_url: pulumi.Input[str]
    """Issuer URL of the cluster's RRSA OIDC provider."""
    namespace: str
    """Kubernetes namespace of the service account."""
    service_account: str
    """Kubernetes service account allowed to assume the role."""
    read_prefixes: NotRequired[Sequence[str]]
    """Prefixes Milvus may read but not write: milvus-backup's backups (a restore imports from them)."""
    security: NotRequired[SecuritySpec]
    """Access logging and the bucket's encryption key (default: SecuritySpec())."""
    tags: dict[str, str]
    """Tags for every taggable resource."""


def https_only_policy(bucket: str) -> str:
    """Bucket policy that refuses every request made over plain HTTP."""
    return json.dumps(
        {
            "Version": "1",
            "Statement": [{
                "Effect": "Deny",
                "Principal": ["*"],
                "Action": ["oss:*"],
                "Resource": [f"acs:oss:*:*:{bucket}", f"acs:oss:*:*:{bucket}/*"],
                "Condition": {"Bool": {"acs:SecureTransport": "false"}},
            }],
        },
        sort_keys=True,
    )


def trust_policy(oidc_provider_arn: str, issuer_url: str, namespace: str, service_account: str) -> str:
    """RRSA trust: only this service account's projected token, issued by this cluster, may assume the role."""
    return json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Action": "sts:AssumeRole",
                    "Effect": "Allow",
                    "Principal": {"Federated": [oidc_provider_arn]},
                    "Condition": {
                        "StringEquals": {
                            "oidc:aud": "sts.aliyuncs.com",
                            "oidc:iss": issuer_url,
                            "oidc:sub": f"system:serviceaccount:{namespace}:{service_account}",
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )


def prefix_policy(bucket: str, read_write: Sequence[str], read_only: Sequence[str] = (),
                  kms_key_arn: str | None = None) -> str:
    """Objects under the given prefixes of one bucket (and listing them), nothing else; with a
    customer-managed bucket key, the use of that key to encrypt and decrypt its objects."""
    rw = [p.strip("/") for p in read_write]
    ro = [p.strip("/") for p in read_only]
    statements: list[dict] = [
        *([{"Effect": "Allow", "Action": _KMS_ACTIONS, "Resource": [kms_key_arn]}] if kms_key_arn else []),
        {"Effect": "Allow", "Action": _OBJECT_ACTIONS, "Resource": [f"acs:oss:*:*:{bucket}/{p}/*" for p in rw]},
    ]
    if ro:
        statements.append({"Effect": "Allow", "Action": _READ_ACTIONS,
                           "Resource": [f"acs:oss:*:*:{bucket}/{p}/*" for p in ro]})
    statements.append({
        "Effect": "Allow",
        "Action": _BUCKET_ACTIONS,
        "Resource": [f"acs:oss:*:*:{bucket}"],
        "Condition": {"StringLike": {"oss:Prefix": [x for p in (*rw, *ro) for x in (f"{p}/*", p)] + [""]}},
    })
    return json.dumps({"Version": "1", "Statement": statements}, sort_keys=True)


def access_policy(bucket: str, root_path: str, read_prefixes: Sequence[str] = (),
                  kms_key_arn: str | None = None) -> str:
    """Milvus: read/write its prefix of its bucket, read the backups, use the bucket's key, nothing else."""
    return prefix_policy(bucket, [root_path], read_prefixes, kms_key_arn)


class Storage(pulumi.ComponentResource):
    """A private, versioned, encrypted bucket (ZRS in the multi-zone modes) that refuses plain HTTP, and
    its RRSA role.

    By default (`security`) its access logs go to a log bucket `<bucket>-logs` (same redundancy, private,
    versioned, encrypted, logs kept ACCESS_LOG_DAYS); with `bucket_kms_key` it is encrypted with a
    customer-managed KMS key created here, which the role may use.
    Both buckets are protected: `pulumi destroy` and any change that would replace them stop with an error.
    """

    bucket_name: pulumi.Output[str]
    bucket_key_id: pulumi.Output[str] | None
    """Id of the bucket's customer-managed key (security.bucketKmsKey); None with OSS-managed keys."""
    bucket_key_arn: pulumi.Output[str] | None
    """ARN of that key, for other roles on the bucket (None with OSS-managed keys)."""
    role_name: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("milvus-zones:index:Storage", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        plan = args["bucket"]
        reads = list(args.get("read_prefixes", []))
        # Versioning keeps overwritten and deleted objects (Milvus' and the backups deleted by the
        # retention cleanup) for a grace period, then this rule removes them. Backups themselves are
        # not expired by a lifecycle rule: it works object by object on age, so it could leave a
        # half-deleted backup, or take the last one when backups stop (docs/backups.md).
        lifecycle = [{"id": "noncurrent-versions", "prefix": "", "enabled": True,
                      "noncurrent_version_expirations": [{"days": NONCURRENT_VERSION_DAYS}],
                      "abort_multipart_uploads": [{"days": 7}]}]

        security = args.get("security") or SecuritySpec()
        key = None
        sse: dict[str, pulumi.Input[str]] = {"sse_algorithm": "AES256"}
        if security.bucket_kms_key:
            key = protected_key(f"{name}-bucket-key", f"Encrypts oss://{plan.name}",
                                security.kms_pending_window_days, args["tags"], child)
            sse = {"sse_algorithm": "KMS", "kms_master_key_id": key.id}
        bucket = alicloud.oss.Bucket(
            f"{name}-bucket",
            bucket=plan.name,
            redundancy_type=plan.redundancy.value,
            storage_class="Standard",
            versioning={"status": "Enabled"},
            server_side_encryption_rule=sse,
            lifecycle_rules=lifecycle,
            tags=args["tags"],
            # Milvus' data: never deleted or replaced by a routine `pulumi up` / `destroy`.
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
        )
        alicloud.oss.BucketAcl(f"{name}-bucket-acl", bucket=bucket.bucket, acl="private", opts=child)
        alicloud.oss.BucketPublicAccessBlock(
            f"{name}-bucket-pab", bucket=bucket.bucket, block_public_access=True, opts=child
        )
        alicloud.oss.BucketPolicy(f"{name}-bucket-https-only", bucket=bucket.bucket,
                                  policy=bucket.bucket.apply(https_only_policy), opts=child)
        if security.bucket_access_logging:
            logs = self._log_bucket(name, plan, args["tags"])
            alicloud.oss.BucketLogging(
                f"{name}-bucket-logging", bucket=bucket.bucket, target_bucket=logs.bucket,
                target_prefix=f"{plan.root_path.strip('/')}-access/", opts=child,
            )

        trust = pulumi.Output.all(args["oidc_provider_arn"], args["oidc_issuer_url"]).apply(
            lambda a: trust_policy(a[0], a[1], args["namespace"], args["service_account"])
        )
        role = alicloud.ram.Role(
            f"{name}-role",
            role_name=args["role_name"],
            assume_role_policy_document=trust,
            description=f"Milvus ({args['namespace']}/{args['service_account']}) access to oss://{plan.name}/{plan.root_path}",
            max_session_duration=3600,
            tags=args["tags"],
            opts=child,
        )
        policy = alicloud.ram.Policy(
            f"{name}-policy",
            policy_name=f"{args['role_name']}-oss",
            policy_document=pulumi.Output.all(bucket.bucket, key.arn if key is not None else None).apply(
                lambda a: access_policy(a[0], plan.root_path, reads, a[1])),
            description=f"Read/write oss://{plan.name}/{plan.root_path}/ only",
            opts=child,
        )
        alicloud.ram.RolePolicyAttachment(
            f"{name}-role-policy",
            role_name=role.role_name,
            policy_name=policy.policy_name,
            policy_type="Custom",
            opts=child,
        )

        self.bucket_name = bucket.bucket
        self.bucket_key_id = key.id if key is not None else None
        self.bucket_key_arn = key.arn if key is not None else None
        self.role_name = role.role_name
        self.role_arn = role.arn
        self.register_outputs({"bucket_name": self.bucket_name, "bucket_key_id": self.bucket_key_id,
                               "bucket_key_arn": self.bucket_key_arn,
                               "role_name": self.role_name, "role_arn": self.role_arn})

    def _log_bucket(self, name: str, plan: BucketPlan, tags: dict[str, str]) -> alicloud.oss.Bucket:
        """Where the data bucket's access logs go: as private, encrypted and protected as the data bucket,
        and in the same redundancy, so the audit trail survives what the data survives."""
        child = pulumi.ResourceOptions(parent=self)
        logs = alicloud.oss.Bucket(
            f"{name}-logs",
            bucket=log_bucket_name(plan.name),
            redundancy_type=plan.redundancy.value,
            storage_class="Standard",
            versioning={"status": "Enabled"},
            server_side_encryption_rule={"sse_algorithm": "AES256"},
            lifecycle_rules=[{"id": "expire-access-logs", "prefix": "", "enabled": True,
                              "expirations": [{"days": ACCESS_LOG_DAYS}],
                              "noncurrent_version_expirations": [{"days": NONCURRENT_VERSION_DAYS}]}],
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
        )
        alicloud.oss.BucketAcl(f"{name}-logs-acl", bucket=logs.bucket, acl="private", opts=child)
        alicloud.oss.BucketPublicAccessBlock(f"{name}-logs-pab", bucket=logs.bucket, block_public_access=True,
                                             opts=child)
        return logs


def log_bucket_name(bucket: str) -> str:
    """`<bucket>-logs`, shortened to OSS' 63 characters."""
    return f"{bucket[:58].rstrip('-')}-logs"
