"""ACK node pools: encrypted disks and automatic repair (resource policies on the pool's inputs)."""

from __future__ import annotations

from ._policy import MANDATORY, OPT_IN, resource_policy
from .cloud import prop
from .model.deployment import NODE_POOL
from .model.values import UnknownValueError, truthy

_DISKS = "partial: judged on the node pool that creates the nodes' disks"


def _data_disks(props) -> list:
    try:
        return list(props.get("dataDisks") or [])
    except UnknownValueError:
        return []


@resource_policy(
    name="node-pool-disks-encrypted",
    description="Node pools encrypt their system and data disks, so container images, logs and local volumes "
                "(etcd's, on quorum pools) are encrypted at rest.",
    level=MANDATORY,
    remediation="Set systemDiskEncrypted true (systemDiskEncryptAlgorithm aes-256) and encrypted true on every "
                "dataDisks entry; milvus-zones does this unless security.nodeDiskEncryption is false.",
    tags=["security", "encryption", "kubernetes"],
    peers={"CKV_ALI_7": _DISKS, "CKV_ALI_32": _DISKS,
           "ess-scaling-configuration-system-disk-encrypted": _DISKS,
           "ess-scaling-configuration-data-disk-encrypted": _DISKS},
)
def node_pool_disks_encrypted(args, report):
    if args.resource_type != NODE_POOL:
        return
    if not truthy(prop(args.props, "systemDiskEncrypted")):
        report(f"node pool {args.name} does not encrypt its system disks; set systemDiskEncrypted true.")
    for i, disk in enumerate(_data_disks(args.props)):
        if not truthy(prop(disk, "encrypted")):
            report(f"node pool {args.name}: data disk {i} is not encrypted; set encrypted true.")


@resource_policy(
    name="node-pool-disks-customer-key",
    description="Node pool disks are encrypted with a customer-managed KMS key rather than ECS' default service "
                "key; opt-in (the default key already encrypts, a customer key adds revocation).",
    level=OPT_IN,
    remediation="Set systemDiskKmsKey and each data disk's kmsKeyId to a kms.Key of the stack.",
    tags=["security", "encryption", "kubernetes"],
    peers={"CKV_ALI_8": _DISKS},
)
def node_pool_disks_customer_key(args, report):
    if args.resource_type != NODE_POOL:
        return
    try:
        key = args.props.get("systemDiskKmsKey")
    except UnknownValueError:
        key = "unknown"
    if not key:
        report(f"node pool {args.name} encrypts its system disks with the default service key; set "
               "systemDiskKmsKey.")
    for i, disk in enumerate(_data_disks(args.props)):
        try:
            disk_key = disk.get("kmsKeyId")
        except UnknownValueError:
            continue
        if not disk_key:
            report(f"node pool {args.name}: data disk {i} has no kmsKeyId.")


@resource_policy(
    name="node-pool-auto-repair",
    description="Node pools are managed with auto repair on, so a failed node is replaced without an operator, "
                "which the zone-loss recovery times assume.",
    level=MANDATORY,
    remediation="Set management {enable: true, autoRepair: true} on the node pool.",
    tags=["reliability", "kubernetes"],
    peers={"CKV_ALI_31": ""},
)
def node_pool_auto_repair(args, report):
    if args.resource_type != NODE_POOL:
        return
    enabled, repair = prop(args.props, "management", "enable"), prop(args.props, "management", "autoRepair")
    if not (truthy(enabled) and truthy(repair)):
        report(f"node pool {args.name} has no auto repair; set management.enable and management.autoRepair true.")
