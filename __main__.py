"""milvus-zones: stack config -> validated spec -> topology plan -> one component -> exports."""

import pulumi

from components import ManagedMilvus, MilvusDeployment
from milvus_zones.plan import plan, plan_managed
from milvus_zones.program import read_spec
from milvus_zones.spec import Backend

spec = read_spec()  # a bad setting stops here with one message naming it; nothing is created
topology = plan(spec)
password = pulumi.Config().require_secret("rootPassword")

pulumi.export("mode", str(spec.mode))
pulumi.export("backend", str(spec.backend))
pulumi.export("region", spec.region)

if spec.backend is Backend.MANAGED:
    instance = plan_managed(spec, topology)
    managed = ManagedMilvus("milvus", {"plan": topology, "instance": instance, "admin_password": password})
    pulumi.export("zones", {"compute": list(instance.vswitch_zones), "primary": instance.zone_id})
    pulumi.export("milvusVersion", spec.milvus_version)
    pulumi.export("vpcId", managed.vpc_id)
    pulumi.export("instanceId", managed.instance_id)
    pulumi.export("kmsKeyId", managed.kms_key_id)
else:
    pulumi.export("zones", {"compute": list(topology.compute_zones), "quorum": list(topology.quorum_zones)})
    deployment = MilvusDeployment(
        "milvus",
        {
            "plan": topology,
            "kubernetes_version": spec.kubernetes_version,
            "api_server_public": spec.api_server_public,
            "root_password": password,
        },
    )
    pulumi.export("milvusVersion", f"{topology.chart.app_version} (chart {topology.chart.chart_version})")
    pulumi.export("vpcId", deployment.vpc_id)
    pulumi.export("clusterId", deployment.cluster_id)
    pulumi.export("bucket", deployment.bucket_name)
    pulumi.export("ossRoleArn", deployment.role_arn)
    pulumi.export("milvusEndpoint", deployment.milvus_endpoint)
    pulumi.export("kubeconfig", deployment.kubeconfig)
