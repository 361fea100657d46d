"""Policy objects of the milvus-zones CrossGuard pack (the package re-exports these names).

Built into a PolicyPack only in policies/__main__.py (constructing one starts a gRPC server); the
offline runner (milvus_zones.analysis.check) runs these same objects through pulumi-policy's own analyzer.
This package must not import milvus_zones: the pack runs in a virtualenv of its own.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, Policy

from .cluster import (
    ack_api_server_private,
    ack_control_plane_logs,
    ack_deletion_protection,
    ack_network_policy_capable,
    ack_pro_cluster,
    ack_rrsa_enabled,
    ack_secrets_encrypted,
    ack_version_current,
)
from .credentials import no_plaintext_credentials
from .cross_region import cross_region_spans_two_regions
from .ha import (
    ha_compute_node_count_even,
    ha_compute_zones_symmetric,
    ha_milvus_version_supported,
)
from .image import images_pinned_by_digest, milvus_image_has_ha_features
from .kms import kms_key_deletion_protected, kms_key_enabled, kms_key_rotation
from .maintenance import node_pool_rolls_one_node_at_a_time
from .managed import (
    managed_instance_auto_backup,
    managed_instance_encrypted,
    managed_instance_ha_consistent,
)
from .milvus import etcd_persistent_with_pdb, milvus_authorization_enabled
from .mode import mode_consistent, mode_declared
from .network import (
    nat_gateway_deletion_protection,
    nat_gateway_enhanced,
    nlb_multi_zone,
    security_group_enterprise,
    security_group_ingress_from_internet,
    security_group_ingress_restricted,
    transit_router_attachment_multi_zone,
    transit_router_attachments_routed,
    vpc_flow_logs,
    vswitch_capacity,
)
from .nodepool import (
    node_pool_auto_repair,
    node_pool_disks_customer_key,
    node_pool_disks_encrypted,
)
from .protection import stateful_resources_protected
from .ram import (
    ram_bucket_key_granted,
    ram_no_admin_attachments,
    ram_policy_attached,
    ram_policy_least_privilege,
    ram_rrsa_trust_scoped,
)
from .region import allowed_regions
from .rto import basic_recovery_within_rto, ha_failover_within_rto
from .storage import (
    bucket_access_logged,
    bucket_customer_managed_key,
    bucket_encrypted,
    bucket_https_only,
    bucket_private,
    bucket_replication_kms_objects,
    bucket_versioned,
)
from .upgrades import upgrade_from_deployed
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
    bucket_access_logged,
    bucket_customer_managed_key,
    bucket_https_only,
    bucket_replication_kms_objects,
    ack_deletion_protection,
    ack_rrsa_enabled,
    ack_api_server_private,
    ack_secrets_encrypted,
    ack_control_plane_logs,
    ack_pro_cluster,
    ack_version_current,
    ack_network_policy_capable,
    node_pool_disks_encrypted,
    node_pool_disks_customer_key,
    node_pool_auto_repair,
    kms_key_rotation,
    kms_key_deletion_protected,
    kms_key_enabled,
    ram_rrsa_trust_scoped,
    ram_policy_least_privilege,
    ram_bucket_key_granted,
    ram_no_admin_attachments,
    ram_policy_attached,
    security_group_ingress_restricted,
    security_group_ingress_from_internet,
    security_group_enterprise,
    nat_gateway_deletion_protection,
    nat_gateway_enhanced,
    vpc_flow_logs,
    vswitch_capacity,
    nlb_multi_zone,
    transit_router_attachment_multi_zone,
    transit_router_attachments_routed,
    managed_instance_ha_consistent,
    managed_instance_auto_backup,
    managed_instance_encrypted,
    milvus_authorization_enabled,
    no_plaintext_credentials,
    etcd_persistent_with_pdb,
    stateful_resources_protected,
    upgrade_from_deployed,
    allowed_regions,
    workloads_sized,
    workloads_hardened,
    network_isolated,
    images_pinned_by_digest,
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
    "parity",
    "parity_markdown",
]


def parity() -> list[dict[str, str]]:
    """One row per peer rule: scanner, id, title, status (covered | partial | not applicable), the
    policies that answer it and the note; built from the policies' metadata and peers.NOT_APPLICABLE."""
    from ._policy import peer_rules
    from .peers import NOT_APPLICABLE, PEER_RULES

    rows = []
    for r in PEER_RULES:
        answers = {p.name: peer_rules(p)[r.id] for p in ALL_POLICIES if r.id in peer_rules(p)}
        if answers:
            status = "covered" if any(note == "" for note in answers.values()) else "partial"
            note = "; ".join(n.removeprefix("partial: ") for n in answers.values() if n) if status == "partial" else ""
        else:
            status, note = "not applicable", NOT_APPLICABLE.get(r.id, "")
        rows.append({"scanner": r.scanner, "id": r.id, "title": r.title, "resource_types": ", ".join(r.resource_types),
                     "status": status, "policies": ", ".join(sorted(answers)), "note": note})
    return rows


def parity_markdown() -> str:
    """The parity table of docs/policies.md, generated from parity() (scripts/parity_table.py writes it)."""
    from collections import Counter

    rows = parity()
    levels = {p.name: (p.enforcement_level or DEFAULT_ENFORCEMENT_LEVEL).value for p in ALL_POLICIES}
    counts = Counter(r["status"] for r in rows)
    out = [
        f"{len(rows)} peer rules: {counts['covered']} covered, {counts['partial']} partly covered, "
        f"{counts['not applicable']} not applicable.",
        "",
        "| Scanner | Rule | Title | Status | Policy (level) | Note |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        policies = ", ".join(f"`{n}` ({levels[n]})" for n in r["policies"].split(", ") if n)
        note = r["note"].replace("|", "\\|")
        out.append(f"| {r['scanner']} | `{r['id']}` | {r['title']} | {r['status']} | {policies or '-'} | {note} |")
    return "\n".join(out) + "\n"
