"""milvus-zones: stack config -> one MilvusZones component -> stack outputs."""

import pulumi
from milvus_zones.components import MilvusZones
from milvus_zones.components.config import read_settings

settings = read_settings()  # a bad setting stops here with one message naming it; nothing is created
milvus = MilvusZones("milvus", settings)  # keys checked by the spec

pulumi.export("mode", milvus.mode)
pulumi.export("backend", milvus.backend)
pulumi.export("backup", milvus.backup)

if settings["mode"] == "cross-region-ha":
    pulumi.export("primaryRegion", milvus.primary_region)
    pulumi.export("standbyRegion", milvus.standby_region)
    pulumi.export("regions", milvus.regions)
    pulumi.export("milvusVersion", milvus.milvus_version)
    pulumi.export("milvusEndpoint", milvus.milvus_endpoint)
    for region in (settings["region"], settings["peer"]["region"]):
        pulumi.export(f"clusterId/{region}", milvus.cluster_ids[region])
        pulumi.export(f"bucket/{region}", milvus.bucket_names[region])
        pulumi.export(f"kubeconfig/{region}", milvus.kubeconfigs[region])
elif settings.get("backend") == "managed":
    pulumi.export("region", milvus.region)
    pulumi.export("zones", pulumi.Output.all(compute=milvus.compute_zones, primary=milvus.primary_zone))
    pulumi.export("milvusVersion", milvus.milvus_version)
    pulumi.export("vpcId", milvus.vpc_id)
    pulumi.export("instanceId", milvus.instance_id)
    pulumi.export("kmsKeyId", milvus.kms_key_id)
else:
    pulumi.export("region", milvus.region)
    pulumi.export("zones", pulumi.Output.all(compute=milvus.compute_zones, quorum=milvus.quorum_zones))
    pulumi.export("milvusVersion", milvus.milvus_version)
    pulumi.export("vpcId", milvus.vpc_id)
    pulumi.export("clusterId", milvus.cluster_id)
    pulumi.export("bucket", milvus.bucket_name)
    pulumi.export("ossRoleArn", milvus.oss_role_arn)
    pulumi.export("milvusEndpoint", milvus.milvus_endpoint)
    pulumi.export("kubeconfig", milvus.kubeconfig)
