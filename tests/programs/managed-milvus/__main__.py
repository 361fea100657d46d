"""Managed Milvus (Vector Retrieval Service for Milvus) in two zones, written with pulumi_alicloud."""

import pulumi
import pulumi_alicloud as alicloud

cfg = pulumi.Config()
zones = cfg.require_object("zones")
query_replicas = cfg.get_int("queryReplicas") or 2
proxy_replicas = cfg.get_int("proxyReplicas") or 2
one_zone_switches = cfg.get_bool("oneZoneSwitches") is True  # both vSwitches in the primary zone
encrypted = cfg.get_bool("encrypted") is not False
auto_backup = cfg.get_bool("autoBackup") is not False

vpc = alicloud.vpc.Network("vpc", vpc_name="managed-milvus", cidr_block="10.1.0.0/16")
switch_zones = [zones[0]] * len(zones) if one_zone_switches else zones
switches = [
    alicloud.vpc.Switch(f"vsw-{i}", vpc_id=vpc.id, zone_id=z, cidr_block=f"10.1.{i * 16}.0/20")
    for i, z in enumerate(switch_zones)
]

key = alicloud.kms.Key(
    "milvus-key", description="managed Milvus data", automatic_rotation="Enabled", rotation_interval="31536000s",
    deletion_protection="Enabled", pending_window_in_days=30, opts=pulumi.ResourceOptions(protect=True),
)

alicloud.MilvusInstance(
    "milvus",
    instance_name="managed-milvus",
    db_version=cfg.get("dbVersion") or "2.6",
    multi_zone_mode=cfg.get("multiZoneMode") or "Two",
    ha=cfg.get_bool("ha") is not False,
    is_multi_az_storage=cfg.get_bool("multiAzStorage") is not False,
    payment_type="PayAsYouGo",
    vpc_id=vpc.id,
    zone_id=zones[0],
    vswitch_ids=[{"vsw_id": s.id, "zone_id": z} for s, z in zip(switches, switch_zones, strict=True)],
    components=[
        {"type": "proxy", "cu_num": 4, "replica": proxy_replicas},
        {"type": "mix_coordinator", "cu_num": 4, "replica": 2},
        {"type": "data", "cu_num": 4, "replica": 2},
        {"type": "query", "cu_num": 8, "replica": query_replicas},
        {"type": "streaming", "cu_num": 4, "replica": 2},
    ],
    db_admin_password=cfg.require_secret("adminPassword"),
    encrypted=encrypted,
    kms_key_id=key.id if encrypted else None,
    auto_backup=auto_backup,
    opts=pulumi.ResourceOptions(protect=True),
)
