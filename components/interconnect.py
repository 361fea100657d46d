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

    Each router has a route table of the stack's; its VPC attachment and the peer attachment are
    associated with it and propagate their routes to it, so each router learns its own VPC's CIDR
    from the VPC attachment and the other VPC's CIDR through the peer attachment. The attachments'
    `route_table_association_enabled` / `route_table_propagation_enabled` flags are deprecated since
    terraform-provider-alicloud 1.230.0 and never sent to the API (aliyun/terraform-provider-alicloud
    #5588, #7614): without these resources the link carries no routes.
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
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, provider=a.provider, depends_on=list(attachments.values())),
        )
        routed: list[pulumi.Resource] = []
        for r in regions:
            in_region = pulumi.ResourceOptions(parent=self, provider=r.provider)
            table = alicloud.cen.TransitRouterRouteTable(
                f"{name}-rtb-{r.region}",
                transit_router_id=routers[r.region].transit_router_id,
                transit_router_route_table_name=f"{name}-{r.region}",
                transit_router_route_table_description="Routes between the regions of cross-region-ha",
                tags=tags,
                opts=in_region,
            )
            # The peer attachment belongs to both routers: each associates it and learns from it.
            for key, attachment in (("vpc", attachments[r.region]), ("peer", peer)):
                link = {"transit_router_route_table_id": table.transit_router_route_table_id,
                        "transit_router_attachment_id": attachment.transit_router_attachment_id}
                routed.append(alicloud.cen.TransitRouterRouteTableAssociation(
                    f"{name}-assoc-{r.region}-{key}", **link, opts=in_region))
                routed.append(alicloud.cen.TransitRouterRouteTablePropagation(
                    f"{name}-prop-{r.region}-{key}", **link, opts=in_region))
        for here, there in ((a, b), (b, a)):
            for zone, table in sorted(here.route_table_ids.items()):
                alicloud.vpc.RouteEntry(
                    f"{name}-route-{here.region}-{zone_suffix(zone)}",
                    route_table_id=table,
                    destination_cidrblock=there.vpc_cidr,
                    nexthop_type="Attachment",
                    nexthop_id=attachments[here.region].transit_router_attachment_id,
                    opts=pulumi.ResourceOptions(parent=self, provider=here.provider, depends_on=[peer, *routed]),
                )

        self.cen_id = cen.id
        self.register_outputs({"cen_id": self.cen_id})
