"""Policy objects of the milvus-zones CrossGuard pack (the package re-exports these names).

Built into a PolicyPack only in policies/__main__.py (constructing one starts a gRPC server); the
offline runner (milvus_zones.analysis.check) runs these same objects through pulumi-policy's own analyzer.
This package must not import milvus_zones: the pack runs in a virtualenv of its own.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, Policy

from .cluster import ack_api_server_private, ack_deletion_protection, ack_rrsa_enabled
from .credentials import no_plaintext_credentials
from .cross_region import cross_region_spans_two_regions
from .ha import (
    ha_compute_node_count_even,
    ha_compute_zones_symmetric,
    ha_milvus_version_supported,
)
from .image import milvus_image_has_ha_features
from .maintenance import node_pool_rolls_one_node_at_a_time
from .milvus import etcd_persistent_with_pdb, milvus_authorization_enabled
from .mode import mode_consistent, mode_declared
from .protection import stateful_resources_protected
from .region import allowed_regions
from .rto import basic_recovery_within_rto, ha_failover_within_rto
from .storage import bucket_encrypted, bucket_private, bucket_versioned
from .workloads import network_isolated, workloads_hardened, workloads_sized
from .zones import (
    compute_zone_count,
    control_plane_multi_zone,
    message_service_spans_three_zones,
    metadata_spans_three_zones,
    object_storage_zone_redundant,
)

PACK_NAME = "milvus-zones"
PACK_VERSION = "0.1.0"  # keep equal to `version` in policies/PulumiPolicy.yaml
PACK_DESCRIPTION = ("Deployment-mode rules (HA limits, zone spread, ZRS), data safety and security for "
                    "Milvus on Alibaba Cloud ACK.")
DEFAULT_ENFORCEMENT_LEVEL = EnforcementLevel.ADVISORY  # every policy sets its own level

ALL_POLICIES: list[Policy] = [
    # the mode a stack declares
    mode_declared,
    mode_consistent,
    # HA limitations (seed)
    ha_compute_node_count_even,
    ha_milvus_version_supported,
    ha_compute_zones_symmetric,
    milvus_image_has_ha_features,
    # zone rules per mode
    compute_zone_count,
    control_plane_multi_zone,
    metadata_spans_three_zones,
    message_service_spans_three_zones,
    object_storage_zone_redundant,
    cross_region_spans_two_regions,
    # recovery budgets after losing a zone (docs/failures.md)
    ha_failover_within_rto,
    basic_recovery_within_rto,
    # data safety and security
    bucket_private,
    bucket_encrypted,
    bucket_versioned,
    ack_deletion_protection,
    ack_rrsa_enabled,
    ack_api_server_private,
    milvus_authorization_enabled,
    no_plaintext_credentials,
    etcd_persistent_with_pdb,
    stateful_resources_protected,
    allowed_regions,
    workloads_sized,
    workloads_hardened,
    network_isolated,
    # maintenance (docs/operations.md)
    node_pool_rolls_one_node_at_a_time,
]


def config_schema() -> dict[str, Any]:
    """The pack's config schema: per policy, its enforcementLevel and its own properties."""
    levels = ["advisory", "mandatory", "remediate", "disabled"]
    schema: dict[str, Any] = {"all": {"enum": levels}}
    for p in ALL_POLICIES:
        props: dict[str, Any] = {"enforcementLevel": {"enum": levels}}
        if p.config_schema is not None:
            props.update(p.config_schema.properties)
        schema[p.name] = {"oneOf": [{"enum": levels}, {"type": "object", "properties": props,
                                                          "additionalProperties": False}]}
    return schema


__all__ = [
    "ALL_POLICIES",
    "DEFAULT_ENFORCEMENT_LEVEL",
    "PACK_DESCRIPTION",
    "PACK_NAME",
    "PACK_VERSION",
    "config_schema",
]
