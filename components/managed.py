"""The same modes on Alibaba Cloud's managed Milvus: an alicloud.MilvusInstance in a VPC of the stack's own."""

from typing import TypedDict

import pulumi
import pulumi_alicloud as alicloud
from milvus_zones.components.network import Network

from milvus_zones.planning.plan import ManagedInstancePlan, TopologyPlan


class ManagedMilvusArgs(TypedDict):
    plan: TopologyPlan
    """Region, zones and address plan (its self-hosted parts are not used)."""
    instance: ManagedInstancePlan
    """Mode-dependent instance arguments: zones, HA, multi-AZ storage, components."""
    admin_password: pulumi.Input[str]
    """Milvus administrator password, a Pulumi secret (8-30 characters: upper, lower, digit and one of @#$%^*_+-)."""


class ManagedMilvus(pulumi.ComponentResource):
    """VPC and vSwitches in the compute zones, a KMS key, and the managed instance encrypted with it.

    The instance and the key are protected: destroying either loses the data.
    """

    vpc_id: pulumi.Output[str]
    instance_id: pulumi.Output[str]
    kms_key_id: pulumi.Output[str]

    def __init__(self, name: str, args: ManagedMilvusArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("milvus-zones:index:ManagedMilvus", name, {}, opts)
        plan, inst = args["plan"], args["instance"]
        given = self.get_provider("alicloud:index:Provider")
        region = given if isinstance(given, alicloud.Provider) else alicloud.Provider(
            f"{name}-{plan.region}", region=plan.region, opts=pulumi.ResourceOptions(parent=self))
        in_region = pulumi.ResourceOptions(parent=self, providers={"alicloud": region})

        # The service runs its own nodes and egress; the stack's VPC only needs vSwitches to attach to.
        node_switches = tuple(v for v in plan.vswitches if v.purpose == "node" and v.zone in inst.vswitch_zones)
        network = Network(
            f"{name}-net",
            {"vpc_cidr": plan.vpc_cidr, "vswitches": node_switches, "egress": (), "tags": plan.tags},
            opts=in_region,
        )
        key = alicloud.kms.Key(
            f"{name}-kms",
            description=f"Encrypts the data of managed Milvus {name}",
            key_spec="Aliyun_AES_256",
            key_usage="ENCRYPT/DECRYPT",
            protection_level="SOFTWARE",
            automatic_rotation="Enabled",
            rotation_interval="31536000s",
            pending_window_in_days=30,
            tags=plan.tags,
            # Without the key the instance's data cannot be read: never deleted by a routine run.
            opts=pulumi.ResourceOptions(parent=self, providers={"alicloud": region}, protect=True),
        )
        instance = alicloud.MilvusInstance(
            f"{name}-instance",
            instance_name=name,
            db_version=inst.db_version,
            payment_type="PayAsYouGo",
            vpc_id=network.vpc_id,
            zone_id=inst.zone_id,
            vswitch_ids=[{"vsw_id": network.node_vswitch_ids[z], "zone_id": z} for z in inst.vswitch_zones],
            multi_zone_mode=inst.multi_zone_mode,
            ha=inst.ha,
            is_multi_az_storage=inst.multi_az_storage,
            load_replicas=inst.load_replicas,
            components=[{"type": c.type, "cu_num": c.cu_num, "replica": c.replica} for c in inst.components],
            encrypted=True,
            kms_key_id=key.id,
            auto_backup=inst.auto_backup,
            db_admin_password=pulumi.Output.secret(args["admin_password"]),
            tags=plan.tags,
            opts=pulumi.ResourceOptions(parent=self, providers={"alicloud": region}, protect=True),
        )

        self.vpc_id = network.vpc_id
        self.instance_id = instance.id
        self.kms_key_id = key.id
        self.register_outputs({"vpc_id": self.vpc_id, "instance_id": self.instance_id, "kms_key_id": self.kms_key_id})
