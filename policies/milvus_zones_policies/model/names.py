"""Names the stacks and the pack must agree on: resource types, tags, labels and annotations.

Defined here once; milvus_zones (planner, Helm values, post-renderer, components) imports them, so a
generated stack and the policies that judge it cannot drift apart.
"""

from __future__ import annotations

# -- resource types -------------------------------------------------------------------------------
CLUSTER_TYPES = frozenset({"alicloud:cs/managedKubernetes:ManagedKubernetes", "alicloud:cs/kubernetes:Kubernetes"})
NODE_POOL = "alicloud:cs/nodePool:NodePool"
VSWITCH = "alicloud:vpc/switch:Switch"
BUCKET = "alicloud:oss/bucket:Bucket"
BUCKET_ACL = "alicloud:oss/bucketAcl:BucketAcl"
BUCKET_PUBLIC_ACCESS_BLOCK = "alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_SSE = "alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption"
BUCKET_VERSIONING = "alicloud:oss/bucketVersioning:BucketVersioning"
BUCKET_REPLICATION = "alicloud:oss/bucketReplication:BucketReplication"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
MILVUS_INSTANCE = "alicloud:index/milvusInstance:MilvusInstance"
PDB_TYPES = frozenset({"kubernetes:policy/v1:PodDisruptionBudget", "kubernetes:policy/v1beta1:PodDisruptionBudget"})
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
K8S_DEPLOYMENT = "kubernetes:apps/v1:Deployment"
K8S_STATEFULSET = "kubernetes:apps/v1:StatefulSet"
K8S_SERVICE = "kubernetes:core/v1:Service"
PRIVATE_ZONE_RECORD = "alicloud:pvtz/zoneRecord:ZoneRecord"

# -- modes ------------------------------------------------------------------------------------------
SINGLE_ZONE, MULTI_ZONE_BASIC, MULTI_ZONE_HA = "single-zone", "multi-zone-basic", "multi-zone-ha"
CROSS_REGION_HA = "cross-region-ha"
MODES = (SINGLE_ZONE, MULTI_ZONE_BASIC, MULTI_ZONE_HA, CROSS_REGION_HA)
REGION_MODES = (MULTI_ZONE_BASIC, MULTI_ZONE_HA)
MULTI_ZONE_MODES = frozenset({MULTI_ZONE_BASIC, MULTI_ZONE_HA, CROSS_REGION_HA})
HA_MODES = frozenset({MULTI_ZONE_HA, CROSS_REGION_HA})

# -- tags (cloud resources) and labels (Helm values, Kubernetes objects, node pools) ----------------------
MODE_KEY = "milvus-zones/mode"
REGION_MODE_KEY = "milvus-zones/region-mode"  # cross-region-ha: the mode of each region's deployment
REGION_ROLE_KEY = "milvus-zones/region-role"
ROLE_LABEL = "milvus-zones/role"  # node pools: compute | quorum
POOL_LABEL = "milvus-zones/pool"
CLUSTER_LABEL = "milvus-zones/cluster"
FAILOVER_LABEL = "milvus-zones/failover"  # the failover controller's Deployment: its action

# -- annotations the Helm values carry for the post-renderer ---------------------------------------------
ANN_RG_SELECTORS = "milvus-zones/resource-group-node-selectors"
ANN_WORKLOAD_PATCHES = "milvus-zones/workload-patches"
ANN_LB_CLASS = "milvus-zones/load-balancer-class"
ANN_SERVICE_SELECTOR = "milvus-zones/service-selector"
ANN_HARDENING = "milvus-zones/hardening"  # pod/container security the post-renderer applies where the chart has no key
NLB_ANN_PREFIX = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-"

# -- Kubernetes -----------------------------------------------------------------------------------------
ZONE_KEYS = frozenset({"topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone"})
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
