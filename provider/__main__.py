"""The milvus-zones component provider: MilvusZones for every Pulumi language.

Started by the Pulumi engine (see PulumiPlugin.yaml); `python -m milvus_zones.provider` is not a thing.
"""

from importlib.metadata import version

from milvus_zones.components.milvus_zones import MilvusZones
from pulumi.provider.experimental import component_provider_host

if __name__ == "__main__":
    component_provider_host(name="milvus-zones", components=[MilvusZones], version=version("milvus-zones"))
