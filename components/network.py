"""VPC, a node and a Terway pod vSwitch per zone, and egress that survives the loss of a zone."""

from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud

from milvus_zones.planning.plan import EgressPlan, VSwitchPlan, zone_suffix


class NetworkArgs(TypedDict):
    vpc_cidr: str
    """CIDR block of the VPC."""
    vswitches: Sequence[VSwitchPlan]
    """The node and pod vSwitches, one of each per zone, from the plan."""
    egress: Sequence[EgressPlan]
    """NAT gateways: where each lives and which zones route through it."""
    tags: dict[str, str]
    """Tags for every taggable resource."""
    vpc_id: NotRequired[pulumi.Input[str]]
    """An existing VPC to build in instead of a new one (no NAT egress is added: its routes are the team's)."""
    existing_vswitch_ids: NotRequired[dict[str, pulumi.Input[str]]]
    """VSwitchPlan.key (e.g. "node-h") -> an existing vSwitch of that VPC in that zone; the others are created."""


class Network(pulumi.ComponentResource):
    """The VPC of one region. Each zone routes to the internet through a NAT gateway in that zone."""

    vpc_id: pulumi.Output[str]
    node_vswitch_ids: dict[str, pulumi.Output[str]]
    """Zone -> node vSwitch id; one Output per zone so that dependents depend on exactly their switches."""
    pod_vswitch_ids: dict[str, pulumi.Output[str]]
    route_table_ids: dict[str, pulumi.Output[str]]
    """Zone -> the route table of its vSwitches (one per NAT gateway); empty without egress."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("milvus-zones:index:Network", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args["tags"]
        existing = dict(args.get("existing_vswitch_ids") or {})
        vpc: alicloud.vpc.Network | None = None
        if args.get("vpc_id") is None:
            vpc = alicloud.vpc.Network(
                f"{name}-vpc", vpc_name=f"{name}-vpc", cidr_block=args["vpc_cidr"], tags=tags, opts=child
            )
            vpc_id: pulumi.Output[str] = vpc.id
        else:
            vpc_id = pulumi.Output.from_input(args["vpc_id"])
        switches: dict[tuple[str, str], alicloud.vpc.Switch] = {}
        ids: dict[tuple[str, str], pulumi.Output[str]] = {}
        for vsw in args["vswitches"]:
            if vsw.key in existing:
                ids[(vsw.purpose, vsw.zone)] = self._verified(name, vpc_id, vsw, existing[vsw.key])
                continue
            switch = alicloud.vpc.Switch(
                f"{name}-{vsw.key}",
                vpc_id=vpc_id,
                zone_id=vsw.zone,
                cidr_block=vsw.cidr,
                vswitch_name=f"{name}-{vsw.key}",
                tags=tags,
                opts=child,
            )
            switches[(vsw.purpose, vsw.zone)] = switch
            ids[(vsw.purpose, vsw.zone)] = switch.id

        self.route_table_ids = {}
        if vpc is not None:
            for nat_plan in args["egress"]:
                table = self._egress(name, vpc, switches, nat_plan, tags)
                self.route_table_ids.update({z: table.id for z in nat_plan.serves})

        self.vpc_id = vpc_id
        self.node_vswitch_ids = {z: i for (purpose, z), i in ids.items() if purpose == "node"}
        self.pod_vswitch_ids = {z: i for (purpose, z), i in ids.items() if purpose == "pod"}
        self.register_outputs(
            {"vpc_id": self.vpc_id, "node_vswitch_ids": self.node_vswitch_ids, "pod_vswitch_ids": self.pod_vswitch_ids,
             "route_table_ids": self.route_table_ids}
        )

    def _verified(self, name: str, vpc_id: pulumi.Output[str], vsw: VSwitchPlan,
                  given: pulumi.Input[str]) -> pulumi.Output[str]:
        """The given vSwitch's id, once its real zone and VPC are known to be the ones the plan needs.

        The vSwitch is read into the stack (`Switch.get`: a read, never created, updated or deleted).
        Dependents take the id from this Output, so a vSwitch in the wrong zone or VPC stops them before
        anything uses it. The policy pack never sees the read (the engine sends no read to policies): it
        takes the zone from the pack config's externalResources, written from the plan, which this check
        holds the cloud to.
        """
        read = alicloud.vpc.Switch.get(
            f"{name}-{vsw.key}", given, vpc_id=vpc_id, zone_id=vsw.zone, opts=pulumi.ResourceOptions(parent=self)
        )

        def check(args: list) -> str:
            vswitch_id, zone, in_vpc, want_vpc = args
            if zone != vsw.zone or in_vpc != want_vpc:
                raise pulumi.RunError(
                    f"{self._name}: vSwitch {vswitch_id} (given for the {vsw.purpose} vSwitch of zone {vsw.zone}) is "
                    f"in zone {zone} of {in_vpc}; the plan needs one in zone {vsw.zone} of {want_vpc}: give one that "
                    "is, or leave the zone out to have it created"
                )
            return vswitch_id

        return pulumi.Output.all(read.id, read.zone_id, read.vpc_id, vpc_id).apply(check)

    def _egress(self, name, vpc, switches, nat_plan: EgressPlan, tags) -> alicloud.vpc.RouteTable:
        # A NAT gateway is zonal: one per zone, and a route table per zone that points at it, so that
        # losing a zone costs only that zone's egress.
        child = pulumi.ResourceOptions(parent=self)
        suffix = zone_suffix(nat_plan.zone)
        nat = alicloud.vpc.NatGateway(
            f"{name}-nat-{suffix}",
            vpc_id=vpc.id,
            vswitch_id=switches[("node", nat_plan.zone)].id,
            nat_gateway_name=f"{name}-nat-{suffix}",
            nat_type="Enhanced",
            network_type="internet",
            payment_type="PayAsYouGo",
            internet_charge_type="PayByLcu",
            # The zone's only way out to registries and the ACK/OSS/KMS endpoints.
            deletion_protection=True,
            tags=tags,
            opts=child,
        )
        eip = alicloud.ecs.EipAddress(
            f"{name}-eip-{suffix}",
            address_name=f"{name}-eip-{suffix}",
            bandwidth="200",
            internet_charge_type="PayByTraffic",
            payment_type="PayAsYouGo",
            tags=tags,
            opts=child,
        )
        assoc = alicloud.ecs.EipAssociation(
            f"{name}-eip-{suffix}-assoc", allocation_id=eip.id, instance_id=nat.id, instance_type="Nat", opts=child
        )
        table = alicloud.vpc.RouteTable(
            f"{name}-rt-{suffix}", vpc_id=vpc.id, route_table_name=f"{name}-rt-{suffix}",
            associate_type="VSwitch", tags=tags, opts=child,
        )
        alicloud.vpc.RouteEntry(
            f"{name}-rt-{suffix}-default",
            route_table_id=table.id,
            destination_cidrblock="0.0.0.0/0",
            nexthop_type="NatGateway",
            nexthop_id=nat.id,
            opts=child,
        )
        for zone in nat_plan.serves:
            for purpose in ("node", "pod"):
                vsw = switches[(purpose, zone)]
                leg = f"{purpose}-{zone_suffix(zone)}"
                alicloud.vpc.RouteTableAttachment(
                    f"{name}-rt-{suffix}-{leg}", route_table_id=table.id, vswitch_id=vsw.id, opts=child
                )
                alicloud.vpc.SnatEntry(
                    f"{name}-snat-{suffix}-{leg}",
                    snat_table_id=nat.snat_table_ids,
                    source_vswitch_id=vsw.id,
                    snat_ip=eip.ip_address,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[assoc]),
                )
        return table
