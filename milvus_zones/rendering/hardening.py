"""Security context of every pod the chart runs: what each image needs, checked at the pinned versions.

Pure data and small builders. `helm_values` writes these through the chart keys that exist
(Milvus chart >= 4.2.58: `securityContext`, `containerSecurityContext`, `volumes`, `volumeMounts`;
bitnami etcd: `podSecurityContext`, `containerSecurityContext`) and, for what no key reaches
(chart 4.2.25, the Pulsar and Kafka subcharts, `automountServiceAccountToken` everywhere), hands the
same rules to the post-renderer in the `milvus-zones/hardening` annotation.

Images, as read at the pinned versions:
- milvusdb/milvus (build/docker/milvus/ubuntu22.04/Dockerfile at v2.6.15 and v2.5.16): no USER, so
  root by default; /milvus/bin/milvus, /milvus/lib and /milvus/configs are root:root mode 774, so a
  non-root user must be in group 0 to execute them. Milvus writes only under /var/lib/milvus
  (configs/milvus.yaml localStorage.path /var/lib/milvus/data, woodpecker /var/lib/milvus/wp, the
  analyzer's local_resource_path) and /tmp; its logs go to stdout (log.file.rootPath is empty unless
  the chart's log.persistence is on) and the chart mounts its config files read-only. So: UID 10001,
  GID 0, read-only root filesystem with emptyDirs on /var/lib/milvus and /tmp.
- bitnami etcd / kafka / zookeeper (charts etcd 6.3.3, 8.12.0; kafka 15.5.1): the charts already run
  them as UID 1001 (containerSecurityContext.runAsUser); their entrypoints write their config under
  /opt/bitnami at start, so the root filesystem stays writable (docs/hardening.md).
- apachepulsar/pulsar 3.x (3.0.7 in charts 4.2.58, 5.0.19): non-root since 2.10 (apache/pulsar#13376);
  the 3.x docker/pulsar/Dockerfile (Ubuntu 22.04 stage) ends `useradd pulsar -u 10000 -g 0`,
  `USER 10000`, with /pulsar/{conf,data,download,logs} owned 10000:0 and group-writable. So: UID
  10000, GID 0, stated explicitly. Its scripts rewrite /pulsar/conf/*.conf in place at start
  (bin/apply-config-from-env.py), so the root filesystem stays writable. 2.9.5 (Pulsar v2 on chart
  4.2.25) predates the non-root image: it keeps its user. The subchart gives every init container
  one `initContainer.resources` (no limits); each takes its own pod's container's size instead
  (`init_resources`: docs/hardening.md).
"""

from __future__ import annotations

import json
from typing import Any

from milvus_zones.rendering.postrender import ANN_HARDENING, writable_volume_name

MILVUS_UID = 10001
MILVUS_GID = 0  # the image's files are root:root 774: group 0 may execute them
BITNAMI_UID = 1001
PULSAR_UID = 10000  # the image's USER (3.x Dockerfile)
PULSAR_GID = 0  # its writable directories are 10000:0, group-writable
MILVUS_WRITABLE = ("/var/lib/milvus", "/tmp")

SECCOMP = {"type": "RuntimeDefault"}
# Every container, whatever its image.
CONTAINER_BASE: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "privileged": False,
    "seccompProfile": dict(SECCOMP),
}
POD_BASE: dict[str, Any] = {"seccompProfile": dict(SECCOMP)}


def milvus_pod_security() -> dict:
    """Milvus chart `securityContext` (pod level)."""
    return {"runAsNonRoot": True, "runAsUser": MILVUS_UID, "runAsGroup": MILVUS_GID, "fsGroup": MILVUS_UID,
            **POD_BASE}


def milvus_container_security() -> dict:
    """Milvus chart `containerSecurityContext`."""
    return {**CONTAINER_BASE, "runAsNonRoot": True, "runAsUser": MILVUS_UID, "runAsGroup": MILVUS_GID,
            "readOnlyRootFilesystem": True}


def milvus_volumes() -> tuple[list[dict], list[dict]]:
    """Milvus chart `volumes` / `volumeMounts`: the only paths Milvus writes to."""
    volumes = [{"name": writable_volume_name(p), "emptyDir": {}} for p in MILVUS_WRITABLE]
    mounts = [{"name": writable_volume_name(p), "mountPath": p} for p in MILVUS_WRITABLE]
    return volumes, mounts


def etcd_security() -> dict:
    """bitnami etcd `podSecurityContext` / `containerSecurityContext` (both rendered minus `enabled`)."""
    return {
        "podSecurityContext": {"enabled": True, "fsGroup": BITNAMI_UID, **POD_BASE},
        "containerSecurityContext": {"enabled": True, "runAsUser": BITNAMI_UID, "runAsNonRoot": True,
                                     **CONTAINER_BASE, "readOnlyRootFilesystem": False},
    }


# Per image (matched on the repository part of the image reference, registry stripped).
IMAGE_RULES: list[dict[str, Any]] = [
    {"repository": "milvusdb/milvus",
     "container": {"runAsNonRoot": True, "runAsUser": MILVUS_UID, "runAsGroup": MILVUS_GID,
                   "readOnlyRootFilesystem": True},
     "pod": {"runAsNonRoot": True, "fsGroup": MILVUS_UID},
     "writable": list(MILVUS_WRITABLE)},
    {"repository": "milvusdb/etcd", "container": {"runAsNonRoot": True, "runAsUser": BITNAMI_UID}},
    {"repository": "bitnami/etcd", "container": {"runAsNonRoot": True, "runAsUser": BITNAMI_UID}},
    {"repository": "bitnami/kafka", "container": {"runAsNonRoot": True, "runAsUser": BITNAMI_UID}},
    {"repository": "bitnami/zookeeper", "container": {"runAsNonRoot": True, "runAsUser": BITNAMI_UID}},
    # Pulsar 3.x only (tag prefix): 2.9.5 runs as root. Init containers without limits (the subchart's
    # one `initContainer.resources`) take their pod's container's resources, whatever the release.
    {"repository": "apachepulsar/pulsar", "tag_prefixes": ["3."],
     "container": {"runAsNonRoot": True, "runAsUser": PULSAR_UID, "runAsGroup": PULSAR_GID},
     "pod": {"runAsNonRoot": True}},
    {"repository": "apachepulsar/pulsar", "init_resources": True},
]


__all__ = ["ANN_HARDENING", "directive", "etcd_security", "milvus_container_security", "milvus_pod_security",
           "milvus_volumes"]


def directive() -> str:
    """The post-renderer's instruction: defaults for every pod, and what each image needs."""
    return json.dumps(
        {"pod": POD_BASE, "container": CONTAINER_BASE, "automountServiceAccountToken": False, "images": IMAGE_RULES},
        sort_keys=True, separators=(",", ":"),
    )
