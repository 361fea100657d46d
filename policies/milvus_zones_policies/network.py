"""Network exposure and resilience: security group rules, NAT gateways, VPC flow logs, vSwitch sizes,
the proxies' NLB and the CEN links of cross-region-ha."""

from __future__ import annotations

import ipaddress

from ._policy import ADVISORY, MANDATORY, OPT_IN, mode_or_skip, resource_policy, stack_policy
from .cloud import (
    FLOW_LOG,
    NAT_GATEWAY,
    NLB,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    TR_ASSOCIATION,
    TR_PEER_ATTACHMENT,
    TR_PROPAGATION,
    TR_VPC_ATTACHMENT,
    VPC,
    as_list,
    port_range,
    prop,
    public_cidr,
)
from .model.deployment import MULTI_ZONE_MODES, VSWITCH
from .model.values import truthy

# Remote administration, and the services a Milvus stack runs: Milvus gRPC/HTTP and metrics, etcd client
# and peer, Pulsar, Kafka, MinIO; plus the databases InfraGuard's sg-risky-ports-check lists.
RISKY_PORTS = {
    22: "SSH", 23: "Telnet", 3389: "RDP", 19530: "Milvus gRPC", 9091: "Milvus HTTP/metrics", 2379: "etcd client",
    2380: "etcd peer", 6650: "Pulsar", 9092: "Kafka", 9000: "MinIO", 3306: "MySQL", 1433: "SQL Server",
    5432: "PostgreSQL", 27017: "MongoDB", 6379: "Redis",
}


def _ingress_accept(props) -> bool:
    return prop(props, "type") == "ingress" and (prop(props, "policy") or "accept") == "accept"


def _source(props) -> str | None:
    for key in ("cidrIp", "ipv6CidrIp"):
        value = prop(props, key)
        if value:
            return str(value)
    return None


@resource_policy(
    name="security-group-ingress-restricted",
    description="No security group rule accepts internet traffic (0.0.0.0/0, ::/0 or any public range) on "
                "every port or protocol, or on SSH, RDP, Milvus (19530, 9091), etcd (2379, 2380), the message "
                "services or common database ports.",
    level=MANDATORY,
    remediation="Limit cidrIp to the VPC, a bastion or the client networks, or reference a source security "
                "group; reach Milvus through an intranet NLB.",
    tags=["security", "network"],
    peers={"CKV_ALI_2": "", "CKV_ALI_3": "", "sg-risky-ports-check": "",
           "ecs-security-group-risky-ports-check-with-protocol": "", "sg-public-access-check": "",
           "ecs-security-group-not-open-all-port": "partial: all ports are refused from internet sources; from "
                                                   "private sources (node-to-node in the VPC) they are allowed",
           "ecs-security-group-not-open-all-protocol": "partial: all protocols are refused from internet sources; "
                                                       "from private sources they are allowed",
           "ess-scaling-configuration-sg-public-access": "partial: judged on the security group rules, whatever "
                                                         "the instances they apply to"},
)
def security_group_ingress_restricted(args, report):
    if args.resource_type != SECURITY_GROUP_RULE or not _ingress_accept(args.props):
        return
    source = _source(args.props)
    if not public_cidr(source):
        return
    protocol = str(prop(args.props, "ipProtocol") or "").lower()
    ports = port_range(prop(args.props, "portRange"))
    if protocol == "all" or ports == (1, 65535):
        report(f"security group rule {args.name} opens every port{'' if protocol != 'all' else ' and protocol'} "
               f"to {source}.")
        return
    if ports is None or protocol not in ("tcp", "udp"):
        return
    hit = [f"{p} ({what})" for p, what in sorted(RISKY_PORTS.items()) if ports[0] <= p <= ports[1]]
    if hit:
        report(f"security group rule {args.name} opens {', '.join(hit)} to {source}.")


@resource_policy(
    name="security-group-ingress-from-internet",
    description="Security group rules accept internet sources only on HTTP/HTTPS (80, 443); anything else from "
                "the internet is worth a reviewer's look (advisory).",
    level=ADVISORY,
    remediation="Limit cidrIp to private ranges, or put the service behind an internet-facing load balancer "
                "with its own access control.",
    tags=["security", "network"],
    peers={"ecs-security-group-not-internet-cidr-access": "partial: 80 and 443 from the internet are accepted",
           "ecs-security-group-white-list-port-check": "partial: the peer's allow-list is port 80 alone; this "
                                                       "one accepts 443 too"},
)
def security_group_ingress_from_internet(args, report):
    if args.resource_type != SECURITY_GROUP_RULE or not _ingress_accept(args.props):
        return
    source = _source(args.props)
    if not public_cidr(source):
        return
    ports = port_range(prop(args.props, "portRange"))
    if ports in ((80, 80), (443, 443)):
        return
    report(f"security group rule {args.name} accepts {prop(args.props, 'portRange')} from {source} (internet).")


@resource_policy(
    name="security-group-enterprise",
    description="Security groups are enterprise security groups (securityGroupType enterprise), which do not "
                "let every instance in the group reach every other by default.",
    level=ADVISORY,
    remediation="Set securityGroupType enterprise (ACK: isEnterpriseSecurityGroup true on the cluster).",
    tags=["security", "network"],
    peers={"ecs-security-group-type-not-normal": ""},
)
def security_group_enterprise(args, report):
    if args.resource_type == SECURITY_GROUP and prop(args.props, "securityGroupType") != "enterprise":
        report(f"security group {args.name} is a basic security group; use securityGroupType enterprise.")


@resource_policy(
    name="nat-gateway-deletion-protection",
    description="NAT gateways have deletion protection: the nodes' only route to image registries and the "
                "ACK, OSS and KMS endpoints goes through them.",
    level=MANDATORY,
    remediation="Set deletionProtection true on the vpc.NatGateway.",
    tags=["reliability", "network"],
    peers={"natgateway-delete-protection-enabled": ""},
)
def nat_gateway_deletion_protection(args, report):
    if args.resource_type == NAT_GATEWAY and not truthy(prop(args.props, "deletionProtection")):
        report(f"NAT gateway {args.name} has no deletion protection; set deletionProtection true.")


@resource_policy(
    name="nat-gateway-enhanced",
    description="NAT gateways are of the Enhanced type (the Normal type is no longer sold and lacks "
                "per-vSwitch SNAT); advisory.",
    level=ADVISORY,
    remediation="Set natType Enhanced (with a vswitchId).",
    tags=["reliability", "network"],
    peers={"natgateway-eip-used-check": "", "natgateway-snat-eip-bandwidth-check": ""},
)
def nat_gateway_enhanced(args, report):
    if args.resource_type == NAT_GATEWAY and prop(args.props, "natType") != "Enhanced":
        report(f"NAT gateway {args.name} is not Enhanced; set natType Enhanced.")


@stack_policy(
    name="vpc-flow-logs",
    description="Every VPC has a flow log into Log Service, for incident forensics; opt-in (flow logs are "
                "billed per GB).",
    level=OPT_IN,
    remediation="Add a vpc.FlowLog with resourceType VPC, resourceId the VPC's id, and a Log Service project "
                "and logstore.",
    tags=["audit", "network", "cost"],
    peers={"vpc-flow-logs-enabled": ""},
)
def vpc_flow_logs(args, report, topology):
    vpcs = topology.of_type(VPC)
    if not vpcs:
        args.not_applicable("no VPC in the stack")
    logs = topology.of_type(FLOW_LOG)
    for v in vpcs:
        if not any(any(d.urn == v.urn for d in fl.property_dependencies.get("resourceId", [])) or
                   prop(fl, "resourceId") == prop(v, "id") for fl in logs if prop(fl, "resourceType") in (None, "VPC")):
            report(f"VPC {v.name} has no flow log.", v.urn)


@resource_policy(
    name="vswitch-capacity",
    description="vSwitches are larger than /29: with Terway every pod takes an address, and a /29 has 3 usable "
                "addresses for nodes or pods; advisory.",
    level=ADVISORY,
    remediation="Give node vSwitches at least a /24 and pod vSwitches a /20 or larger.",
    tags=["capacity", "network"],
    peers={"vswitch-available-ip-count": ""},
)
def vswitch_capacity(args, report):
    if args.resource_type != VSWITCH:
        return
    cidr = prop(args.props, "cidrBlock")
    try:
        net = ipaddress.ip_network(str(cidr), strict=False)
    except ValueError:
        return
    if net.prefixlen >= 29:
        report(f"vSwitch {args.name} is a /{net.prefixlen} ({net.num_addresses} addresses).")


def _zones(mappings) -> set[str]:
    return {str(prop(m, "zoneId")) for m in as_list(mappings) if prop(m, "zoneId")}


@stack_policy(
    name="nlb-multi-zone",
    description="In the multi-zone modes every NLB (the proxies' entry point) maps at least two zones, so "
                "clients keep reaching Milvus when a zone is lost.",
    level=MANDATORY,
    remediation="Give the nlb.LoadBalancer a zoneMappings entry (zone and vSwitch) in each compute zone.",
    tags=["zones", "network"],
    peers={"nlb-loadbalancer-multi-zone": "partial: single-zone stacks are exempt (one zone by design)"},
)
def nlb_multi_zone(args, report, topology):
    nlbs = topology.of_type(NLB)
    if not nlbs:
        args.not_applicable("no NLB in the stack")
    stack_mode = mode_or_skip(args, topology, multi_zone_only=True)
    for lb in nlbs:
        dep = topology.deployment_of(lb)
        if (dep.mode(stack_mode) if dep is not None else stack_mode) not in MULTI_ZONE_MODES:
            continue
        mappings = prop(lb, "zoneMappings")
        if mappings is None:
            continue
        zones = _zones(mappings)
        if len(zones) < 2:
            report(f"NLB {lb.name} maps {len(zones)} zone(s) ({', '.join(sorted(zones)) or 'none'}); map two or "
                   "more.", lb.urn)


@resource_policy(
    name="transit-router-attachment-multi-zone",
    description="A transit router's VPC attachment sits in two zones or more, so the inter-region link "
                "survives the loss of a zone.",
    level=MANDATORY,
    remediation="Give the cen.TransitRouterVpcAttachment zoneMappings in two zones.",
    tags=["zones", "network", "cross-region"],
    peers={"transit-router-vpc-attachment-multi-zone": ""},
)
def transit_router_attachment_multi_zone(args, report):
    if args.resource_type != TR_VPC_ATTACHMENT:
        return
    mappings = prop(args.props, "zoneMappings")
    if mappings is not None and len(_zones(mappings)) < 2:
        report(f"VPC attachment {args.name} is in {len(_zones(mappings))} zone(s); attach it in two.")


def _routers(res, *keys: str) -> set[str]:
    return {d.urn for k in keys for d in res.property_dependencies.get(k, [])
            if d.resource_type == "alicloud:cen/transitRouter:TransitRouter"}


def _table_router(table_urn: str, by_urn) -> set[str]:
    table = by_urn.get(table_urn)
    return _routers(table, "transitRouterId") if table is not None else set()


@stack_policy(
    name="transit-router-attachments-routed",
    description="Every transit router attachment (each VPC attachment, and the inter-region peer attachment on "
                "both routers) is associated with a route table and propagates its routes to it; the "
                "attachments' deprecated routeTable*Enabled flags are never sent to the API.",
    level=MANDATORY,
    remediation="Add a cen.TransitRouterRouteTableAssociation and a cen.TransitRouterRouteTablePropagation per "
                "attachment and router (transitRouterAttachmentId, transitRouterRouteTableId); drop "
                "routeTableAssociationEnabled / routeTablePropagationEnabled.",
    tags=["network", "cross-region"],
)
def transit_router_attachments_routed(args, report, topology):
    attachments = topology.of_type(TR_VPC_ATTACHMENT, TR_PEER_ATTACHMENT)
    if not attachments:
        args.not_applicable("no transit router attachment in the stack")
    by_urn = {r.urn: r for r in topology.resources}
    links = {kind: topology.of_type(kind) for kind in (TR_ASSOCIATION, TR_PROPAGATION)}
    for att in attachments:
        for flag in ("routeTableAssociationEnabled", "routeTablePropagationEnabled"):
            if prop(att, flag) is not None:
                report(f"attachment {att.name} sets {flag}, which pulumi-alicloud deprecates (since provider "
                       "1.230.0) and does not apply; use the route table association and propagation resources.",
                       att.urn)
        routers = _routers(att, "transitRouterId", "peerTransitRouterId")
        for kind, what in ((TR_ASSOCIATION, "associated with"), (TR_PROPAGATION, "propagated to")):
            mine = [x for x in links[kind] if any(d.urn == att.urn for d in
                                                  x.property_dependencies.get("transitRouterAttachmentId", []))]
            covered = set().union(*(_table_router(d.urn, by_urn) for x in mine
                                    for d in x.property_dependencies.get("transitRouterRouteTableId", [])))
            missing = routers - covered if covered else set()  # tables given by literal id: cannot tell
            if not mine:
                report(f"attachment {att.name} is not {what} any route table.", att.urn)
            elif missing:
                names = ", ".join(sorted(by_urn[u].name for u in missing if u in by_urn))
                report(f"attachment {att.name} is not {what} a route table of {names}.", att.urn)
