"""Data safety of the OSS buckets: private with public access blocked, encrypted, versioned, logged.

Each rule accepts the inline bucket argument or the separate resource pulumi-alicloud offers for it
(BucketAcl, BucketPolicy, BucketPublicAccessBlock, BucketServerSideEncryption, BucketVersioning,
BucketLogging), linked to the bucket through its `bucket` argument.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import PolicyConfigSchema

from ._policy import ADVISORY, MANDATORY, OPT_IN, stack_policy
from .cloud import (
    BUCKET_LOGGING,
    BUCKET_POLICY,
    document,
    principals,
    prop,
    statements,
)
from .model.deployment import (
    BUCKET_ACL,
    BUCKET_PUBLIC_ACCESS_BLOCK,
    BUCKET_SSE,
    BUCKET_VERSIONING,
    attached_to,
)
from .model.names import BUCKET_REPLICATION
from .model.values import UnknownValueError, dig, truthy

PUBLIC_ACLS = frozenset({"public-read", "public-read-write"})
SSE_ALGORITHMS = frozenset({"AES256", "KMS", "SM4"})


def _no_buckets(args, topology):
    if not topology.buckets:
        args.not_applicable("no OSS bucket in the stack")


def bucket_policies(bucket, topology) -> list[tuple[Any, dict | None]]:
    """(resource, document) of every policy on the bucket: the inline `policy` and each oss.BucketPolicy.
    The document is None while unknown (preview); it is judged at `pulumi up`."""
    out = []
    if prop(bucket, "policy"):
        out.append((bucket, document(prop(bucket, "policy"))))
    for p in topology.of_type(BUCKET_POLICY):
        if attached_to(bucket, p):
            out.append((p, document(prop(p, "policy"))))
    return out


def _anonymous_allows(doc) -> list[dict]:
    return [s for s in statements(doc) if s.get("Effect") == "Allow" and "*" in principals(s)]


@stack_policy(
    name="bucket-private",
    description="OSS buckets are private (no public ACL, no bucket policy that allows Principal '*') and "
                "block public access.",
    level=MANDATORY,
    remediation="Give the bucket an oss.BucketAcl with acl private and an oss.BucketPublicAccessBlock with "
                "blockPublicAccess true, and grant access in bucket policies to named principals only.",
    tags=["security", "storage"],
    peers={"CKV_ALI_1": "", "oss-bucket-anonymous-prohibited": "", "oss-bucket-public-read-prohibited": "",
           "oss-bucket-public-write-prohibited": "", "oss-bucket-policy-no-any-anonymous": "",
           "oss-bucket-policy-outside-organization-check": ""},
)
def bucket_private(args, report, topology):
    _no_buckets(args, topology)
    acls = topology.of_type(BUCKET_ACL)
    blocks = topology.of_type(BUCKET_PUBLIC_ACCESS_BLOCK)
    for b in topology.buckets:
        inline = dig(b.props, "acl")
        if inline in PUBLIC_ACLS:
            report(f"bucket {b.name} has acl {inline}; make it private.", b.urn)
        for acl in acls:
            if attached_to(b, acl) and dig(acl.props, "acl") in PUBLIC_ACLS:
                report(f"bucket {b.name} is made {dig(acl.props, 'acl')} by {acl.name}; set acl private.", acl.urn)
        own = [p for p in blocks if attached_to(b, p)]
        if not any(truthy(dig(p.props, "blockPublicAccess")) for p in own):
            report(f"bucket {b.name} does not block public access; add an oss.BucketPublicAccessBlock "
                   "with blockPublicAccess true.", b.urn)
        for res, doc in bucket_policies(b, topology):
            for s in _anonymous_allows(doc):
                actions = s.get("Action")
                report(f"bucket {b.name}: the bucket policy of {res.name} allows {actions} to Principal '*' "
                       "(anyone); name the principals (RAM users or roles) instead.", res.urn)


@stack_policy(
    name="bucket-encrypted",
    description="OSS buckets encrypt data at rest (server-side encryption AES256, KMS or SM4).",
    level=MANDATORY,
    remediation="Set the bucket's serverSideEncryptionRule {sseAlgorithm: AES256|KMS|SM4} or add an "
                "oss.BucketServerSideEncryption.",
    tags=["security", "storage"],
    peers={"oss-bucket-server-side-encryption-enabled": ""},
)
def bucket_encrypted(args, report, topology):
    _no_buckets(args, topology)
    sse = topology.of_type(BUCKET_SSE)
    for b in topology.buckets:
        inline = dig(b.props, "serverSideEncryptionRule", "sseAlgorithm")
        separate = [dig(s.props, "sseAlgorithm") for s in sse if attached_to(b, s)]
        if inline not in SSE_ALGORITHMS and not any(a in SSE_ALGORITHMS for a in separate):
            report(f"bucket {b.name} has no server-side encryption; set serverSideEncryptionRule "
                   "sseAlgorithm to AES256, KMS or SM4.", b.urn)


@stack_policy(
    name="bucket-versioned",
    description="OSS buckets keep object versions, so an overwrite or delete of Milvus data can be undone.",
    level=MANDATORY,
    remediation="Set the bucket's versioning {status: Enabled} or add an oss.BucketVersioning with status "
                "Enabled.",
    tags=["data-safety", "storage"],
    peers={"CKV_ALI_10": "", "oss-bucket-versioning-enabled": "", "oss-bucket-backup-enable": ""},
)
def bucket_versioned(args, report, topology):
    _no_buckets(args, topology)
    separate_all = topology.of_type(BUCKET_VERSIONING)
    for b in topology.buckets:
        separate = [str(dig(v.props, "status", default="")) for v in separate_all if attached_to(b, v)]
        status = separate[-1] if separate else str(dig(b.props, "versioning", "status", default=""))
        if status != "Enabled":
            report(f"bucket {b.name} has versioning {status or 'off'}; set it to Enabled.", b.urn)


def _log_targets(topology) -> set[str]:
    """Names of the buckets other buckets deliver their access logs to."""
    names = set()
    for b in topology.buckets:
        target = prop(b, "logging", "targetBucket")
        if isinstance(target, str):
            names.add(target)
    for lg in topology.of_type(BUCKET_LOGGING):
        target = prop(lg, "targetBucket")
        if isinstance(target, str):
            names.add(target)
        for d in lg.property_dependencies.get("targetBucket", []):
            name = prop(d, "bucket")
            if isinstance(name, str):
                names.add(name)
    return names


@stack_policy(
    name="bucket-access-logged",
    description="OSS buckets deliver access logs to a log bucket, so every read and delete of Milvus data "
                "can be traced.",
    level=MANDATORY,
    remediation="Add an oss.BucketLogging (targetBucket: a private log bucket) or set the bucket's logging "
                "{targetBucket}; the milvus-zones Storage component does this unless security.bucketAccessLogging "
                "is false.",
    tags=["security", "audit", "storage"],
    peers={"CKV_ALI_12": "partial: a bucket that is itself the target of access logs is exempt",
           "oss-bucket-logging-enabled": "partial: a bucket that is itself the target of access logs is exempt"},
)
def bucket_access_logged(args, report, topology):
    _no_buckets(args, topology)
    targets = _log_targets(topology)
    loggings = topology.of_type(BUCKET_LOGGING)
    for b in topology.buckets:
        if prop(b, "bucket") in targets:
            continue
        inline = prop(b, "logging", "targetBucket")
        separate = [lg for lg in loggings if attached_to(b, lg)]
        if not inline and not separate:
            report(f"bucket {b.name} has no access logging; add an oss.BucketLogging with a targetBucket.", b.urn)


@stack_policy(
    name="bucket-customer-managed-key",
    description="OSS buckets encrypt with a customer-managed KMS key (sseAlgorithm KMS with kmsMasterKeyId), "
                "so revoking the key revokes the data; opt-in (OSS-managed AES256 is milvus-zones' default).",
    level=OPT_IN,
    remediation="Set serverSideEncryptionRule {sseAlgorithm: KMS, kmsMasterKeyId: <a kms.Key>} (milvus-zones: "
                "security.bucketKmsKey true) and allow the Milvus role kms:GenerateDataKey and kms:Decrypt on it.",
    tags=["security", "encryption", "storage"],
    config_schema=PolicyConfigSchema(properties={
        "exempt": {"type": "array", "items": {"type": "string"}, "default": [],
                   "description": "Bucket names allowed to keep OSS-managed keys (AES256)."},
    }),
    peers={"CKV_ALI_6": "", "oss-default-encryption-kms": "", "oss-encryption-byok-check": ""},
)
def bucket_customer_managed_key(args, report, topology):
    _no_buckets(args, topology)
    exempt = set(args.get_config().get("exempt") or [])
    sse = topology.of_type(BUCKET_SSE)
    for b in topology.buckets:
        if prop(b, "bucket") in exempt:
            continue
        rules = [(prop(b, "serverSideEncryptionRule", "sseAlgorithm"),
                  prop(b, "serverSideEncryptionRule", "kmsMasterKeyId"),
                  b.property_dependencies.get("serverSideEncryptionRule", []))]
        rules += [(prop(s, "sseAlgorithm"), prop(s, "kmsMasterKeyId"), s.property_dependencies.get("kmsMasterKeyId", []))
                  for s in sse if attached_to(b, s)]
        if not any(alg == "KMS" and (key or deps) for alg, key, deps in rules):
            report(f"bucket {b.name} is encrypted with OSS-managed keys, not a customer-managed KMS key; set "
                   "sseAlgorithm KMS with kmsMasterKeyId.", b.urn)


def _kms_encrypted(bucket, topology) -> bool:
    """The bucket encrypts with SSE-KMS: inline, or through an oss.BucketServerSideEncryption."""
    if prop(bucket, "serverSideEncryptionRule", "sseAlgorithm") == "KMS":
        return True
    return any(prop(s, "sseAlgorithm") == "KMS" for s in topology.of_type(BUCKET_SSE) if attached_to(bucket, s))


@stack_policy(
    name="bucket-replication-kms-objects",
    description="A replication rule from or to a bucket encrypted with a customer-managed KMS key replicates "
                "SSE-KMS objects (sourceSelectionCriteria.sseKmsEncryptedObjects Enabled, with "
                "encryptionConfiguration.replicaKmsKeyId): OSS skips those objects otherwise, so the copy in the "
                "other region silently lacks them.",
    level=MANDATORY,
    remediation="Set sourceSelectionCriteria {sseKmsEncryptedObjects: {status: Enabled}} and "
                "encryptionConfiguration {replicaKmsKeyId: <the destination bucket's key>} on the "
                "oss.BucketReplication, and allow its syncRole kms:Decrypt and kms:GenerateDataKey on both keys.",
    tags=["storage", "encryption", "cross-region"],
)
def bucket_replication_kms_objects(args, report, topology):
    rules = topology.of_type(BUCKET_REPLICATION)
    if not rules:
        args.not_applicable("no oss.BucketReplication in the stack")
    for r in rules:
        dest = prop(r, "destination", "bucket")
        ends = [b for b in topology.buckets if attached_to(b, r) or (isinstance(dest, str) and prop(b, "bucket") == dest)]
        keyed = [b.name for b in ends if _kms_encrypted(b, topology)]
        if not keyed:
            continue
        enabled = prop(r, "sourceSelectionCriteria", "sseKmsEncryptedObjects", "status") == "Enabled"
        try:
            replica_key = dig(r.props, "encryptionConfiguration", "replicaKmsKeyId")
        except UnknownValueError:
            replica_key = True  # a key created in the same run: known at `pulumi up`
        if not (enabled and replica_key):
            report(f"{r.name} replicates between buckets encrypted with KMS ({', '.join(keyed)}) without "
                   "sseKmsEncryptedObjects Enabled and a replicaKmsKeyId: OSS will not copy their SSE-KMS objects.",
                   r.urn)


def _denies_plain_http(doc) -> bool:
    for s in statements(doc):
        cond = s.get("Condition") or {}
        secure = dig(cond, "Bool", "acs:SecureTransport")
        if s.get("Effect") == "Deny" and "*" in principals(s) and str(secure).lower() == "false":
            return True
    return False


@stack_policy(
    name="bucket-https-only",
    description="OSS buckets refuse plain-HTTP requests (a bucket policy denies acs:SecureTransport false), "
                "so Milvus' data never crosses the network unencrypted; access-log buckets are exempt.",
    level=ADVISORY,
    remediation="Add an oss.BucketPolicy with a Deny statement for Principal '*', Action oss:*, Condition "
                "{Bool: {acs:SecureTransport: 'false'}}; Milvus' externalS3.useSSL is true.",
    tags=["security", "encryption", "storage"],
    peers={"oss-bucket-only-https-enabled": "partial: a bucket that only receives access logs (written by OSS "
                                            "itself) is exempt",
           "oss-bucket-tls-version-check": "partial: the peer only asks for a bucket policy; this one asks for "
                                           "the Deny on plain HTTP"},
)
def bucket_https_only(args, report, topology):
    _no_buckets(args, topology)
    targets = _log_targets(topology)
    for b in topology.buckets:
        if prop(b, "bucket") in targets:
            continue
        docs = bucket_policies(b, topology)
        if any(doc is None for _, doc in docs):
            continue  # unknown at preview
        if not any(_denies_plain_http(doc) for _, doc in docs):
            report(f"bucket {b.name} accepts plain HTTP; add a bucket policy that denies acs:SecureTransport "
                   "false.", b.urn)
