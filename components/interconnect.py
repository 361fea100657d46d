"""Private routing between the regions of cross-region-ha: a CEN with a transit router per region."""

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_alicloud as alicloud

from milvus_zones.planning.plan import zone_suffix


@dataclass(frozen=True)
class RegionNetwork:
    """What the interconnect needs of one region's network."""

    region: str
    provider: alicloud.Provider
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    attach_vswitch_ids: dict[str, pulumi.Input[str]]  # zone -> vSwitch the transit router attaches to
    route_table_ids: dict[str, pulumi.Input[str]]  # zone -> route table that needs the peer's routes


class Interconnect(pulumi.ComponentResource):
    """CEN, a transit router and VPC attachment per region, a peer attachment between the routers, and
    routes to the other region's VPC in every zone's route table.

    Both attachments associate with and propagate to the routers' system route tables, so each
    router learns the other VPC's CIDR through the peer attachment.
    """

    cen_id: pulumi.Output[str]

    def __init__(self, name: str, regions: Sequence[RegionNetwork], tags: dict[str, str],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("milvus-zones:index:Interconnect", name, {}, opts)
        if len(regions) != 2:
            raise ValueError(f"an interconnect joins two regions; got {len(regions)}")
        first = regions[0]
        cen = alicloud.cen.Instance(
            f"{name}-cen", cen_instance_name=f"{name}-cen", protection_level="REDUCED", tags=tags,
            opts=pulumi.ResourceOptions(parent=self, provider=first.provider),
        )
        routers: dict[str, alicloud.cen.TransitRouter] = {}
        attachments: dict[str, alicloud.cen.TransitRouterVpcAttachment] = {}
        for r in regions:
            in_region = pulumi.ResourceOptions(parent=self, provider=r.provider)
            routers[r.region] = alicloud.cen.TransitRouter(
                f"{name}-tr-{r.region}", cen_id=cen.id, transit_router_name=f"{name}-{r.region}", tags=tags,
                opts=in_region,
            )
            attachments[r.region] = alicloud.cen.TransitRouterVpcAttachment(
                f"{name}-vpc-{r.region}",
                cen_id=cen.id,
                transit_router_id=routers[r.region].transit_router_id,
                vpc_id=r.vpc_id,
                # Attached in two zones: the router keeps the VPC reachable when one zone is lost.
                zone_mappings=[{"zone_id": z, "vswitch_id": v} for z, v in sorted(r.attach_vswitch_ids.items())],
                transit_router_vpc_attachment_name=f"{name}-{r.region}",
                route_table_association_enabled=True,
                route_table_propagation_enabled=True,
                tags=tags,
                opts=in_region,
            )
        a, b = regions
        peer = alicloud.cen.TransitRouterPeerAttachment(
            f"{name}-peer",
            cen_id=cen.id,
            transit_router_id=routers[a.region].transit_router_id,
            peer_transit_router_id=routers[b.region].transit_router_id,
            peer_transit_router_region_id=b.region,
            bandwidth_type="DataTransfer",  # billed per GB: no bandwidth package to size or forget
            transit_router_peer_attachment_name=f"{name}-{a.region}-{b.region}",
            route_table_association_enabled=True,
            route_table_propagation_enabled=True,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, provider=a.provider, depends_on=list(attachments.values())),
        )
        for here, there in ((a, b), (b, a)):
            for zone, table in sorted(here.route_table_ids.items()):
                alicloud.vpc.RouteEntry(
                    f"{name}-route-{here.region}-{zone_suffix(zone)}",
                    route_table_id=table,
                    destination_cidrblock=there.vpc_cidr,
                    nexthop_type="Attachment",
                    nexthop_id=attachments[here.region].transit_router_attachment_id,
                    opts=pulumi.ResourceOptions(parent=self, provider=here.provider, depends_on=[peer]),
                )

        self.cen_id = cen.id
        self.register_outputs({"cen_id": self.cen_id})
