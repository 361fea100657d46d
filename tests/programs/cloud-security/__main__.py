"""Cloud resources around a Milvus-on-ACK stack, written by hand; every knob a stack config key."""

import json

import pulumi
import pulumi_alicloud as alicloud

cfg = pulumi.Config()
mode = cfg.get("mode") or "multi-zone-ha"
zones = ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]
bucket_name = "cloud-security-data"


def knob(key: str, default: bool = True) -> bool:
    value = cfg.get_bool(key)
    return default if value is None else value


vpc = alicloud.vpc.Network("vpc", vpc_name="milvus", cidr_block="10.0.0.0/16")
nodes = {z: alicloud.vpc.Switch(f"node-{z[-1]}", vpc_id=vpc.id, zone_id=z, cidr_block=f"10.0.{i * 16}.0/20")
         for i, z in enumerate(zones)}
pods = {z: alicloud.vpc.Switch(f"pod-{z[-1]}", vpc_id=vpc.id, zone_id=z, cidr_block=f"10.0.{128 + i * 16}.0/20")
        for i, z in enumerate(zones)}

key = alicloud.kms.Key(
    "secrets-key", description="ACK Secrets", rotation_interval="31536000s",
    automatic_rotation="Enabled" if knob("keyRotation") else "Disabled",
    deletion_protection="Enabled" if knob("keyDeletionProtection") else "Disabled",
    pending_window_in_days=30, opts=pulumi.ResourceOptions(protect=True),
)
cluster = alicloud.cs.ManagedKubernetes(
    "ack", name="milvus", cluster_spec="ack.pro.small",
    vswitch_ids=[nodes[z].id for z in zones], pod_vswitch_ids=[pods[z].id for z in zones],
    service_cidr="172.16.0.0/20", enable_rrsa=True, deletion_protection=True, slb_internet_enabled=False,
    addons=[{"name": "terway-eniip"}], encryption_provider_key=key.id,
    control_plane_log_components=["apiserver", "kcm", "scheduler", "ccm"], control_plane_log_ttl="30",
    tags={"milvus-zones/mode": mode}, opts=pulumi.ResourceOptions(protect=True),
)
# Node pools and Milvus itself are in tests/programs/milvus-on-ack; this cluster is the RRSA issuer.

# -- the data bucket and its policies (inline or split) ---------------------------------------------
anonymous = {"Version": "1", "Statement": [{"Effect": "Allow", "Principal": ["*"], "Action": ["oss:GetObject"],
                                             "Resource": [f"acs:oss:*:*:{bucket_name}/*"]}]}
https_only = {"Version": "1", "Statement": [{
    "Effect": "Deny", "Principal": ["*"], "Action": ["oss:*"],
    "Resource": [f"acs:oss:*:*:{bucket_name}", f"acs:oss:*:*:{bucket_name}/*"],
    "Condition": {"Bool": {"acs:SecureTransport": "false"}}}]}
policy_doc = https_only
if cfg.get("bucketPolicy") == "anonymous":
    policy_doc = {"Version": "1", "Statement": https_only["Statement"] + anonymous["Statement"]}
bucket = alicloud.oss.Bucket(
    "data", bucket=bucket_name, redundancy_type="ZRS", versioning={"status": "Enabled"},
    server_side_encryption_rule={"sse_algorithm": "AES256"}, tags={"milvus-zones/mode": mode},
    policy=json.dumps(anonymous) if cfg.get("inlinePolicy") == "anonymous" else None,
    opts=pulumi.ResourceOptions(protect=True),
)
alicloud.oss.BucketAcl("data-acl", bucket=bucket.bucket, acl="private")
alicloud.oss.BucketPublicAccessBlock("data-pab", bucket=bucket.bucket, block_public_access=True)
alicloud.oss.BucketPolicy("data-policy", bucket=bucket.bucket, policy=json.dumps(policy_doc))
logs = alicloud.oss.Bucket(
    "logs", bucket=f"{bucket_name}-logs", redundancy_type="ZRS", versioning={"status": "Enabled"},
    server_side_encryption_rule={"sse_algorithm": "AES256"}, opts=pulumi.ResourceOptions(protect=True),
)
alicloud.oss.BucketAcl("logs-acl", bucket=logs.bucket, acl="private")
alicloud.oss.BucketPublicAccessBlock("logs-pab", bucket=logs.bucket, block_public_access=True)
alicloud.oss.BucketLogging("data-logging", bucket=bucket.bucket, target_bucket=logs.bucket, target_prefix="access/")

# -- the RRSA role Milvus assumes, and what it may do -------------------------------------------------
trust_sub = cfg.get("trustSub") or "system:serviceaccount:milvus:milvus"


def trust(meta) -> str:
    condition = {"StringEquals": {"oidc:aud": "sts.aliyuncs.com", "oidc:iss": meta.rrsa_oidc_issuer_url}}
    if cfg.get("trustSubOperator") == "StringLike":
        condition["StringLike"] = {"oidc:sub": trust_sub}
    elif trust_sub != "none":
        condition["StringEquals"]["oidc:sub"] = trust_sub
    return json.dumps({"Version": "1", "Statement": [{
        "Action": "sts:AssumeRole", "Effect": "Allow",
        "Principal": {"Federated": [meta.ram_oidc_provider_arn]}, "Condition": condition}]})


role = alicloud.ram.Role("milvus-role", role_name="milvus-oss", assume_role_policy_document=cluster.rrsa_metadata.apply(trust))
scope = cfg.get("policyScope") or "prefix"
resources = {"prefix": [f"acs:oss:*:*:{bucket_name}/milvus/*"], "bucket": [f"acs:oss:*:*:{bucket_name}/*"],
             "everything": ["*"]}[scope]
actions = ["*"] if cfg.get("policyActions") == "star" else ["oss:GetObject", "oss:PutObject", "oss:DeleteObject"]
policy = alicloud.ram.Policy("milvus-policy", policy_name="milvus-oss", policy_document=json.dumps(
    {"Version": "1", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}]}))
alicloud.ram.RolePolicyAttachment("milvus-attach", role_name=role.role_name, policy_name=policy.policy_name,
                                  policy_type="Custom")
if cfg.get("systemPolicy"):
    alicloud.ram.RolePolicyAttachment("milvus-attach-system", role_name=role.role_name,
                                      policy_name=cfg.get("systemPolicy"), policy_type="System")

# -- security group rules ------------------------------------------------------------------------------
sg = alicloud.ecs.SecurityGroup("milvus-sg", vpc_id=vpc.id, security_group_name="milvus",
                                security_group_type="enterprise")
alicloud.ecs.SecurityGroupRule("milvus-from-vpc", security_group_id=sg.id, type="ingress", ip_protocol="tcp",
                               port_range="19530/19530", cidr_ip="10.0.0.0/16")
alicloud.ecs.SecurityGroupRule("https-from-internet", security_group_id=sg.id, type="ingress", ip_protocol="tcp",
                               port_range="443/443", cidr_ip="0.0.0.0/0")
if cfg.get("openPort"):
    alicloud.ecs.SecurityGroupRule("open-to-internet", security_group_id=sg.id, type="ingress", ip_protocol="tcp",
                                   port_range=cfg.get("openPort"), cidr_ip=cfg.get("openCidr") or "0.0.0.0/0")

# -- the proxies' NLB ---------------------------------------------------------------------------------
nlb_zones = zones[:1] if cfg.get("nlbZones") == "one" else zones[:2]
alicloud.nlb.LoadBalancer(
    "proxy-nlb", load_balancer_name="milvus-proxy", load_balancer_type="Network", address_type="Intranet",
    address_ip_version="Ipv4", vpc_id=vpc.id, cross_zone_enabled=True,
    zone_mappings=[{"zone_id": z, "vswitch_id": nodes[z].id} for z in nlb_zones],
)

# -- a CEN link to a second VPC (cross-region-ha's interconnect, in one region for brevity) -----------
other = alicloud.vpc.Network("vpc-b", vpc_name="milvus-b", cidr_block="10.1.0.0/16")
other_switches = {z: alicloud.vpc.Switch(f"b-{z[-1]}", vpc_id=other.id, zone_id=z, cidr_block=f"10.1.{i * 16}.0/20")
                  for i, z in enumerate(zones[:2])}
cen = alicloud.cen.Instance("cen", cen_instance_name="milvus")
router_a = alicloud.cen.TransitRouter("tr-a", cen_id=cen.id)
router_b = alicloud.cen.TransitRouter("tr-b", cen_id=cen.id)
deprecated = {"route_table_association_enabled": True, "route_table_propagation_enabled": True} \
    if knob("deprecatedFlags", False) else {}
attach_zones = zones[:1] if cfg.get("attachmentZones") == "one" else zones[:2]
att_a = alicloud.cen.TransitRouterVpcAttachment(
    "attach-a", cen_id=cen.id, transit_router_id=router_a.transit_router_id, vpc_id=vpc.id,
    zone_mappings=[{"zone_id": z, "vswitch_id": nodes[z].id} for z in attach_zones], **deprecated)
att_b = alicloud.cen.TransitRouterVpcAttachment(
    "attach-b", cen_id=cen.id, transit_router_id=router_b.transit_router_id, vpc_id=other.id,
    zone_mappings=[{"zone_id": z, "vswitch_id": s.id} for z, s in other_switches.items()])
peer = alicloud.cen.TransitRouterPeerAttachment(
    "peer", cen_id=cen.id, transit_router_id=router_a.transit_router_id,
    peer_transit_router_id=router_b.transit_router_id, peer_transit_router_region_id="cn-hangzhou",
    bandwidth_type="DataTransfer", **deprecated)
routed = cfg.get("routed") or "all"
for side, router, attachment in (("a", router_a, att_a), ("b", router_b, att_b)):
    table = alicloud.cen.TransitRouterRouteTable(f"rtb-{side}", transit_router_id=router.transit_router_id)
    links = [("vpc", attachment)]
    if not (routed == "peer-one-side" and side == "b"):
        links.append(("peer", peer))
    for name, att in links:
        ids = {"transit_router_route_table_id": table.transit_router_route_table_id,
               "transit_router_attachment_id": att.transit_router_attachment_id}
        if routed != "none":
            alicloud.cen.TransitRouterRouteTableAssociation(f"assoc-{side}-{name}", **ids)
            alicloud.cen.TransitRouterRouteTablePropagation(f"prop-{side}-{name}", **ids)
