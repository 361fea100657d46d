"""The OSS bucket Milvus stores its data in, and the RAM role its pods assume through RRSA."""

import json
from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud

from milvus_zones.planning.plan import BucketPlan

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
    tags: dict[str, str]
    """Tags for every taggable resource."""


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


def prefix_policy(bucket: str, read_write: Sequence[str], read_only: Sequence[str] = ()) -> str:
    """Objects under the given prefixes of one bucket (and listing them), nothing else."""
    rw = [p.strip("/") for p in read_write]
    ro = [p.strip("/") for p in read_only]
    statements: list[dict] = [
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


def access_policy(bucket: str, root_path: str, read_prefixes: Sequence[str] = ()) -> str:
    """Milvus: read/write its prefix of its bucket, read the backups, nothing else."""
    return prefix_policy(bucket, [root_path], read_prefixes)


class Storage(pulumi.ComponentResource):
    """A private, versioned, encrypted bucket (ZRS in the multi-zone modes) and its RRSA role.

    The bucket is protected: `pulumi destroy` and any change that would replace it stop with an error.
    """

    bucket_name: pulumi.Output[str]
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

        bucket = alicloud.oss.Bucket(
            f"{name}-bucket",
            bucket=plan.name,
            redundancy_type=plan.redundancy.value,
            storage_class="Standard",
            versioning={"status": "Enabled"},
            server_side_encryption_rule={"sse_algorithm": "AES256"},
            lifecycle_rules=lifecycle,
            tags=args["tags"],
            # Milvus' data: never deleted or replaced by a routine `pulumi up` / `destroy`.
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
        )
        alicloud.oss.BucketAcl(f"{name}-bucket-acl", bucket=bucket.bucket, acl="private", opts=child)
        alicloud.oss.BucketPublicAccessBlock(
            f"{name}-bucket-pab", bucket=bucket.bucket, block_public_access=True, opts=child
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
            policy_document=bucket.bucket.apply(lambda b: access_policy(b, plan.root_path, reads)),
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
        self.role_name = role.role_name
        self.role_arn = role.arn
        self.register_outputs({"bucket_name": self.bucket_name, "role_name": self.role_name, "role_arn": self.role_arn})
