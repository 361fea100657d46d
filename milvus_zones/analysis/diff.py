"""What a change of a stack's configuration does to its resources: two recorded graphs compared by URN.

Each resource is created, updated (the changed inputs, old -> new), replaced or deleted, as `pulumi
preview` would show it. Replacement is predicted from the providers' replace-on-change inputs
(`replace_on_change.json`, derived from the providers' source by `scripts/replace_on_change.py`), from a
change of provider, and, for Kubernetes ConfigMaps and Secrets, from the provider's
`enableConfigMapMutable` / `enableSecretMutable` and the object's `immutable`. A replacement or deletion of
a stateful or protected resource is data loss (`DiffEntry.data_loss`).

What this cannot see offline: a provider's own CustomizeDiff logic beyond `ForceNew` and `d.ForceNew`,
outputs known only after a real `pulumi up`, and drift of the live resources from the state.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from importlib import resources as importlib_resources
from typing import Any

from milvus_zones.engine.offline import SECRET_MARK, Graph, Resource

# Where data lives, or what it cannot live without: replacing or deleting one of these loses data (the
# bucket's segments, the cluster and its pools with the etcd and WAL disks, the release that owns the
# etcd PVCs, the keys the bucket and disks are encrypted with, the managed instance).
STATEFUL_TYPES = frozenset({
    "alicloud:oss/bucket:Bucket",
    "alicloud:cs/managedKubernetes:ManagedKubernetes",
    "alicloud:cs/nodePool:NodePool",
    "kubernetes:helm.sh/v3:Release",
    "kubernetes:core/v1:PersistentVolumeClaim",
    "alicloud:kms/key:Key",
    "alicloud:index/milvusInstance:MilvusInstance",
})

ACTIONS = ("create", "update", "replace", "delete")


@functools.cache
def replace_rules() -> dict[str, Any]:
    """The derived replace-on-change data: {"sources": {...}, "types": {token: {"replace": [...], ...}}}."""
    text = importlib_resources.files("milvus_zones.analysis").joinpath("replace_on_change.json").read_text()
    return json.loads(text)


@dataclass(frozen=True)
class Change:
    path: str
    old: Any  # secrets masked; None when the input was not set
    new: Any
    forces_replacement: bool = False


@dataclass(frozen=True)
class DiffEntry:
    urn: str
    type: str
    name: str
    action: str  # create | update | replace | delete
    changes: tuple[Change, ...] = ()
    reasons: tuple[str, ...] = ()  # why a replacement: the input paths, or "provider"
    stateful: bool = False
    protected: bool = False  # protect or retainOnDelete

    @property
    def data_loss(self) -> bool:
        return self.action in ("replace", "delete") and (self.stateful or self.protected)


@dataclass
class StackDiff:
    stack: str
    base: str  # where the base configuration came from
    entries: list[DiffEntry]
    upgrade: list[tuple[str, str]] = field(default_factory=list)  # (config key, refusal naming the path)
    backup: list[str] = field(default_factory=list)  # commands that take a backup first
    backup_reason: str = ""
    notes: list[str] = field(default_factory=list)
    unknown_types: list[str] = field(default_factory=list)  # types without replace data

    @property
    def data_loss(self) -> list[DiffEntry]:
        return [e for e in self.entries if e.data_loss]

    def counts(self) -> dict[str, int]:
        return {a: sum(1 for e in self.entries if e.action == a) for a in ACTIONS}


def _tree_diff(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(path, old, new) of what differs, at the highest level where one side lacks a value: a block added
    or removed is one change, not one per leaf. Lists of equal length compare item by item."""
    if a == b:
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{k}" if path else str(k)
            if k not in a:
                out.append((sub, None, b[k]))
            elif k not in b:
                out.append((sub, a[k], None))
            else:
                out += _tree_diff(a[k], b[k], sub)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [c for i, (x, y) in enumerate(zip(a, b, strict=True)) for c in _tree_diff(x, y, f"{path}[{i}]")]
    return [(path, a, b)]


_INDEX = re.compile(r"\[(\d+|\*)\]")


def _bare(path: str) -> str:
    return _INDEX.sub("", path)


def _matches(path: str, pattern: str) -> bool:
    """A changed input at `path` touches the replace-on-change input `pattern` (list indexes ignored): the
    same input, inside it, or an enclosing value that was added or removed as a whole."""
    p, q = _bare(path), _bare(pattern)
    return p == q or p.startswith(q + ".") or q.startswith(p + ".")


def _masked(plain_inputs: Any, path: str) -> bool:
    """Whether `path` is (inside) a secret in the masked inputs."""
    node = plain_inputs
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if node == SECRET_MARK:
            return True
        if part.startswith("["):
            i = int(part[1:-1])
            node = node[i] if isinstance(node, list) and i < len(node) else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
    return node == SECRET_MARK


def _provider_urn(r: Resource) -> str:
    return r.provider.rsplit("::", 1)[0] if r.provider else ""


def replace_paths(r: Resource, graph: Graph) -> list[str] | None:
    """The inputs whose change replaces `r` (None: the type has no derived data)."""
    rule = replace_rules()["types"].get(r.type)
    if rule is None:
        return None
    paths = list(rule["replace"])
    mutable = rule.get("replace_unless_mutable")
    if mutable:
        provider = graph.by_urn(_provider_urn(r))
        flag = (provider.inputs.get(mutable["provider"]) if provider is not None else None)
        if str(flag).lower() != "true" or r.inputs.get("immutable") is True:
            paths += mutable["paths"]
    return paths


def _changes(old: Resource, new: Resource) -> list[tuple[str, Any, Any]]:
    return _tree_diff(old.reveal(), new.reveal())


def diff_graphs(before: Graph | None, after: Graph, stateful_types: frozenset[str] = STATEFUL_TYPES,
                ) -> tuple[list[DiffEntry], list[str]]:
    """Entries for every custom resource created, updated, replaced or deleted (providers included), by
    action then URN; and the types seen without replace data."""
    old = {r.urn: r for r in (before.resources if before else []) if r.custom and not r.external}
    new = {r.urn: r for r in after.resources if r.custom and not r.external}
    entries: list[DiffEntry] = []
    unknown: set[str] = set()

    def entry(r: Resource, action: str, changes: tuple[Change, ...] = (), reasons: tuple[str, ...] = ()) -> DiffEntry:
        return DiffEntry(r.urn, r.type, r.name, action, changes, reasons, stateful=r.type in stateful_types,
                         protected=r.protect or r.retain_on_delete)

    for urn, r in new.items():
        if urn not in old:
            entries.append(entry(r, "create"))
            continue
        o = old[urn]
        raw = _changes(o, r)
        provider_changed = _provider_urn(o) != _provider_urn(r)
        if not raw and not provider_changed:
            continue
        patterns = [] if r.type.startswith("pulumi:providers:") else replace_paths(r, after)
        if patterns is None:
            unknown.add(r.type)
            patterns = []
        changes: list[Change] = []
        reasons: list[str] = []
        for path, a, b in raw:
            forces = any(_matches(path, p) for p in patterns)
            secret = _masked(o.inputs, path) or _masked(r.inputs, path)
            changes.append(Change(path, SECRET_MARK if secret and a is not None else a,
                                  SECRET_MARK if secret and b is not None else b, forces))
            if forces:
                reasons.append(path)
        if provider_changed:
            reasons.append("provider")
        action = "replace" if reasons else "update"
        entries.append(entry(r, action, tuple(changes), tuple(reasons)))
    for urn, o in old.items():
        if urn not in new:
            entries.append(entry(o, "delete"))
    # A stable order (the program registers resources concurrently): by action, then URN.
    entries.sort(key=lambda e: (ACTIONS.index(e.action), e.urn))
    return entries, sorted(unknown)


def backup_commands(graph: Graph | None) -> list[str]:
    """The one-off backup to take before a risky change, from the deployed plan's backup CronJobs: a Job
    created from each CronJob (as docs/backups.md, "Before an upgrade"), waited for, its result read."""
    if graph is None:
        return []
    out = []
    for r in graph.of_type("kubernetes:batch/v1:CronJob"):
        meta = r.inputs.get("metadata") or {}
        name, ns = meta.get("name"), meta.get("namespace", "default")
        if not name or "backup" not in r.urn.rsplit("::", 1)[-1]:
            continue
        where = f"   # cluster of {r.name.removesuffix('-backup-cron')}" if r.name != "milvus-backup-cron" else ""
        job = "pre-upgrade-$STAMP"
        out += [f"STAMP=$(date -u +%Y%m%d%H%M){where}",
                f"kubectl -n {ns} create job --from=cronjob/{name} {job}",
                f"kubectl -n {ns} wait --for=condition=complete --timeout=4h job/{job}",
                f"kubectl -n {ns} logs job/{job} | tail -1"]
    return out


def diff_stack(before: Graph | None, after: Graph, base_label: str,
               upgrade: list[tuple[str, str]] | None = None, milvus_version_change: str = "") -> StackDiff:
    """The diff of one stack, with the upgrade rules' refusals, and the backup to take first when the change
    upgrades Milvus or replaces or deletes a stateful resource."""
    entries, unknown = diff_graphs(before, after)
    result = StackDiff(after.stack, base_label, entries, list(upgrade or []), unknown_types=unknown)
    lost = result.data_loss
    reasons = []
    if milvus_version_change:
        reasons.append(f"Milvus upgrade {milvus_version_change}")
    if lost:
        reasons.append(f"{len(lost)} stateful or protected resource(s) replaced or deleted")
    if reasons:
        result.backup_reason = "; ".join(reasons)
        result.backup = backup_commands(before)
        if not result.backup:
            result.notes.append("the deployed configuration plans no backup CronJob (backup disabled or managed "
                                "backend): take a backup by other means before applying")
    if before is None:
        result.notes.append("no base configuration: the stack is new, every resource is created")
    return result


def exit_code(diffs: list[StackDiff]) -> int:
    """3 when a stateful or protected resource would be replaced or deleted, 1 when the upgrade rules refuse
    the change, 0 otherwise (2, bad input, is the CLI's before any diff is made)."""
    if any(d.data_loss for d in diffs):
        return 3
    if any(d.upgrade for d in diffs):
        return 1
    return 0
