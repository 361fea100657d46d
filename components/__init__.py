"""Pulumi ComponentResources of milvus-zones; each turns part of a TopologyPlan into resources."""

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
