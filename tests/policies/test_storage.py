"""bucket-private, bucket-encrypted, bucket-versioned."""

from __future__ import annotations

from support.policytest import (
    check,
    edited,
    graph,
    messages,
    resource,
    violated,
    with_resource,
    without,
)

BUCKET_RULES = {"bucket-private", "bucket-encrypted", "bucket-versioned"}


def _attached(g, name, type_, props):
    """A bucket-level resource pointing at bucket `data` by dependency, as `bucket=bucket.bucket` does."""
    return with_resource(g, "data", name, type_, {"bucket": "milvus-on-ack-data", **props},
                         {"bucket": [resource(g, "data", "Bucket").urn]})


def test_compliant_bucket_passes():
    assert not violated(check(graph("ha-compliant")), None) & BUCKET_RULES


def test_public_read_acl_violates():
    g = edited(graph("ha-compliant"), "data-acl", lambda p: p.__setitem__("acl", "public-read"))
    report = check(g)
    assert violated(report) == {"bucket-private"}
    (v,) = report.violations
    assert v.resource_name == "data-acl" and "public-read" in v.message


def test_inline_public_acl_violates():
    g = edited(graph("ha-compliant"), "data", lambda p: p.__setitem__("acl", "public-read-write"), "Bucket")
    assert "acl public-read-write" in messages(check(g), "bucket-private")[0]


def test_missing_public_access_block_violates():
    report = check(without(graph("ha-compliant"), "data-pab"))
    assert violated(report) == {"bucket-private"}
    assert "BucketPublicAccessBlock" in messages(report, "bucket-private")[0]


def test_unencrypted_bucket_violates_and_separate_encryption_resource_fixes_it():
    g = edited(graph("ha-compliant"), "data", lambda p: p.pop("serverSideEncryptionRule"), "Bucket")
    assert violated(check(g)) == {"bucket-encrypted"}
    fixed = _attached(g, "data-sse", "alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption",
                      {"sseAlgorithm": "KMS"})
    assert not check(fixed).violations


def test_unversioned_bucket_violates_and_separate_versioning_resource_fixes_it():
    g = edited(graph("ha-compliant"), "data", lambda p: p.pop("versioning"), "Bucket")
    report = check(g)
    assert violated(report) == {"bucket-versioned"}
    assert "versioning off" in messages(report, "bucket-versioned")[0]
    fixed = _attached(g, "data-versioning", "alicloud:oss/bucketVersioning:BucketVersioning", {"status": "Enabled"})
    assert not check(fixed).violations


def test_separate_versioning_suspended_overrides_the_inline_setting():
    g = _attached(graph("ha-compliant"), "data-versioning", "alicloud:oss/bucketVersioning:BucketVersioning",
                  {"status": "Suspended"})
    assert "versioning Suspended" in messages(check(g), "bucket-versioned")[0]


def test_attachment_by_bucket_name_without_dependency():
    # A hand-written program may pass the bucket's name as a literal string.
    g = edited(graph("ha-compliant"), "data", lambda p: p.pop("serverSideEncryptionRule"), "Bucket")
    g = with_resource(g, "data", "data-sse", "alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption",
                      {"bucket": "milvus-on-ack-data", "sseAlgorithm": "AES256"})
    assert not check(g).violations
