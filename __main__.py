"""milvus-zones: stack config -> validated spec -> topology plan -> one component -> exports."""

import pulumi

from components import MilvusDeployment
from milvus_zones.plan import plan
from milvus_zones.program import read_spec

spec = read_spec()  # a bad setting stops here with one message naming it; nothing is created
topology = plan(spec)
deployment = MilvusDeployment(
    "milvus",
    {
        "plan": topology,
        "kubernetes_version": spec.kubernetes_version,
        "api_server_public": spec.api_server_public,
        "root_password": pulumi.Config().require_secret("rootPassword"),
    },
)

pulumi.export("mode", str(spec.mode))
pulumi.export("region", spec.region)
pulumi.export("zones", {"compute": list(topology.compute_zones), "quorum": list(topology.quorum_zones)})
pulumi.export("milvusVersion", f"{topology.chart.app_version} (chart {topology.chart.chart_version})")
pulumi.export("vpcId", deployment.vpc_id)
pulumi.export("clusterId", deployment.cluster_id)
pulumi.export("bucket", deployment.bucket_name)
pulumi.export("ossRoleArn", deployment.role_arn)
pulumi.export("milvusEndpoint", deployment.milvus_endpoint)
pulumi.export("kubeconfig", deployment.kubeconfig)
