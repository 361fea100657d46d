"""Safety and exposure of the ACK cluster (resource policies: they judge the cluster's inputs)."""

from __future__ import annotations

from pulumi_policy import PolicyConfigSchema

from ._policy import MANDATORY, resource_policy
from .model.deployment import CLUSTER_TYPES
from .model.values import truthy


@resource_policy(
    name="ack-deletion-protection",
    description="The ACK cluster has deletion protection, so neither the console nor the API deletes it "
                "by mistake.",
    level=MANDATORY,
    remediation="Set deletionProtection true on the cluster.",
    tags=["data-safety", "kubernetes"],
)
def ack_deletion_protection(args, report):
    if args.resource_type in CLUSTER_TYPES and not truthy(args.props.get("deletionProtection")):
        report(f"cluster {args.name} has no deletion protection; set deletionProtection true.")


@resource_policy(
    name="ack-rrsa-enabled",
    description="The ACK cluster has RRSA on, so pods get RAM roles through OIDC instead of access keys.",
    level=MANDATORY,
    remediation="Set enableRrsa true on the cluster and grant Milvus its OSS access through a RAM role "
                "trusted by the cluster's OIDC provider.",
    tags=["security", "kubernetes"],
)
def ack_rrsa_enabled(args, report):
    if args.resource_type in CLUSTER_TYPES and not truthy(args.props.get("enableRrsa")):
        report(f"cluster {args.name} has RRSA off; set enableRrsa true.")


@resource_policy(
    name="ack-api-server-private",
    description="The Kubernetes API server is not exposed on an internet-facing load balancer, unless the "
                "pack config allows it.",
    level=MANDATORY,
    remediation="Set slbInternetEnabled false (reach the API server from the VPC), or set this policy's "
                "allowPublicApiServer in the policy pack config.",
    tags=["security", "kubernetes"],
    config_schema=PolicyConfigSchema(
        properties={
            "allowPublicApiServer": {
                "type": "boolean",
                "default": False,
                "description": "Accept an internet-facing API server load balancer.",
            },
        },
    ),
)
def ack_api_server_private(args, report):
    if args.resource_type not in CLUSTER_TYPES:
        return
    # The provider's default for slbInternetEnabled is true: unset means public.
    public = truthy(args.props.get("slbInternetEnabled"), default=True)
    if public and not truthy(args.get_config().get("allowPublicApiServer")):
        report(f"cluster {args.name} exposes its API server to the internet (slbInternetEnabled is true or "
               "unset); set slbInternetEnabled false.")
