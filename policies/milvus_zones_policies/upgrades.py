"""Upgrades: what a `pulumi preview` would change on a running deployment, against what is deployed.

A policy sees only the proposed resources (pulumi-policy passes no prior state to `validate`: its
ResourceValidationArgs and StackValidationArgs carry props, options, config and the stack's tags). The
deployed state therefore comes from the `milvus-zones:deployed` stack tag, which the pipeline sets after
each successful `pulumi up` (`milvus-zones deployed-tag STACK`, docs/upgrades.md), or, in a stack of several
deployments, one `milvus-zones:deployed:<name>` tag per deployment. Without the tag the
policy is not applicable; offline, `milvus-zones diff` and `check --base` apply the same rules to the
deployed stack file.
"""

from __future__ import annotations

import re

from ._policy import MANDATORY, stack_policy
from .model.upgrade_rules import DEPLOYED_TAG, Running, deployed_states, refusals

_WAL = {"pulsar": "pulsar", "pulsarv3": "pulsar", "externalPulsar": "pulsar", "kafka": "kafka",
        "externalKafka": "kafka", "woodpecker": "woodpecker"}


def deployment_key(dep) -> str:
    """How a `milvus-zones:deployed:<deployment>` tag names one deployment of the stack: a MilvusZones'
    name (its cluster `<name>-k8s-ack`; another cluster's resource name as it is), `stack` for the one
    deployment without a cluster of the stack's own."""
    return dep.cluster.name.removesuffix("-k8s-ack") if dep.cluster is not None else "stack"


def proposed(topology, bucket: str | None = None, deployment=None) -> Running:
    """What the proposed resources would run, read as the pack reads releases and instances: the whole
    stack's, or one `deployment`'s (`Topology.deployments`). With several releases (cross-region-ha:
    one per region, each on its region's bucket) the one on `bucket`, the deployed bucket, when a release
    still uses it; else the first that runs etcd."""
    mode = topology.mode() if deployment is None else (deployment.top_mode or topology.mode())
    releases = topology.releases if deployment is None else deployment.releases
    if not releases:
        return Running(mode=mode, backend="managed" if topology.instances and deployment is None else None)
    rel = next((r for r in releases if bucket is not None and r.bucket_name == bucket),
               next((r for r in releases if r.etcd_enabled), releases[0]))
    minor, _ = rel.milvus_minor()
    size = re.fullmatch(r"(\d+)Gi", str(rel.get("etcd", "persistence", "size", default="")))
    root = rel.get("externalS3", "rootPath")
    return Running(milvus_version="{}.{}".format(*minor) if minor else None,
                   message_service=_WAL.get(rel.message_service()),
                   bucket_name=rel.bucket_name if isinstance(rel.bucket_name, str) else None,
                   bucket_root_path=root if isinstance(root, str) else None,
                   etcd_volume_size_gi=int(size.group(1)) if size else None, mode=mode, backend="self-hosted")


@stack_policy(
    name="upgrade-from-deployed",
    description="A change the running deployment cannot take in one `pulumi up` is refused, against the "
                "deployed state in the `milvus-zones:deployed` stack tag: a skipped Milvus minor or a downgrade, "
                "another message service, bucket or root path, a smaller etcd disk, multi-zone-ha 2.5 -> 2.6 in "
                "place, another backend.",
    level=MANDATORY,
    remediation="Follow the supported path the message names (docs/upgrades.md); after each successful "
                "`pulumi up`, record the deployed state with `milvus-zones deployed-tag STACK` (several "
                "deployments in one stack: a `milvus-zones:deployed:<name>` tag each).",
    tags=["data-safety", "upgrades"],
)
def upgrade_from_deployed(args, report, topology):
    states = deployed_states(dict(args.stack_tags or {}))
    if not states:
        args.not_applicable(f"no {DEPLOYED_TAG} stack tag: the deployed state is unknown to the pack "
                            "(milvus-zones diff and check --base compare with the deployed stack file)")
        return
    if None in states and len(states) > 1:
        report(f"stack tags {', '.join(sorted(f'{DEPLOYED_TAG}:{k}' for k in states if k))} name deployments, and "
               f"{DEPLOYED_TAG} describes the whole stack: keep one form (a tag per deployment when the stack "
               "holds several).")
        return
    deployments = {deployment_key(d): d for d in topology.deployments if d.releases or d.pools}
    for name, tag in states.items():
        where = DEPLOYED_TAG if name is None else f"{DEPLOYED_TAG}:{name}"
        try:
            deployed = Running.from_tag(tag)
        except ValueError as e:
            report(f"stack tag {where}={tag!r} cannot be read: {e}; set it with `milvus-zones deployed-tag`.")
            continue
        dep = None
        if name is not None:  # one deployment's state: it is held to it; one without a tag is new
            dep = deployments.get(name)
            if dep is None:
                report(f"stack tag {where} names no deployment of this stack (deployments: "
                       f"{', '.join(sorted(deployments)) or 'none'}); a deployed one cannot vanish in an update: "
                       "keep it, or remove the tag once it is deleted on purpose.")
                continue
        for key, message in refusals(deployed, proposed(topology, deployed.bucket_name, dep)):
            report(f"milvus-zones:{key}: from the deployed state ({where}={tag}): {message}.")
