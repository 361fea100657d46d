"""Stateful resources survive `pulumi destroy` and replacements by mistake."""

from __future__ import annotations

from ._policy import MANDATORY, resource_policy
from .model.deployment import (
    BUCKET,
    CLUSTER_TYPES,
    HELM_RELEASE,
    K8S_STATEFULSET,
    MILVUS_INSTANCE,
    chart_base,
    chart_is_milvus,
)
from .model.values import dig, truthy


def _stateful(args) -> str | None:
    if args.resource_type == BUCKET:
        return "the OSS bucket holds Milvus data"
    if args.resource_type in CLUSTER_TYPES:
        return "the cluster holds etcd's volumes"
    if args.resource_type == MILVUS_INSTANCE:
        return "the managed instance holds Milvus data"
    if args.resource_type == HELM_RELEASE and chart_base(args.props.get("chart")) == "etcd":
        return "the release runs etcd, Milvus' metadata"
    if args.resource_type == K8S_STATEFULSET and "etcd" in (
            dig(args.props, "metadata", "labels", "app.kubernetes.io/name"),
            dig(args.props, "spec", "template", "metadata", "labels", "app.kubernetes.io/name")):
        return "the StatefulSet holds etcd's volumes, Milvus' metadata"
    if args.resource_type == HELM_RELEASE and chart_is_milvus(args.props.get("chart")):
        values = args.props.get("values") or {}
        etcd_on = truthy(dig(values, "etcd", "enabled"), default=True) and \
            not truthy(dig(values, "externalEtcd", "enabled"))
        if etcd_on:
            return "the release owns etcd, Milvus' metadata"
    return None


@resource_policy(
    name="stateful-resources-protected",
    description="Stateful resources (OSS buckets, ACK clusters, Milvus releases that run etcd, etcd releases "
                "and StatefulSets, managed Milvus instances) are protected "
                "against deletion by `pulumi destroy` or a replacement.",
    level=MANDATORY,
    remediation="Pass opts=pulumi.ResourceOptions(protect=True) to the resource.",
    tags=["data-safety"],
)
def stateful_resources_protected(args, report):
    why = _stateful(args)
    if why and not args.opts.protect:
        report(f"{args.name} is not protected, and {why}; set the resource option protect=True.")
