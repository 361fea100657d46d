"""Deployments stay in the regions the organisation allows (pack config)."""

from __future__ import annotations

from pulumi_policy import PolicyConfigSchema

from ._policy import MANDATORY, resource_policy
from .model.values import dig, region_of_zone

ZONED = {
    "alicloud:vpc/switch:Switch": "zoneId",
    "alicloud:index/milvusInstance:MilvusInstance": "zoneId",
}


@resource_policy(
    name="allowed-regions",
    description="Alibaba Cloud resources are created only in the regions the pack config allows "
                "(any region when the list is empty).",
    level=MANDATORY,
    remediation="Deploy to one of the allowed regions (alicloud:region and zone ids), or extend this "
                "policy's allowedRegions in the policy pack config.",
    tags=["governance"],
    config_schema=PolicyConfigSchema(
        properties={
            "allowedRegions": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Region ids, e.g. cn-hangzhou; empty allows every region.",
            },
        },
    ),
)
def allowed_regions(args, report):
    allowed = [str(r) for r in args.get_config().get("allowedRegions") or []]
    if not allowed or not args.resource_type.startswith(("alicloud:", "pulumi:providers:alicloud")):
        return
    regions: dict[str, str] = {}
    if args.resource_type == "pulumi:providers:alicloud":
        region = args.props.get("region")
        if isinstance(region, str) and region:
            regions[region] = "provider region"
    elif args.provider is not None and args.provider.resource_type == "pulumi:providers:alicloud":
        region = args.provider.props.get("region")
        if isinstance(region, str) and region:
            regions[region] = f"provider {args.provider.name} region"
    key = ZONED.get(args.resource_type)
    zone = dig(args.props, key) if key else None
    if isinstance(zone, str) and zone:
        regions.setdefault(region_of_zone(zone), f"{key} {zone}")
    for region, source in regions.items():
        if region not in allowed:
            report(f"{args.name} is in region {region} ({source}); allowed regions: {', '.join(allowed)}.")
