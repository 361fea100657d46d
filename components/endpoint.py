"""One client endpoint for cross-region-ha: private DNS names that both regions' VPCs resolve."""

from collections.abc import Mapping

import pulumi
import pulumi_alicloud as alicloud

from milvus_zones.planning.plan import EndpointPlan


class Endpoint(pulumi.ComponentResource):
    """A PrivateZone attached to every region's VPC, with a record per region (its proxies' load
    balancer) and the client record, a CNAME to the primary region's record.

    A switchover or failover changes `primaryRegion`; `pulumi up` then repoints the client record.
    Clients resolve it again within the record's TTL.
    """

    client_endpoint: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        plan: EndpointPlan,
        primary: str,
        load_balancer_dns: Mapping[str, pulumi.Input[str]],
        vpc_ids: Mapping[str, pulumi.Input[str]],
        provider: alicloud.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("milvus-zones:index:Endpoint", name, {}, opts)
        in_dns = pulumi.ResourceOptions(parent=self, provider=provider)
        zone = alicloud.pvtz.Zone(f"{name}-zone", zone_name=plan.zone, remark="milvus-zones cross-region endpoint",
                                  opts=in_dns)
        attach = alicloud.pvtz.ZoneAttachment(
            f"{name}-vpcs",
            zone_id=zone.id,
            vpcs=[{"vpc_id": vpc, "region_id": region} for region, vpc in sorted(vpc_ids.items())],
            opts=in_dns,
        )
        for region, record in sorted(plan.region_records.items()):
            alicloud.pvtz.ZoneRecord(
                f"{name}-{region}", zone_id=zone.id, rr=record, type="CNAME", value=load_balancer_dns[region],
                ttl=plan.ttl, opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[attach]),
            )
        alicloud.pvtz.ZoneRecord(
            f"{name}-client",
            zone_id=zone.id,
            rr=plan.client_record,
            type="CNAME",
            value=f"{plan.region_records[primary]}.{plan.zone}",
            ttl=plan.ttl,
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[attach]),
        )
        self.client_endpoint = pulumi.Output.from_input(f"{plan.client_record}.{plan.zone}:19530")
        self.register_outputs({"client_endpoint": self.client_endpoint})
