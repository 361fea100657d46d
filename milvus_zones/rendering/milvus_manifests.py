"""What the Milvus release(s) need around them in the cluster, from the plan: the namespace, the root
password's Secret and the StorageClass of retained disks; and the release context the Helm values read.

Pure: plain dicts, no Pulumi. components/milvus.py creates one resource of each; values Pulumi knows
only once it created a resource (the namespace's name, the password secret) come in as arguments.
"""

from __future__ import annotations

from typing import Any

from milvus_zones.planning.catalog import oss_endpoint
from milvus_zones.planning.plan import TopologyPlan
from milvus_zones.rendering.helm_values import PASSWORD_KEY, PASSWORD_SECRET, ReleaseContext

SERVICE_ACCOUNT = "milvus"
RETAIN_STORAGE_CLASS = "milvus-zones-disk-retain"
# ACK's pod-identity webhook injects RRSA credentials into pods of namespaces carrying this label.
RRSA_INJECTION_LABEL = "pod-identity.alibabacloud.com/injection"
DISK_PROVISIONER = "diskplugin.csi.alibabacloud.com"


def namespace(plan: TopologyPlan) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": plan.namespace, "labels": {RRSA_INJECTION_LABEL: "on"}}}


def root_password_secret(namespace_name: Any, password: Any) -> dict[str, Any]:
    """`password`: the Pulumi secret itself; it is stored only here."""
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": PASSWORD_SECRET, "namespace": namespace_name},
            "type": "Opaque", "stringData": {PASSWORD_KEY: password}}


def retain_storage_class() -> dict[str, Any]:
    """etcd's (and the message service's) disks outlive a deleted claim: reclaim policy Retain."""
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": RETAIN_STORAGE_CLASS},
            "provisioner": DISK_PROVISIONER,
            "parameters": {"type": "cloud_essd,cloud_ssd", "fstype": "ext4"},
            "reclaimPolicy": "Retain",
            # Zonal disks: bind only once the pod is scheduled, so the disk lands in the pod's zone.
            "volumeBindingMode": "WaitForFirstConsumer",
            "allowVolumeExpansion": True}


def release_context(plan: TopologyPlan, role_name: str, vswitch_ids: dict[str, str], lb_id: str | None,
                    peer_cidrs: tuple[str, ...]) -> ReleaseContext:
    """What the Helm values need beyond the plan: the RAM role, the proxies' vSwitches or reused NLB."""
    return ReleaseContext(
        role_name=role_name,
        service_account=SERVICE_ACCOUNT,
        password_secret=PASSWORD_SECRET,
        oss_endpoint=oss_endpoint(plan.region),
        vpc_cidr=plan.vpc_cidr,
        lb_vswitch_ids=vswitch_ids,
        storage_class=RETAIN_STORAGE_CLASS,
        lb_id=lb_id,
        peer_cidrs=peer_cidrs,
    )
