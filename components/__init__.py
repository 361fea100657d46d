"""Pulumi ComponentResources of milvus-zones; each turns part of a TopologyPlan into resources."""

from components.cluster import Cluster, ClusterArgs
from components.cross_region import CrossRegionDeployment, CrossRegionDeploymentArgs
from components.deployment import MilvusDeployment, MilvusDeploymentArgs
from components.managed import ManagedMilvus, ManagedMilvusArgs
from components.milvus import Milvus, MilvusArgs
from components.network import Network, NetworkArgs
from components.storage import Storage, StorageArgs

__all__ = [
    "Cluster", "ClusterArgs", "CrossRegionDeployment", "CrossRegionDeploymentArgs", "ManagedMilvus", "ManagedMilvusArgs", "Milvus", "MilvusArgs", "MilvusDeployment", "MilvusDeploymentArgs",
    "Network", "NetworkArgs", "Storage", "StorageArgs",
]
