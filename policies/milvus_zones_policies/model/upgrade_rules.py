"""Changes a running deployment cannot take in one `pulumi up`, on what it runs: one rule set for the
offline `check --base` / `diff` (from two stack specs) and for the pack's `upgrade-from-deployed` (the
proposed resources against the deployed state recorded in a stack tag). Sources:

- Milvus chart 5.0.19 README, "Upgrading from Milvus v2.5.x to v2.6.x": "You must upgrade to v2.5.16
  with mixCoordinator enabled before upgrading to v2.6.x". The 2.5 stacks run chart 4.2.58 (Milvus
  2.5.16) with mixCoordinator on, so they meet that step; a 2.4 stack does not.
- The message service holds the WAL of a live cluster: switching it (Pulsar/Kafka -> Woodpecker, the
  2.6 default) abandons unconsumed log; the chart README's 2.5 -> 2.6 steps keep it.
- The bucket (and root path) holds every segment: a new one starts an empty cluster.
- Kubernetes cannot shrink a PersistentVolumeClaim (only expansion is supported), and fewer etcd members
  per zone means removing members of a live quorum.

A field that is None is not known (e.g. not in the tag) and its rules are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

MINORS = ("2.4", "2.5", "2.6")
DEPLOYED_TAG = "milvus-zones:deployed"  # the stack tag holding the deployed state (Running.to_tag)
_TAG_KEYS = {"milvus": "milvus_version", "wal": "message_service", "bucket": "bucket_name", "root": "bucket_root_path",
             "etcdGi": "etcd_volume_size_gi", "quorumPerZone": "quorum_nodes_per_zone", "mode": "mode",
             "backend": "backend"}


@dataclass(frozen=True)
class Running:
    """What a deployment runs, in the terms the rules compare."""

    milvus_version: str | None = None  # minor: 2.4, 2.5, 2.6
    message_service: str | None = None  # pulsar, kafka or woodpecker
    bucket_name: str | None = None
    bucket_root_path: str | None = None
    etcd_volume_size_gi: int | None = None
    quorum_nodes_per_zone: int | None = None
    mode: str | None = None
    backend: str | None = None  # self-hosted or managed

    def to_tag(self) -> str:
        """`milvus=2.5,wal=pulsar,...`: a stack tag value (Pulumi allows 256 characters)."""
        own = {v: k for k, v in _TAG_KEYS.items()}
        return ",".join(f"{own[f.name]}={getattr(self, f.name)}" for f in fields(self)
                        if getattr(self, f.name) is not None)

    @staticmethod
    def from_tag(text: str) -> Running:
        """Parse a tag value; ValueError naming what is wrong."""
        values: dict[str, object] = {}
        for item in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = item.partition("=")
            if not sep or key not in _TAG_KEYS:
                raise ValueError(f"{item!r} is not one of {', '.join(k + '=...' for k in _TAG_KEYS)}")
            name = _TAG_KEYS[key]
            if name in ("etcd_volume_size_gi", "quorum_nodes_per_zone"):
                if not value.isdigit():
                    raise ValueError(f"{key}={value}: a whole number is expected")
                values[name] = int(value)
            else:
                values[name] = value
        if values.get("milvus_version") not in (None, *MINORS):
            raise ValueError(f"milvus={values['milvus_version']}: one of {', '.join(MINORS)} is expected")
        return Running(**values)  # type: ignore[arg-type]


# Pulumi's stack tags (pulumi/pulumi pkg/util/validation/stack.go, ValidateStackTags): names match ^[a-zA-Z0-9-_.:]{1,40}$,
# values are at most 256 characters, so one Running (~130) per tag: a stack of several deployments gets
# one tag per deployment, `milvus-zones:deployed:<deployment>`, next to (or instead of) the stack's one.
TAG_NAME_MAX, TAG_VALUE_MAX = 40, 256
_TAG_NAME_RE = re.compile(r"^[a-zA-Z0-9._:-]{1,40}$")


def deployment_tag(name: str) -> str:
    """The tag that records deployment `name`'s state; ValueError when Pulumi would refuse the name."""
    tag = f"{DEPLOYED_TAG}:{name}"
    if not _TAG_NAME_RE.match(tag):
        raise ValueError(f"{tag!r} is not a stack tag name Pulumi accepts (at most {TAG_NAME_MAX} letters, digits, "
                         f"'-', '_', '.', ':'): deployment names up to {TAG_NAME_MAX - len(DEPLOYED_TAG) - 1} characters")
    return tag


def deployed_states(stack_tags: dict[str, str]) -> dict[str | None, str]:
    """The deployed-state tags of a stack: None -> the stack's one (`milvus-zones:deployed`, a stack of one
    deployment, the format recorded before), name -> that deployment's (`milvus-zones:deployed:<name>`)."""
    out: dict[str | None, str] = {}
    for tag, value in (stack_tags or {}).items():
        if tag == DEPLOYED_TAG:
            out[None] = value
        elif tag.startswith(DEPLOYED_TAG + ":") and len(tag) > len(DEPLOYED_TAG) + 1:
            out[tag[len(DEPLOYED_TAG) + 1:]] = value
    return out


def refusals(base: Running, new: Running) -> list[tuple[str, str]]:
    """(config key, message naming the supported path) for each change `new` cannot take from `base`."""
    problems: list[tuple[str, str]] = []
    if base.milvus_version in MINORS and new.milvus_version in MINORS:
        a, b = MINORS.index(base.milvus_version), MINORS.index(new.milvus_version)
        if b < a:
            problems.append(("milvusVersion", f"{base.milvus_version} -> {new.milvus_version} is a downgrade; the "
                                              "chart documents upgrades only: keep milvusVersion "
                                              + base.milvus_version))
        elif b - a > 1:
            problems.append(("milvusVersion", f"{base.milvus_version} -> {new.milvus_version} skips a minor version; "
                                              f"upgrade to {MINORS[a + 1]} first, deploy it, then to "
                                              f"{new.milvus_version} (chart README: 2.6 only from v2.5.16 with "
                                              "mixCoordinator)"))
    if None not in (base.message_service, new.message_service) and base.message_service != new.message_service:
        keep = base.message_service
        problems.append(("messageService",
                         f"the running cluster's WAL is in {keep}; {new.message_service} would start an "
                         f"empty log under live data. Keep it: set messageService: {keep}"
                         + (" (2.6 keeps Pulsar/Kafka when it is set)" if new.milvus_version == "2.6" else "")))
    if (base.mode == new.mode == "multi-zone-ha" and base.backend == "self-hosted"
            and base.milvus_version in ("2.4", "2.5") and new.milvus_version == "2.6"):
        problems.append(("milvusVersion", "multi-zone-ha on 2.5 runs one Milvus release per compute zone, on 2.6 one "
                                          "release with a resource group per zone: not an in-place upgrade (it would "
                                          "delete a protected release). Deploy a new 2.6 stack and restore a "
                                          "milvus-backup of this one into it"))
    name_changed = None not in (base.bucket_name, new.bucket_name) and base.bucket_name != new.bucket_name
    root_changed = (None not in (base.bucket_root_path, new.bucket_root_path)
                    and base.bucket_root_path != new.bucket_root_path)
    if name_changed or root_changed:
        problems.append(("bucketName" if name_changed else "bucketRootPath",
                         "the bucket holds every segment of the live deployment; a new one starts it empty. Keep "
                         f"{base.bucket_name}/{base.bucket_root_path}; to move data, use milvus-backup into a new stack"))
    if (None not in (base.etcd_volume_size_gi, new.etcd_volume_size_gi)
            and new.etcd_volume_size_gi < base.etcd_volume_size_gi):  # type: ignore[operator]
        problems.append(("etcdVolumeSizeGi", f"{base.etcd_volume_size_gi} -> {new.etcd_volume_size_gi} GiB: Kubernetes "
                                             "cannot shrink a PersistentVolumeClaim; keep it, or grow it"))
    if (None not in (base.quorum_nodes_per_zone, new.quorum_nodes_per_zone)
            and new.quorum_nodes_per_zone < base.quorum_nodes_per_zone):  # type: ignore[operator]
        problems.append(("quorumNodesPerZone", f"{base.quorum_nodes_per_zone} -> {new.quorum_nodes_per_zone}: removes "
                                               "etcd members of a live quorum; keep it"))
    backend_changed = None not in (base.backend, new.backend) and base.backend != new.backend
    mode_changed = (None not in (base.mode, new.mode) and base.mode != new.mode
                    and "cross-region-ha" in (base.mode, new.mode))
    if backend_changed or mode_changed:
        problems.append(("backend" if backend_changed else "mode",
                         "moves the deployment to another architecture; deploy a new stack and restore a "
                         "milvus-backup of this one into it"))
    return problems
