"""Changes a running deployment cannot take in one `pulumi up`, refused with the supported path.

Evaluated on two validated specs, the deployed one (base) and the proposed one: `milvus-zones
check STACK --base FILE`. Sources:
- Milvus chart 5.0.19 README, "Upgrading from Milvus v2.5.x to v2.6.x": "You must upgrade to v2.5.16
  with mixCoordinator enabled before upgrading to v2.6.x". Our 2.5 stacks run chart 4.2.58
  (Milvus 2.5.16) with mixCoordinator on, so they meet that step; a 2.4 stack does not.
- The message service holds the WAL of a live cluster: switching it (Pulsar/Kafka -> Woodpecker,
  the 2.6 default) abandons unconsumed log; the chart README's 2.5 -> 2.6 steps keep it.
- The bucket (and root path) holds every segment: a new one starts an empty cluster.
- Kubernetes cannot shrink a PersistentVolumeClaim (only expansion is supported), and fewer etcd
  members per zone means removing members of a live quorum.
"""

from __future__ import annotations

from milvus_zones.planning.spec import Backend, DeploymentSpec, Mode

_MINORS = ("2.4", "2.5", "2.6")


def upgrade_problems(base: DeploymentSpec, new: DeploymentSpec) -> list[tuple[str, str]]:
    """(config key, message naming the supported path) for each change `new` cannot take from `base`."""
    problems: list[tuple[str, str]] = []
    a, b = _MINORS.index(base.milvus_version), _MINORS.index(new.milvus_version)
    if b < a:
        problems.append(("milvusVersion", f"{base.milvus_version} -> {new.milvus_version} is a downgrade; the chart "
                                          "documents upgrades only: keep milvusVersion " + base.milvus_version))
    elif b - a > 1:
        problems.append(("milvusVersion", f"{base.milvus_version} -> {new.milvus_version} skips a minor version; "
                                          f"upgrade to {_MINORS[a + 1]} first, deploy it, then to {new.milvus_version} "
                                          "(chart README: 2.6 only from v2.5.16 with mixCoordinator)"))
    if base.effective_message_service is not new.effective_message_service:
        keep = base.effective_message_service
        problems.append(("messageService",
                         f"the running cluster's WAL is in {keep}; {new.effective_message_service} would start an "
                         f"empty log under live data. Keep it: set messageService: {keep}"
                         + (" (2.6 keeps Pulsar/Kafka when it is set)" if new.milvus_version == "2.6" else "")))
    if (base.mode is Mode.MULTI_ZONE_HA and new.mode is Mode.MULTI_ZONE_HA and base.backend is Backend.SELF_HOSTED
            and base.milvus_version != "2.6" and new.milvus_version == "2.6"):
        problems.append(("milvusVersion", "multi-zone-ha on 2.5 runs one Milvus release per compute zone, on 2.6 one "
                                          "release with a resource group per zone: not an in-place upgrade (it would "
                                          "delete a protected release). Deploy a new 2.6 stack and restore a "
                                          "milvus-backup of this one into it"))
    if base.bucket_name != new.bucket_name or base.bucket_root_path != new.bucket_root_path:
        problems.append(("bucketName" if base.bucket_name != new.bucket_name else "bucketRootPath",
                         "the bucket holds every segment of the live deployment; a new one starts it empty. Keep "
                         f"{base.bucket_name}/{base.bucket_root_path}; to move data, use milvus-backup into a new stack"))
    if new.etcd_volume_size_gi < base.etcd_volume_size_gi:
        problems.append(("etcdVolumeSizeGi", f"{base.etcd_volume_size_gi} -> {new.etcd_volume_size_gi} GiB: Kubernetes "
                                             "cannot shrink a PersistentVolumeClaim; keep it, or grow it"))
    if new.quorum_nodes_per_zone < base.quorum_nodes_per_zone:
        problems.append(("quorumNodesPerZone", f"{base.quorum_nodes_per_zone} -> {new.quorum_nodes_per_zone}: removes "
                                               "etcd members of a live quorum; keep it"))
    if base.backend is not new.backend or (base.mode is not new.mode and Mode.CROSS_REGION_HA in (base.mode, new.mode)):
        problems.append(("backend" if base.backend is not new.backend else "mode",
                         "moves the deployment to another architecture; deploy a new stack and restore a "
                         "milvus-backup of this one into it"))
    return problems
