"""A team's program: its own providers and network, and MilvusZones inside it (not the milvus-zones project)."""

import pulumi
import pulumi_alicloud as alicloud
import pulumi_kubernetes as k8s
from milvus_zones.components import MilvusZones

cfg = pulumi.Config()
scenario = cfg.require("scenario")
password = cfg.require_secret("rootPassword")
zones = ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]


def team_provider() -> alicloud.Provider:
    """The team's provider: in real use a profile or assume_role; MilvusZones must use it, not build its own."""
    return alicloud.Provider("team-hangzhou", region="cn-hangzhou", profile="platform")


if scenario == "existing-vpc":
    vpc = cfg.require_object("vpc")  # {id, nodeVswitches: {zone: id}}
    search = MilvusZones(
        "search",
        {
            "mode": "multi-zone-ha",
            "region": "cn-hangzhou",
            "zones": zones,
            "compute_node_count": 2,
            "bucket_name": "team-search-vectors",
            "network": {"vpc_cidr": "10.60.0.0/16",
                        "node_cidrs": ["10.60.0.0/20", "10.60.16.0/20", "10.60.32.0/20"]},
            "existing_vpc": {"vpc_id": vpc["id"], "node_vswitches": vpc["nodeVswitches"]},
            "root_password": password,
        },
        opts=pulumi.ResourceOptions(provider=team_provider()),
    )
    pulumi.export("endpoint", search.milvus_endpoint)
    pulumi.export("vpcId", search.vpc_id)
elif scenario == "existing-cluster":
    vpc = cfg.require_object("vpc")
    # The team's Kubernetes provider for its cluster: used as it is, no kubeconfig is read.
    cluster_k8s = k8s.Provider("team-cluster", kubeconfig=cfg.require_secret("kubeconfig"))
    search = MilvusZones(
        "search",
        {
            "mode": "multi-zone-basic",
            "region": "cn-hangzhou",
            "zones": zones,
            "milvus_version": "2.5",
            "bucket_name": "team-search-vectors",
            "network": {"vpc_cidr": "10.61.0.0/16"},
            "existing_vpc": {"vpc_id": vpc["id"], "node_vswitches": vpc["nodeVswitches"]},
            "existing_cluster": {"cluster_id": cfg.require("clusterId")},
            "root_password": password,
        },
        opts=pulumi.ResourceOptions(providers=[team_provider(), cluster_k8s]),
    )
    pulumi.export("endpoint", search.milvus_endpoint)
    pulumi.export("clusterId", search.cluster_id)
elif scenario == "existing-pools":
    # The platform team's program runs the cluster's node pools (labelled for milvus-zones) and hands
    # them to MilvusZones, which reads and checks each one and creates none of them.
    vpc = cfg.require_object("vpc")
    cluster_id = cfg.require("clusterId")
    team = team_provider()
    switches = {z: alicloud.vpc.Switch.get(f"platform-node-{z}", vsw, zone_id=z, opts=pulumi.ResourceOptions(provider=team))
                for z, vsw in vpc["nodeVswitches"].items()}
    pools = {}
    for key, placement in cfg.require_object("pools").items():  # {key: {zone, instanceType, nodes}}
        role = key.split("-")[0]
        pools[key] = alicloud.cs.NodePool(
            f"platform-{key}", cluster_id=cluster_id, node_pool_name=f"platform-{key}",
            vswitch_ids=[switches[placement["zone"]].id], instance_types=[placement["instanceType"]],
            desired_size=str(placement["nodes"]), system_disk_category="cloud_essd", system_disk_encrypted=True,
            labels=[{"key": "milvus-zones/pool", "value": key}, {"key": "milvus-zones/role", "value": role}],
            taints=[{"key": "milvus-zones/role", "value": "quorum", "effect": "NoSchedule"}] if role == "quorum" else [],
            management={"enable": True, "auto_repair": True, "auto_upgrade": False, "max_unavailable": 1, "surge": 1},
            opts=pulumi.ResourceOptions(provider=team),
        )
    search = MilvusZones(
        "search",
        {
            "mode": "multi-zone-ha",
            "region": "cn-hangzhou",
            "zones": zones,
            "compute_node_count": 2,
            "bucket_name": "team-search-vectors",
            "network": {"vpc_cidr": "10.64.0.0/16"},
            "existing_vpc": {"vpc_id": vpc["id"], "node_vswitches": vpc["nodeVswitches"]},
            "existing_cluster": {"cluster_id": cluster_id, "node_pools": {
                key: {"pool_id": pool.node_pool_id, "instance_type": cfg.require_object("pools")[key]["instanceType"]}
                for key, pool in pools.items()}},
            "root_password": password,
        },
        opts=pulumi.ResourceOptions(providers=[team, k8s.Provider("team-cluster", kubeconfig=cfg.require_secret("kubeconfig"))]),
    )
    pulumi.export("endpoint", search.milvus_endpoint)
elif scenario == "two-instances":
    # Two independent deployments in one program: names, providers, roles and buckets never collide.
    common = {"region": "cn-hangzhou", "zones": zones, "root_password": password}
    search = MilvusZones("search", {**common, "mode": "multi-zone-ha", "compute_node_count": 2,
                                    "bucket_name": "team-search-vectors", "network": {"vpc_cidr": "10.62.0.0/16"}})
    staging = MilvusZones("staging", {**common, "mode": "single-zone", "zones": zones[:1],
                                      "bucket_name": "team-staging-vectors", "network": {"vpc_cidr": "10.63.0.0/16"}})
    pulumi.export("search", search.milvus_endpoint)
    pulumi.export("staging", staging.milvus_endpoint)
else:
    raise pulumi.RunError(f"team-embed:scenario: unknown scenario {scenario!r}")
