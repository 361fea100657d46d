"""milvus-zones: stack config -> validated spec -> topology plan -> one component -> exports."""

import pulumi
from milvus_zones.components import (
    CrossRegionDeployment,
    ManagedMilvus,
    MilvusDeployment,
)
from milvus_zones.components.config import read_spec

from milvus_zones.planning.plan import plan, plan_cross_region, plan_managed
from milvus_zones.planning.spec import Backend, Mode

spec = read_spec()  # a bad setting stops here with one message naming it; nothing is created
password = pulumi.Config().require_secret("rootPassword")

pulumi.export("mode", str(spec.mode))
pulumi.export("backend", str(spec.backend))

if spec.mode is Mode.CROSS_REGION_HA:
    cross = plan_cross_region(spec)
    deployment = CrossRegionDeployment(
        "milvus",
        {
            "plan": cross,
            "kubernetes_version": spec.kubernetes_version,
            "api_server_public": spec.api_server_public,
            "security": spec.security,
            "root_password": password,
        },
    )
    pulumi.export("primaryRegion", cross.replication.primary)
    pulumi.export("standbyRegion", cross.replication.standby)
    pulumi.export("regions", {
        p.region: {"role": p.region_role, "compute": list(p.compute_zones), "quorum": list(p.quorum_zones)}
        for p in cross.regions
    })
    pulumi.export("milvusVersion", f"{cross.primary.chart.app_version} (chart {cross.primary.chart.chart_version})")
    pulumi.export("milvusEndpoint", deployment.client_endpoint)
    for region, d in deployment.regions.items():
        pulumi.export(f"clusterId/{region}", d.cluster_id)
        pulumi.export(f"bucket/{region}", d.bucket_name)
        pulumi.export(f"kubeconfig/{region}", d.kubeconfig)
elif spec.backend is Backend.MANAGED:
    topology = plan(spec)
    instance = plan_managed(spec, topology)
    managed = ManagedMilvus("milvus", {"plan": topology, "instance": instance, "admin_password": password,
                                       "kms_pending_window_days": spec.security.kms_pending_window_days})
    pulumi.export("region", spec.region)
    pulumi.export("zones", {"compute": list(instance.vswitch_zones), "primary": instance.zone_id})
    pulumi.export("milvusVersion", spec.milvus_version)
    pulumi.export("vpcId", managed.vpc_id)
    pulumi.export("instanceId", managed.instance_id)
    pulumi.export("kmsKeyId", managed.kms_key_id)
else:
    topology = plan(spec)
    deployment = MilvusDeployment(
        "milvus",
        {
            "plan": topology,
            "kubernetes_version": spec.kubernetes_version,
            "api_server_public": spec.api_server_public,
            "security": spec.security,
            "root_password": password,
        },
    )
    pulumi.export("region", spec.region)
    pulumi.export("zones", {"compute": list(topology.compute_zones), "quorum": list(topology.quorum_zones)})
    pulumi.export("milvusVersion", f"{topology.chart.app_version} (chart {topology.chart.chart_version})")
    pulumi.export("vpcId", deployment.vpc_id)
    pulumi.export("clusterId", deployment.cluster_id)
    pulumi.export("bucket", deployment.bucket_name)
    pulumi.export("ossRoleArn", deployment.role_arn)
    pulumi.export("milvusEndpoint", deployment.milvus_endpoint)
    pulumi.export("kubeconfig", deployment.kubeconfig)
