"""Changes a running deployment cannot take in one `pulumi up`, refused with the supported path.

Evaluated on two validated specs, the deployed one (base) and the proposed one: `milvus-zones check
STACK --base FILE` and `milvus-zones diff`. The rules and their sources are the policy pack's
(`milvus_zones_policies/model/upgrade_rules.py`), so `pulumi preview --policy-pack policies` refuses the
same changes (`upgrade-from-deployed`) against the state recorded in the `milvus-zones:deployed` stack tag.
"""

from __future__ import annotations

from milvus_zones_policies.model.upgrade_rules import DEPLOYED_TAG, TAG_VALUE_MAX, Running, deployment_tag, refusals

from milvus_zones.planning.spec import DeploymentSpec


def running(spec: DeploymentSpec) -> Running:
    """What a deployment of this spec runs, in the rules' terms."""
    return Running(milvus_version=spec.milvus_version, message_service=str(spec.effective_message_service),
                   bucket_name=spec.bucket_name, bucket_root_path=spec.bucket_root_path,
                   etcd_volume_size_gi=spec.etcd_volume_size_gi, quorum_nodes_per_zone=spec.quorum_nodes_per_zone,
                   mode=str(spec.mode), backend=str(spec.backend))


def upgrade_problems(base: DeploymentSpec, new: DeploymentSpec) -> list[tuple[str, str]]:
    """(config key, message naming the supported path) for each change `new` cannot take from `base`."""
    return refusals(running(base), running(new))


def deployed_tag(spec: DeploymentSpec) -> tuple[str, str]:
    """(name, value) of the stack tag that records what a successful `pulumi up` of this spec deployed."""
    return DEPLOYED_TAG, running(spec).to_tag()


def deployed_tags(specs: dict[str, DeploymentSpec]) -> dict[str, str]:
    """The tags for a stack of several deployments: `milvus-zones:deployed:<name>` per MilvusZones `<name>`
    (ValueError when Pulumi would refuse the tag name)."""
    tags = {deployment_tag(name): running(spec).to_tag() for name, spec in specs.items()}
    for tag, value in tags.items():
        if len(value) > TAG_VALUE_MAX:
            raise ValueError(f"{tag}: {len(value)} characters; Pulumi allows {TAG_VALUE_MAX} in a tag value")
    return tags
