"""Stage 3, components (installed as milvus_zones.components): Pulumi ComponentResources, each turning
part of a topology plan into resources.

Rule: imports planning and rendering (and the jobs as package data); never engine, analysis or operations.
"""

from milvus_zones.components.cluster import Cluster, ClusterArgs
from milvus_zones.components.cross_region import (
    CrossRegionDeployment,
    CrossRegionDeploymentArgs,
)
from milvus_zones.components.deployment import MilvusDeployment, MilvusDeploymentArgs
from milvus_zones.components.managed import ManagedMilvus, ManagedMilvusArgs
from milvus_zones.components.milvus import Milvus, MilvusArgs
from milvus_zones.components.network import Network, NetworkArgs
from milvus_zones.components.storage import Storage, StorageArgs

__all__ = [
    "Cluster", "ClusterArgs", "CrossRegionDeployment", "CrossRegionDeploymentArgs", "ManagedMilvus", "ManagedMilvusArgs", "Milvus", "MilvusArgs", "MilvusDeployment", "MilvusDeploymentArgs",
    "Network", "NetworkArgs", "Storage", "StorageArgs",
]
