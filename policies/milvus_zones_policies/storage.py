"""Data safety of the OSS buckets: private with public access blocked, encrypted, versioned.

Each rule accepts the inline bucket argument or the separate resource pulumi-alicloud offers for it
(BucketAcl, BucketPublicAccessBlock, BucketServerSideEncryption, BucketVersioning), linked to the
bucket through its `bucket` argument.
"""

from __future__ import annotations

from ._policy import MANDATORY, stack_policy
from .model.deployment import (
    BUCKET_ACL,
    BUCKET_PUBLIC_ACCESS_BLOCK,
    BUCKET_SSE,
    BUCKET_VERSIONING,
    attached_to,
)
from .model.values import dig, truthy

PUBLIC_ACLS = frozenset({"public-read", "public-read-write"})
SSE_ALGORITHMS = frozenset({"AES256", "KMS", "SM4"})


def _no_buckets(args, topology):
    if not topology.buckets:
        args.not_applicable("no OSS bucket in the stack")


@stack_policy(
    name="bucket-private",
    description="OSS buckets are private (no public-read ACL) and block public access.",
    level=MANDATORY,
    remediation="Give the bucket an oss.BucketAcl with acl private and an oss.BucketPublicAccessBlock with "
                "blockPublicAccess true.",
    tags=["security", "storage"],
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


@stack_policy(
    name="bucket-encrypted",
    description="OSS buckets encrypt data at rest (server-side encryption AES256, KMS or SM4).",
    level=MANDATORY,
    remediation="Set the bucket's serverSideEncryptionRule {sseAlgorithm: AES256|KMS|SM4} or add an "
                "oss.BucketServerSideEncryption.",
    tags=["security", "storage"],
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
)
def bucket_versioned(args, report, topology):
    _no_buckets(args, topology)
    separate_all = topology.of_type(BUCKET_VERSIONING)
    for b in topology.buckets:
        separate = [str(dig(v.props, "status", default="")) for v in separate_all if attached_to(b, v)]
        status = separate[-1] if separate else str(dig(b.props, "versioning", "status", default=""))
        if status != "Enabled":
            report(f"bucket {b.name} has versioning {status or 'off'}; set it to Enabled.", b.urn)
