"""`milvus-zones policy-config`: the pack config's `externalResources` for a stack of this project.

The program reads the team's vSwitches (existingVpc) and node pools (existingCluster.nodePools) with
`.get`, and `pulumi preview` never sends reads to policies (policies/milvus_zones_policies/model/
external.py cites the engine). What the policies need from them is what the plan says they are, and
the program stops `pulumi up` and `preview` when the real ones differ: each vSwitch's zone and VPC
(components/network.py `_verified`), each pool's vSwitches, labels, taints, instance type, size,
management and disk encryption (components/cluster.py `_existing_pool`). So the facts come from the plan.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from milvus_zones_policies.model.external import KEY

from milvus_zones.planning.plan import POOL_MANAGEMENT, TopologyPlan, plan
from milvus_zones.planning.spec import Backend, DeploymentSpec, Mode
from milvus_zones.planning.stackconfig import NAMESPACE, spec_from_config


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w.title() for w in rest)


def management() -> dict[str, Any]:
    """The pools' management (plan.POOL_MANAGEMENT), which a named pool is checked to have, as the
    provider's outputs spell it."""
    return {_camel(k): v for k, v in POOL_MANAGEMENT.items()}


def facts_of_spec(spec: DeploymentSpec, name: str = "milvus") -> dict[str, Any]:
    """{"vswitches": {id: {zoneId, vpcId}}, "nodePools": {pool id: fields}} for the spec's reads."""
    vpc = spec.existing_vpc
    if vpc is None:
        return {}
    vswitches = {vsw: {"zoneId": zone, "vpcId": vpc.vpc_id}
                 for zone, vsw in [*vpc.node_vswitches.items(), *vpc.pod_vswitches.items()]}
    out: dict[str, Any] = {"vswitches": dict(sorted(vswitches.items()))}
    if spec.existing_cluster is not None and spec.backend is not Backend.MANAGED and spec.mode is not Mode.CROSS_REGION_HA:
        pools = _pools(plan(spec, name), spec)
        if pools:
            out["nodePools"] = pools
    return out


def _pools(topology: TopologyPlan, spec: DeploymentSpec) -> dict[str, Any]:
    assert spec.existing_vpc is not None and spec.existing_cluster is not None
    nodes = spec.existing_vpc.node_vswitches
    out: dict[str, Any] = {}
    for pool in topology.node_pools:
        if pool.existing_id is None:
            continue
        fields: dict[str, Any] = {
            "clusterId": spec.existing_cluster.cluster_id,
            "vswitchIds": [nodes[z] for z in pool.zones],  # the plan refuses a named pool without them
            "labels": [{"key": k, "value": v} for k, v in sorted(pool.labels.items())],
            "taints": [{"key": t.key, "value": t.value, "effect": t.effect} for t in pool.taints],
            "instanceTypes": [pool.instance_type],
            "desiredSize": str(pool.desired_size),
            "management": management(),
        }
        if pool.max_size:
            fields["scalingConfig"] = {"enable": True, "minSize": pool.desired_size, "maxSize": pool.max_size}
        if spec.security.node_disk_encryption:
            fields["systemDiskEncrypted"] = True
        out[pool.existing_id] = fields
    return out


def facts_of_config(config: Mapping[str, Any], namespace: str = NAMESPACE) -> dict[str, Any]:
    """The facts for a stack's config (as the language host passes it); SpecError when it is invalid."""
    return facts_of_spec(spec_from_config(config, namespace))


def pack_config(facts: Mapping[str, Any], raw: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The pack config file: `raw` (a user's) with the facts as every stack policy's `externalResources`."""
    from milvus_zones.analysis.check import with_external_resources

    return with_external_resources(dict(raw or {}), facts)


def render(facts: Mapping[str, Any], raw: Mapping[str, Any] | None = None) -> str:
    return json.dumps(pack_config(facts, raw), indent=2, sort_keys=True) + "\n"


__all__ = ["KEY", "facts_of_config", "facts_of_spec", "management", "pack_config", "render"]
