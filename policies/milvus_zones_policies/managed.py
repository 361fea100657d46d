"""The managed backend (alicloud.MilvusInstance): HA settings that agree, backups on, encrypted."""

from __future__ import annotations

from ._policy import MANDATORY, stack_policy
from .cloud import as_list, prop
from .model.values import as_int, truthy


def _instances_or_skip(args, topology):
    if not topology.instances:
        args.not_applicable("no MilvusInstance in the stack")
    return topology.instances


@stack_policy(
    name="managed-instance-ha-consistent",
    description="A managed Milvus instance's HA settings agree: ha with multiZoneMode Two, its vSwitches in "
                "two zones, and every component of an HA instance (proxies included) with two replicas or more.",
    level=MANDATORY,
    remediation="For HA set multiZoneMode Two, vswitchIds in two distinct zones (zoneId among them), and replica "
                ">= 2 on every component; or turn ha off for a single-zone instance.",
    tags=["ha", "managed"],
)
def managed_instance_ha_consistent(args, report, topology):
    for inst in _instances_or_skip(args, topology):
        ha = truthy(prop(inst, "ha"))
        mode = prop(inst, "multiZoneMode")
        switches = as_list(prop(inst, "vswitchIds"))
        zones = {str(prop(v, "zoneId")) for v in switches if prop(v, "zoneId")}
        if ha and mode == "Single":
            report(f"MilvusInstance {inst.name} is ha with multiZoneMode Single: one zone cannot fail over; set "
                   "multiZoneMode Two.", inst.urn)
        if mode == "Two" and switches and len(zones) < 2:
            report(f"MilvusInstance {inst.name} has multiZoneMode Two but its vSwitches are in "
                   f"{', '.join(sorted(zones)) or 'no zone'}; give it vSwitches in two zones.", inst.urn)
        zone_id = prop(inst, "zoneId")
        if mode == "Two" and zones and zone_id and zone_id not in zones:
            report(f"MilvusInstance {inst.name}: primary zoneId {zone_id} has no vSwitch.", inst.urn)
        if ha:
            for c in as_list(prop(inst, "components")):
                replicas = as_int(prop(c, "replica"))
                if replicas is not None and replicas < 2:
                    report(f"MilvusInstance {inst.name} is ha but component {prop(c, 'type')} has {replicas} "
                           "replica; HA needs two or more of each.", inst.urn)


@stack_policy(
    name="managed-instance-auto-backup",
    description="A managed Milvus instance takes automatic backups (autoBackup true).",
    level=MANDATORY,
    remediation="Set autoBackup true on the MilvusInstance.",
    tags=["data-safety", "managed"],
)
def managed_instance_auto_backup(args, report, topology):
    for inst in _instances_or_skip(args, topology):
        if not truthy(prop(inst, "autoBackup")):
            report(f"MilvusInstance {inst.name} has automatic backups off; set autoBackup true.", inst.urn)


@stack_policy(
    name="managed-instance-encrypted",
    description="A managed Milvus instance is encrypted with a KMS key of the stack (encrypted true, "
                "kmsKeyId set).",
    level=MANDATORY,
    remediation="Create a kms.Key (rotation and deletion protection on) and set encrypted true and kmsKeyId.",
    tags=["security", "encryption", "managed"],
)
def managed_instance_encrypted(args, report, topology):
    for inst in _instances_or_skip(args, topology):
        key = prop(inst, "kmsKeyId") or inst.property_dependencies.get("kmsKeyId")
        if not truthy(prop(inst, "encrypted")):
            report(f"MilvusInstance {inst.name} is not encrypted; set encrypted true with a kmsKeyId.", inst.urn)
        elif not key:
            report(f"MilvusInstance {inst.name} is encrypted without a kmsKeyId; use a key of the stack.", inst.urn)
