"""`milvus-zones restore`: check a restore request offline against the stack's plan, then print the
milvus-backup restore, or the Job (the stack's backup pod) that runs it.

What is checked, and where the rule comes from (zilliztech/milvus-backup v0.5.16, Milvus v2.6.16):
- the backup name: milvus-backup's rule (core/backup/func.go ValidateName: a letter or `_`, then
  letters, digits, `_`, at most 128) and this stack's naming `<prefix>_<YYYYmmddHHMM>` (UTC), a time
  in the past and inside the retention (the cleanup has deleted anything older);
- collections: milvus-backup's filter rules (internal/filter/filter.go: `coll`, `db.coll`, `db.*`;
  a bare name is in database `default`, internal/namespace) and Milvus names (a letter or `_`, then
  letters, digits, `_`; at most `proxy.maxNameLength` = 255);
- clashes: two entries that name the same collection; without a suffix milvus-backup restores
  under the original names and fails on one that exists (core/restore/task.go checkCollExist), so
  such a restore must name the collections and none may be among those `--existing` lists;
- capacity, when the data size is given: every query replica holds all loaded data, and a query
  node refuses to load past `common.overloadedMemoryThresholdPercentage` (90) of its memory;
- the target: the managed backend restores through the service, not milvus-backup; cross-region-ha
  restores into the primary (the standby rejects DDL and DML while CDC replicates into it).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from milvus_zones.planning.plan import Role, TopologyPlan, plan, plan_cross_region
from milvus_zones.planning.spec import Backend, DeploymentSpec, Mode
from milvus_zones.rendering import backup_manifests as bm
from milvus_zones.rendering.helm_values import PASSWORD_SECRET

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FILTER_RE = re.compile(r"^(?:(?P<db>[A-Za-z_]\w*)\.)?(?P<coll>[A-Za-z_]\w*|\*)$", re.ASCII)
MAX_BACKUP_NAME = 128
MAX_MILVUS_NAME = 255
LOAD_LIMIT = 0.90  # common.overloadedMemoryThresholdPercentage, Milvus' default
# GiB of memory per vCPU of ECS families (Alibaba ECS instance family docs: g 1:4, c 1:2, r 1:8).
_FAMILY_MEMORY = {"g": 4, "c": 2, "r": 8}
_SIZES = {"large": 2, "xlarge": 4}


class RestoreError(Exception):
    """One or more problems with the request; each names the option it is about."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{k}: {m}" for k, m in problems))


@dataclass(frozen=True)
class RestoreRequest:
    backup: str
    collections: tuple[str, ...] = ()
    rename_suffix: str | None = None
    existing: tuple[str, ...] = ()  # collections known to exist in the target (db.coll or coll)
    data_size_gib: float | None = None  # size of the data the restored collections will load


@dataclass(frozen=True)
class RestorePlan:
    target: TopologyPlan
    backup: str
    taken_at: datetime
    location: str  # oss://bucket/prefix/name/
    filters: tuple[str, ...]  # milvus-backup --filter entries, normalised (db.coll / db.*)
    suffix: str | None
    mapping: tuple[tuple[str, str], ...]  # (from, to) for named collections; wildcards map db.* -> db.*<suffix>
    notes: tuple[str, ...] = field(default=())

    @property
    def command(self) -> list[str]:
        return bm.restore_command(self.backup, self.filters, self.suffix)


def target_plan(spec: DeploymentSpec) -> TopologyPlan:
    if spec.backend is Backend.MANAGED:
        raise RestoreError([("STACK", ("the managed backend keeps its own backups; restore them from the "
                                      "Vector Retrieval Service console or its OpenAPI, not with milvus-backup"))])
    if spec.mode is Mode.CROSS_REGION_HA:
        return plan_cross_region(spec).primary
    return plan(spec)


def _namespace(entry: str) -> tuple[str, str] | None:
    m = _FILTER_RE.match(entry)
    return (m.group("db") or "default", m.group("coll")) if m else None


def _check_name(req: RestoreRequest, target: TopologyPlan, now: datetime,
                problems: list[tuple[str, str]]) -> datetime | None:
    b, bucket = target.backup, target.bucket
    assert b is not None and bucket is not None
    name = req.backup
    if not name or len(name) > MAX_BACKUP_NAME or not _NAME_RE.match(name):
        problems.append(("--backup", (f"{name!r} is not a milvus-backup name (a letter or '_', then letters, digits "
                                     f"and '_', at most {MAX_BACKUP_NAME})")))
        return None
    m = re.fullmatch(rf"{re.escape(b.name_prefix)}_(\d{{12}})", name)
    if not m:
        problems.append(("--backup", (f"{name!r} is not a backup of this stack: its backups are named "
                                     f"{b.name_prefix}_<YYYYmmddHHMM> (UTC), under oss://{bucket.name}/"
                                     f"{b.prefix}/; list them with `milvus-backup list`")))
        return None
    try:
        taken = datetime.strptime(m.group(1), "%Y%m%d%H%M").replace(tzinfo=UTC)
    except ValueError:
        problems.append(("--backup", f"{name!r}: {m.group(1)} is not a date and time (YYYYmmddHHMM)"))
        return None
    if taken > now:
        problems.append(("--backup", f"{name!r} would be taken at {taken:%Y-%m-%d %H:%M} UTC, in the future"))
    elif now - taken > timedelta(days=b.retention_days):
        problems.append(("--backup", (f"{name!r} is {(now - taken).days} days old: the cleanup deletes this "
                                     f"stack's backups after {b.retention_days} days (backup.retentionDays)")))
    return taken


def _query_memory_per_replica(target: TopologyPlan) -> tuple[float, str] | None:
    """GiB of query-node memory in one replica, and how it was computed; None for an unknown family."""
    pool = target.pools(Role.COMPUTE)[0]
    m = re.fullmatch(r"ecs\.([a-z]+)\d+[a-z]*\.(\d*)(large|xlarge)", pool.instance_type)
    if not m or m.group(1)[-1] not in _FAMILY_MEMORY:
        return None
    family = m.group(1)[-1]
    vcpus = (int(m.group(2)) * 4) if m.group(2) else _SIZES[m.group(3)]
    node_gib = vcpus * _FAMILY_MEMORY[family]
    nodes = target.resource_groups[0].query_nodes if target.resource_groups else target.component("queryNode").replicas
    return nodes * node_gib, f"{nodes} query node(s) x {node_gib} GiB ({pool.instance_type})"


def check(spec: DeploymentSpec, req: RestoreRequest, now: datetime | None = None) -> RestorePlan:
    """The restore to run, or RestoreError with every problem of the request."""
    now = now or datetime.now(UTC)
    target = target_plan(spec)
    problems: list[tuple[str, str]] = []
    if target.backup is None:
        raise RestoreError([("STACK", "this stack has no backups (backup.enabled is false)")])
    taken = _check_name(req, target, now, problems)

    suffix = req.rename_suffix or None
    if suffix is not None and not re.fullmatch(r"\w+", suffix, re.ASCII):
        problems.append(("--rename-suffix", f"{suffix!r}: collection names take letters, digits and '_' only"))

    seen: dict[tuple[str, str], str] = {}
    filters: list[str] = []
    for entry in req.collections:
        ns = _namespace(entry)
        if ns is None:
            problems.append(("--collections", f"{entry!r} is not a collection: give coll, db.coll or db.*"))
            continue
        db, coll = ns
        if ns in seen or (db, "*") in seen or (coll == "*" and any(d == db for d, _ in seen)):
            other = seen.get(ns) or seen.get((db, "*")) or next(e for (d, _), e in seen.items() if d == db)
            problems.append(("--collections", (f"{entry!r} and {other!r} restore {db}.{coll} twice: "
                                              "each collection may be named once")))
            continue
        seen[ns] = entry
        filters.append(f"{db}.{coll}")
        if coll != "*" and len(coll) + len(suffix or "") > MAX_MILVUS_NAME:
            problems.append(("--rename-suffix", f"{coll}{suffix} is longer than {MAX_MILVUS_NAME} characters"))

    existing = {ns for e in req.existing if (ns := _namespace(e)) is not None}
    for e in req.existing:
        if _namespace(e) is None:
            problems.append(("--existing", f"{e!r} is not a collection: give coll or db.coll"))
    if suffix is None and (not filters or any(c == "*" for _, c in seen)):
        problems.append(("--rename-suffix", ("without a suffix every collection is restored under its own "
                                            "name, and milvus-backup stops at the first that exists: name the "
                                            "collections to restore (--collections db.coll, no wildcard), or "
                                            "give --rename-suffix")))
    mapping = tuple((f"{db}.{coll}", f"{db}.{coll}{suffix or ''}") for db, coll in seen)
    for src, dst in mapping:
        db, coll = dst.split(".", 1)
        if coll.endswith("*"):
            continue
        if (db, coll) in existing:
            problems.append(("--collections" if suffix is None else "--rename-suffix",
                             f"{src} would be restored onto {dst}, which exists in the target (--existing)"))

    notes: list[str] = []
    if req.data_size_gib is not None:
        memory = _query_memory_per_replica(target)
        if memory is None:
            notes.append("capacity not checked: no memory size known for the compute instance type")
        else:
            gib, how = memory
            if req.data_size_gib > LOAD_LIMIT * gib:
                problems.append(("--data-size", (f"{req.data_size_gib:g} GiB does not fit one query replica: "
                                                f"{how} = {gib:g} GiB, loads stop at {LOAD_LIMIT:.0%} "
                                                f"(common.overloadedMemoryThresholdPercentage) = "
                                                f"{LOAD_LIMIT * gib:g} GiB, before what is loaded already")))
            else:
                notes.append(f"capacity: {req.data_size_gib:g} GiB of {LOAD_LIMIT * gib:g} GiB loadable per "
                             f"replica ({how}; what is loaded already counts too)")
    if problems:
        raise RestoreError(problems)
    assert taken is not None and target.bucket is not None
    return RestorePlan(
        target=target, backup=req.backup, taken_at=taken,
        location=f"oss://{target.bucket.name}/{target.backup.prefix}/{req.backup}/",
        filters=tuple(filters), suffix=suffix, mapping=mapping, notes=tuple(notes),
    )


def render(rp: RestorePlan, stack: str) -> str:
    lines = [
        f"restore {rp.backup} (taken {rp.taken_at:%Y-%m-%d %H:%M} UTC) from {rp.location}",
        f"into {rp.target.name} ({rp.target.region}, namespace {rp.target.namespace})",
    ]
    if rp.mapping:
        lines += [f"  {src} -> {dst}" for src, dst in rp.mapping]
    else:
        lines.append(f"  every collection of the backup -> <name>{rp.suffix}")
    lines += [f"note: {n}" for n in rp.notes]
    apply = " ".join(["milvus-zones", "restore", stack, "--backup", rp.backup,
                      *(["--collections", ",".join(rp.filters)] if rp.filters else []),
                      *(["--rename-suffix", rp.suffix] if rp.suffix else []), "--apply"])
    lines += [
        "",
        "milvus-backup restore (in the stack's backup pod, config and RRSA role included):",
        "  " + shlex.join(rp.command),
        "",
        "run it as a Job of the stack:",
        f"  {apply} | kubectl apply -f -",
        f"  kubectl -n {rp.target.namespace} logs -f job/{job_name(rp)}",
        ("then load the restored collections without replica_number (the cluster-level settings place "
        "the replicas), and check counts against the source (docs/backups.md, restore drill)."),
    ]
    return "\n".join(lines) + "\n"


def job_name(rp: RestorePlan) -> str:
    return restore_job(rp)["metadata"]["name"]


def restore_job(rp: RestorePlan) -> dict:
    """The Job manifest of this restore: the stack's backup pod running milvus-backup restore."""
    return bm.restore_job(rp.target, PASSWORD_SECRET, rp.backup, rp.filters, rp.suffix)
