"""bucket-replication-kms-objects, on cross-region-ha's backup replication with customer-managed keys."""

from __future__ import annotations

import json

from support.chart import stack_graph
from support.policytest import check, edited, messages, skipped, violated

REPLICATION = "alicloud:oss/bucketReplication:BucketReplication"
BUCKET = "alicloud:oss/bucket:Bucket"
POLICY = "bucket-replication-kms-objects"


def _kms():
    return stack_graph("cross-region-ha", security={"bucketKmsKey": True})


def _rules(g):
    return [r for r in g.resources if r.type == REPLICATION]


def test_backups_encrypted_with_kms_reach_the_other_region():
    g = _kms()
    buckets = {r.inputs["bucket"]: r for r in g.resources if r.type == BUCKET}
    rules = _rules(g)
    assert len(rules) == 2
    for rule in rules:
        assert rule.inputs["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
        # Replicas are encrypted with the destination bucket's own key (KMS keys are regional).
        dest = buckets[rule.inputs["destination"]["bucket"]]
        assert rule.inputs["encryptionConfiguration"]["replicaKmsKeyId"] == \
            dest.inputs["serverSideEncryptionRule"]["kmsMasterKeyId"]
        assert rule.inputs["bucket"] != dest.inputs["bucket"]
    # The role OSS replicates with may use both keys, and only them.
    (policy,) = [r for r in g.resources if r.name.endswith("-oss-replication") and r.type.endswith("Policy")
                 and r.type.startswith("alicloud:ram/policy")]
    kms = [s for s in json.loads(policy.inputs["policyDocument"])["Statement"] if s["Action"][0].startswith("kms:")]
    keys = sorted(r.outputs["arn"] for r in g.resources if r.type == "alicloud:kms/key:Key"
                  and r.name.endswith("bucket-key"))
    assert len(keys) == 2
    assert kms == [{"Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Effect": "Allow", "Resource": keys}]
    assert not check(g).violations


def test_replication_that_skips_kms_objects_violates():
    g = _kms()
    name = _rules(g)[0].name
    skipped = edited(g, name, lambda p: (p.pop("sourceSelectionCriteria"), p.pop("encryptionConfiguration")),
                     "BucketReplication")
    report = check(skipped)
    assert violated(report) == {POLICY}
    (msg,) = messages(report, POLICY)
    assert name in msg and "will not copy" in msg


def test_enabled_without_a_replica_key_violates():
    g = _kms()
    name = _rules(g)[0].name
    no_key = edited(g, name, lambda p: p.pop("encryptionConfiguration"), "BucketReplication")
    assert violated(check(no_key)) == {POLICY}


def test_oss_managed_keys_need_no_kms_selection():
    g = stack_graph("cross-region-ha")
    assert all("sourceSelectionCriteria" not in r.inputs for r in _rules(g))
    report = check(g)
    assert POLICY not in violated(report, None) | skipped(report)


def test_not_applicable_without_replication():
    assert POLICY in skipped(check(stack_graph("multi-zone-ha")))
