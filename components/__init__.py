"""Stage 3, components (installed as milvus_zones.components): Pulumi ComponentResources, each turning
part of a topology plan into resources.

MilvusZones is the one to use: settings in, a deployment of the mode out. The others are its
building blocks, public for programs that compose their own topology from a plan
(milvus_zones.planning.plan); modules not exported here are internal.

Rule: imports planning and rendering (and the jobs as package data); never engine, analysis or operations.
"""

from milvus_zones.components.backup import Backup, BackupArgs, BackupReplication
from milvus_zones.components.cluster import Cluster, ClusterArgs
from milvus_zones.components.cross_region import (
    CrossRegionDeployment,
    CrossRegionDeploymentArgs,
)
from milvus_zones.components.deployment import MilvusDeployment, MilvusDeploymentArgs
from milvus_zones.components.managed import ManagedMilvus, ManagedMilvusArgs
from milvus_zones.components.milvus import Milvus, MilvusArgs
from milvus_zones.components.monitoring import Monitoring, MonitoringArgs
from milvus_zones.components.milvus_zones import (
    ExistingClusterArgs,
    ExistingVpcArgs,
    InvalidSettings,
    MilvusZones,
    MilvusZonesArgs,
)
from milvus_zones.components.network import Network, NetworkArgs
from milvus_zones.components.storage import Storage, StorageArgs

__all__ = [
    "Backup", "BackupArgs", "BackupReplication", "Cluster", "ClusterArgs", "CrossRegionDeployment",
    "CrossRegionDeploymentArgs", "ExistingClusterArgs", "ExistingVpcArgs", "InvalidSettings", "ManagedMilvus",
    "ManagedMilvusArgs", "Milvus", "MilvusArgs", "MilvusDeployment", "MilvusDeploymentArgs", "MilvusZones",
    "MilvusZonesArgs", "Monitoring", "MonitoringArgs", "Network", "NetworkArgs", "Storage", "StorageArgs",
]
