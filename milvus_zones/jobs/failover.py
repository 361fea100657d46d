"""WAL pinning controller for multi-zone-ha on Milvus 2.6.16+: run in-cluster by a Deployment (components/milvus.py).

What Milvus does by itself (docs/failover-controller.md has the source locations): the streaming
coordinator keeps the WAL on ``streaming.primaryResourceGroup`` while that group has streaming-node
sessions in etcd, and falls back to the group with the most sessions once they have all expired.
Nothing moves it sooner: a channel cannot leave a node whose session still exists. When the lost
zone returns and the key still names its group, the WAL moves back: a second write stall.

What this controller does, and nothing else: once the configured primary group has had no session
for FAILURE_THRESHOLD rounds while another group has some (so Milvus has already fallen back, or is
about to, to the group ``chooseFallbackResourceGroup`` picks), it sets the key to that same group.
The WAL then stays where it is when the lost zone returns. It writes the key the way Milvus'
``/management/config/alter`` does (the normalised spelling under ``<rootPath>/config/``, in one etcd
transaction, compare-and-swap on the key's revision, other spellings of the same key deleted in that
transaction) and reads the effective value back the way Milvus' etcd config source computes it.

- One leader at a time: a coordination.k8s.io/v1 Lease, acquired and renewed with resourceVersion
  preconditions (a 409 means someone else won); a leader that cannot renew within its renew deadline
  stops acting before another can take over. It never pins a group this deployment has not seen alive
  (recorded on the Lease), so a fresh install whose groups start at different times is left alone.
- etcd through every member: the v3 JSON gateway of each endpoint in turn, linearizable reads only,
  so a member cut off from the quorum cannot feed it stale state and no write happens without quorum.
- State for operators: JSON log lines on stderr, and on HTTP_PORT ``/metrics`` (Prometheus text),
  ``/status`` (JSON), ``/healthz`` (the loop is alive) and ``/readyz`` (its last round reached etcd
  and, for the leader, the API server). The Lease's annotations carry the last action too.

Environment: NAMESPACE, POD_NAME, LEASE_NAME, GROUPS (JSON list, the chart's primary first),
ETCD_ENDPOINTS (JSON list of http://member:2379), ETCD_ROOT_PATH, PROBE_INTERVAL_SECONDS,
FAILURE_THRESHOLD, LEASE_DURATION_SECONDS, RENEW_DEADLINE_SECONDS, HTTP_PORT; KUBERNETES_API (tests).
Standard library only: the image is a plain python:3.11-slim.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PRIMARY_KEY = "streaming.primaryResourceGroup"
# sessionutil: <rootPath>/<etcd.metaSubPath "meta">/session/<role>-<serverID>; role "streamingnode".
SESSION_PREFIX = "meta/session/streamingnode"
DEFAULT_GROUP = "__default_resource_group"  # common.DefaultResourceGroupName
GROUP_LABEL = "RESOURCE_GROUP"  # sessionutil.LabelResourceGroup, from env MILVUS_SERVER_LABEL_RESOURCE_GROUP
ANNOTATION = "milvus-zones.io/"
SEEN_GROUPS = ANNOTATION + "seen-groups"
UNION_ANNOTATIONS = (SEEN_GROUPS,)


def log(event: str, **fields: Any) -> None:
    record = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "event": event, **fields}
    print(json.dumps(record, sort_keys=True, default=str), file=sys.stderr, flush=True)


def format_key(key: str) -> str:
    """Milvus' pkg/config formatKey: lower-cased, '/', '_' and '.' dropped ('knowhere.' keys kept)."""
    if key.startswith("knowhere."):
        return key
    return key.lower().replace("/", "").replace("_", "").replace(".", "")


# ---- etcd through all members ---------------------------------------------------------------------


class EtcdUnavailable(Exception):
    """No member answered the request (quorum lost, or every member unreachable)."""


@dataclass(frozen=True)
class KV:
    key: str
    value: str
    mod_revision: int


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _unb64(text: str) -> str:
    return base64.b64decode(text).decode()


def _prefix_end(prefix: str) -> str:
    raw = bytearray(prefix.encode())
    raw[-1] += 1  # prefixes here are ASCII, never end in 0xff
    return base64.b64encode(bytes(raw)).decode()


class Etcd:
    """etcd v3 through the JSON gateway each member serves on its client port, failing over between members.

    Reads are linearizable (etcd's default; no ``serializable``), so only a member in contact with the
    quorum answers them. A write whose answer was lost may have been applied: callers make writes
    conditional (compare-and-swap) so a retry on another member cannot apply twice.
    """

    def __init__(self, endpoints: list[str], timeout: float):
        if not endpoints:
            raise ValueError("at least one etcd endpoint")
        self.endpoints = [e.rstrip("/") for e in endpoints]
        self.timeout = timeout
        self.current = 0
        self.failovers = 0

    def call(self, path: str, body: dict) -> dict:
        errors = []
        for attempt in range(len(self.endpoints)):
            index = (self.current + attempt) % len(self.endpoints)
            endpoint = self.endpoints[index]
            req = urllib.request.Request(endpoint + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    answer = json.loads(resp.read() or b"{}")
            except urllib.error.HTTPError as e:
                errors.append(f"{endpoint}: HTTP {e.code} {e.read()[:200]!r}")
                continue
            except (OSError, ValueError) as e:  # refused, timed out, reset, bad JSON
                errors.append(f"{endpoint}: {type(e).__name__}: {e}")
                continue
            if "error" in answer:  # the gateway's error shape: {"error", "code", "message"}
                errors.append(f"{endpoint}: {answer.get('error')}")
                continue
            if index != self.current:
                self.failovers += 1
                log("etcd_endpoint_failover", to=endpoint, after=errors)
                self.current = index
            return answer
        raise EtcdUnavailable("; ".join(errors))

    def range_prefix(self, prefix: str) -> list[KV]:
        answer = self.call("/v3/kv/range", {"key": _b64(prefix), "range_end": _prefix_end(prefix)})
        return [KV(_unb64(kv["key"]), _unb64(kv.get("value", "")), int(kv.get("mod_revision", 0)))
                for kv in answer.get("kvs") or []]

    def txn(self, compare: list[dict], success: list[dict]) -> bool:
        return bool(self.call("/v3/kv/txn", {"compare": compare, "success": success}).get("succeeded"))


def effective_config(kvs: list[KV], root_path: str, key: str) -> tuple[str | None, list[KV]]:
    """The value Milvus' etcd source gives ``key``, and every stored spelling of it.

    etcd_source.go stores each key under its raw and its formatted form, in etcd's key order; the
    formatted spelling is the last of its spellings in that order (separators and capitals sort before
    lower-case letters), so it wins whenever it exists.
    """
    prefix = f"{root_path}/config/"
    wanted = format_key(key)
    spellings = [kv for kv in sorted(kvs, key=lambda kv: kv.key.encode())
                 if kv.key.startswith(prefix) and format_key(kv.key[len(prefix):]) == wanted]
    return (spellings[-1].value if spellings else None), spellings


def group_sessions(kvs: list[KV]) -> dict[str, tuple[int, int]]:
    """Streaming-node sessions per resource group: (count, highest server id), as the coordinator counts them."""
    stats: dict[str, tuple[int, int]] = {}
    for kv in kvs:
        try:
            session = json.loads(kv.value)
        except ValueError:
            continue
        if not _at_least_2_6(str(session.get("Version", ""))):
            continue  # the coordinator's discoverer skips them too (version range ">=2.6.0-dev")
        group = (session.get("ServerLabels") or {}).get(GROUP_LABEL) or DEFAULT_GROUP
        count, top = stats.get(group, (0, 0))
        stats[group] = (count + 1, max(top, int(session.get("ServerID", 0))))
    return stats


def _at_least_2_6(version: str) -> bool:
    try:
        major, minor = (int(x) for x in version.lstrip("v").split(".")[:2])
    except ValueError:
        return False  # unparsable: the discoverer logs and skips it
    return (major, minor) >= (2, 6)


def fallback_group(stats: dict[str, tuple[int, int]]) -> str | None:
    """chooseFallbackResourceGroup: most sessions, ties to the highest server id."""
    best = max(((count, top, group) for group, (count, top) in stats.items() if count > 0), default=None)
    return best[2] if best else None


# ---- Kubernetes Lease ---------------------------------------------------------------------------


class Conflict(Exception):
    """409: the object changed (or exists) since we read it."""


class KubeApi:
    """The few calls the controller makes, through the pod's service account (urllib; no client library)."""

    SA = "/var/run/secrets/kubernetes.io/serviceaccount"

    def __init__(self, base: str | None, timeout: float):
        if base is None:
            base = f"https://{os.environ['KUBERNETES_SERVICE_HOST']}:{os.environ['KUBERNETES_SERVICE_PORT']}"
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.ctx = ssl.create_default_context(cafile=f"{self.SA}/ca.crt") if self.base.startswith("https") else None

    def _call(self, method: str, path: str, body: dict | None = None) -> dict | None:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if os.path.exists(f"{self.SA}/token"):
            with open(f"{self.SA}/token") as f:  # re-read each call: projected tokens rotate
                headers["Authorization"] = f"Bearer {f.read().strip()}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self.ctx) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            if e.code == 404 and method == "GET":
                return None
            if e.code == 409:
                raise Conflict(f"{method} {path}") from e
            raise

    def lease_path(self, namespace: str, name: str = "") -> str:
        return f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases" + (f"/{name}" if name else "")

    def get_lease(self, namespace: str, name: str) -> dict | None:
        return self._call("GET", self.lease_path(namespace, name))

    def create_lease(self, namespace: str, lease: dict) -> dict:
        return self._call("POST", self.lease_path(namespace), lease) or {}

    def replace_lease(self, namespace: str, name: str, lease: dict) -> dict:
        return self._call("PUT", self.lease_path(namespace, name), lease) or {}


def _micro_time(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class LeaderElector:
    """client-go's leaderelection protocol on a coordination.k8s.io/v1 Lease.

    Expiry is judged on this process' monotonic clock from when it last saw the record change, not on
    the holder's renewTime, so clock skew between nodes does not matter. The holder acts only while its
    last successful renewal is younger than renew_deadline (< lease_duration): by the time another
    candidate may take over, the old holder has stopped.
    """

    api: KubeApi
    namespace: str
    name: str
    identity: str
    lease_duration: float
    renew_deadline: float
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    annotations: dict[str, str] = field(default_factory=dict)  # published on the Lease while leading
    observed: tuple[str, str] | None = None  # (holder, renewTime) last seen
    observed_at: float = 0.0
    renewed_at: float | None = None
    record_annotations: dict[str, str] = field(default_factory=dict)  # as last read from the Lease
    transitions: int = 0

    def _merged(self, recorded: dict[str, str]) -> dict[str, str]:
        merged = {**recorded, **self.annotations}
        for key in UNION_ANNOTATIONS:  # sets that only grow: a new holder must not drop what an old one saw
            items = {*recorded.get(key, "").split(","), *self.annotations.get(key, "").split(",")} - {""}
            merged[key] = ",".join(sorted(items))
        return merged

    def is_leader(self) -> bool:
        return self.renewed_at is not None and self.clock() - self.renewed_at < self.renew_deadline

    def _spec(self, current: dict | None, now: float) -> dict:
        spec = dict((current or {}).get("spec") or {})
        taking_over = spec.get("holderIdentity") != self.identity
        spec.update({"holderIdentity": self.identity, "leaseDurationSeconds": int(self.lease_duration),
                     "renewTime": _micro_time(now)})
        if taking_over:
            spec["acquireTime"] = _micro_time(now)
            spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if current else 0)
        return spec

    def try_acquire_or_renew(self) -> bool:
        now_mono, now = self.clock(), self.wall()
        current = self.api.get_lease(self.namespace, self.name)
        if current is None:
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace,
                                 "annotations": dict(self.annotations)},
                    "spec": self._spec(None, now)}
            try:
                created = self.api.create_lease(self.namespace, body)
            except Conflict:
                return self._lost("create lost the race")
            log("leader_acquired", identity=self.identity, previous=None)
            return self._won(created, now_mono)
        spec = current.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        self.record_annotations = dict((current.get("metadata") or {}).get("annotations") or {})
        self.transitions = int(spec.get("leaseTransitions") or 0)
        record = (holder, spec.get("renewTime") or "")
        if record != self.observed:
            self.observed, self.observed_at = record, now_mono
        duration = float(spec.get("leaseDurationSeconds") or self.lease_duration)
        if holder and holder != self.identity and now_mono - self.observed_at < duration:
            return self._lost(f"held by {holder}")
        metadata = dict(current["metadata"])  # carries resourceVersion: the update is conditional
        metadata["annotations"] = self._merged(self.record_annotations)
        body = {**current, "metadata": metadata, "spec": self._spec(current, now)}
        try:
            updated = self.api.replace_lease(self.namespace, self.name, body)
        except Conflict:
            return self._lost("lease changed since read")
        if holder != self.identity:
            log("leader_acquired", identity=self.identity, previous=holder or None)
        return self._won(updated, now_mono)

    def _won(self, lease: dict, now_mono: float) -> bool:
        spec = lease.get("spec") or {}
        self.observed, self.observed_at = (self.identity, spec.get("renewTime") or ""), now_mono
        self.record_annotations = dict((lease.get("metadata") or {}).get("annotations") or {})
        self.transitions = int(spec.get("leaseTransitions") or 0)
        self.renewed_at = now_mono
        return True

    def _lost(self, why: str) -> bool:
        if self.renewed_at is not None:
            log("leader_lost", identity=self.identity, reason=why)
        self.renewed_at = None
        return False


# ---- the decision ---------------------------------------------------------------------------------


@dataclass
class WalPinner:
    etcd: Etcd
    root_path: str
    groups: tuple[str, ...]  # chart order: groups[0] is the primary user.yaml sets
    failure_threshold: int
    seen: set[str] = field(default_factory=set)  # groups this deployment has seen with sessions
    absent_rounds: int = 0
    effective: str | None = None
    sessions: dict[str, int] = field(default_factory=dict)
    pins: int = 0
    last_action: str = ""

    @property
    def config_key(self) -> str:
        return f"{self.root_path}/config/{format_key(PRIMARY_KEY)}"

    def observe(self) -> tuple[str, dict[str, tuple[int, int]], list[KV]]:
        config = self.etcd.range_prefix(f"{self.root_path}/config/")
        value, spellings = effective_config(config, self.root_path, PRIMARY_KEY)
        stats = group_sessions(self.etcd.range_prefix(f"{self.root_path}/{SESSION_PREFIX}"))
        primary = value or self.groups[0]
        self.effective = primary
        self.sessions = {g: stats.get(g, (0, 0))[0] for g in sorted({*self.groups, *stats})}
        self.seen = self.seen | {g for g, (count, _) in stats.items() if count > 0}  # replaced: /status reads it
        return primary, stats, spellings

    def step(self, may_act: Callable[[], bool]) -> str | None:
        """One round; returns the group pinned, if any. may_act is asked right before writing."""
        primary, stats, spellings = self.observe()
        if stats.get(primary, (0, 0))[0] > 0:
            if self.absent_rounds:
                log("primary_group_back", group=primary, absent_rounds=self.absent_rounds)
            self.absent_rounds = 0
            return None
        self.absent_rounds += 1
        target = fallback_group(stats)
        log("primary_group_without_sessions", group=primary, rounds=self.absent_rounds,
            threshold=self.failure_threshold, fallback=target)
        if self.absent_rounds < self.failure_threshold:
            return None
        if target is None:
            return None  # no streaming node anywhere: Milvus has nowhere to put the WAL either
        if primary not in self.seen:
            # Never alive while we watched: a fresh install, not a lost zone. Milvus moves the WAL
            # there when its nodes register; pinning now would keep it away for good.
            self.last_action = f"not pinned: {primary} never seen with sessions"
            return None
        if not may_act():
            log("pin_skipped_not_leader", target=target)
            return None
        if not self.write(target, spellings):
            return None
        self.pins += 1
        self.absent_rounds = 0
        self.last_action = f"pinned {PRIMARY_KEY} {primary} -> {target}"
        return target

    def write(self, target: str, spellings: list[KV]) -> bool:
        """The normalised key set to target, other spellings deleted, in one conditional transaction."""
        normalised = next((kv for kv in spellings if kv.key == self.config_key), None)
        compare = [{"key": _b64(self.config_key), "target": "MOD", "result": "EQUAL",
                    "mod_revision": str(normalised.mod_revision if normalised else 0)}]
        success: list[dict] = [{"request_put": {"key": _b64(self.config_key), "value": _b64(target)}}]
        for kv in spellings:
            if kv.key != self.config_key:
                compare.append({"key": _b64(kv.key), "target": "MOD", "result": "EQUAL",
                                "mod_revision": str(kv.mod_revision)})
                success.append({"request_delete_range": {"key": _b64(kv.key)}})
        succeeded = self.etcd.txn(compare, success)
        # Read back whatever happened (a lost answer may hide a success; a failed compare a racing writer).
        value, _ = effective_config(self.etcd.range_prefix(f"{self.root_path}/config/"), self.root_path, PRIMARY_KEY)
        self.effective = value or self.groups[0]
        ok = value == target
        log("pin_written" if ok else "pin_not_effective", key=self.config_key, target=target, effective=value,
            txn_succeeded=succeeded, deleted=[kv.key for kv in spellings if kv.key != self.config_key] if ok else [])
        return ok


# ---- operator surface ---------------------------------------------------------------------------


@dataclass
class State:
    identity: str
    started: float = field(default_factory=time.monotonic)
    rounds: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    last_round_end: float = 0.0
    last_ok: float = 0.0
    leader: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def metrics(self, pinner: WalPinner, etcd: Etcd, elector: LeaderElector) -> str:
        def line(name: str, value: float, help_: str, kind: str = "gauge", labels: str = "") -> list[str]:
            return [f"# HELP {name} {help_}", f"# TYPE {name} {kind}", f"{name}{labels} {value:g}"]

        out = line("milvus_zones_failover_leader", int(self.leader), "1 while this replica holds the Lease.")
        out += line("milvus_zones_failover_rounds_total", self.rounds, "Rounds run.", "counter")
        out += ["# HELP milvus_zones_failover_round_errors_total Rounds that failed, by cause.",
                "# TYPE milvus_zones_failover_round_errors_total counter"]
        out += [f'milvus_zones_failover_round_errors_total{{cause="{k}"}} {v}' for k, v in sorted(self.errors.items())]
        out += line("milvus_zones_failover_pins_total", pinner.pins, f"Writes of {PRIMARY_KEY} by this replica.",
                    "counter")
        out += line("milvus_zones_failover_primary_absent_rounds", pinner.absent_rounds,
                    "Consecutive rounds the effective primary group had no streaming-node session.")
        out += ["# HELP milvus_zones_failover_group_sessions Streaming-node sessions per resource group.",
                "# TYPE milvus_zones_failover_group_sessions gauge"]
        out += [f'milvus_zones_failover_group_sessions{{group="{g}"}} {n}' for g, n in pinner.sessions.items()]
        out += ["# HELP milvus_zones_failover_effective_primary Effective streaming.primaryResourceGroup (1).",
                "# TYPE milvus_zones_failover_effective_primary gauge"]
        if pinner.effective:
            out.append(f'milvus_zones_failover_effective_primary{{group="{pinner.effective}"}} 1')
        out += line("milvus_zones_failover_etcd_endpoint_failovers_total", etcd.failovers,
                    "Switches to another etcd member.", "counter")
        out += line("milvus_zones_failover_last_success_timestamp_seconds", self.last_ok,
                    "Unix time of the last round that reached etcd.")
        out += line("milvus_zones_failover_lease_transitions", elector.transitions, "The Lease's leaseTransitions.")
        return "\n".join(out) + "\n"


def serve(port: int, state: State, pinner: WalPinner, etcd: Etcd, elector: LeaderElector,
          stale_after: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            now = time.monotonic()
            with state.lock:
                if self.path == "/healthz":  # the loop turns: a stuck loop is restarted, an etcd outage is not
                    code, body, kind = (200 if now - max(state.last_round_end, state.started) < stale_after
                                        else 503), "ok\n", "text/plain"
                elif self.path == "/readyz":
                    code, body, kind = (200 if state.last_ok and now - state.last_ok < stale_after
                                        else 503), "ok\n", "text/plain"
                elif self.path == "/metrics":
                    code, body, kind = 200, state.metrics(pinner, etcd, elector), "text/plain; version=0.0.4"
                elif self.path == "/status":
                    code, kind = 200, "application/json"
                    body = json.dumps({
                        "identity": state.identity, "leader": state.leader, "rounds": state.rounds,
                        "errors": state.errors, "effectivePrimary": pinner.effective,
                        "sessions": pinner.sessions, "seenGroups": sorted(pinner.seen),
                        "primaryAbsentRounds": pinner.absent_rounds, "pins": pinner.pins,
                        "lastAction": pinner.last_action, "etcdEndpoint": etcd.endpoints[etcd.current],
                    }, sort_keys=True)
                else:
                    code, body, kind = 404, "not found\n", "text/plain"
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:  # probes every few seconds: keep stderr for events
            pass

    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)  # probes and scrapes come from the node
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_round(state: State, elector: LeaderElector, pinner: WalPinner) -> None:
    """Renew or seek the Lease, then observe etcd and pin if needed (only the leader writes)."""
    seen_before = pinner.seen
    try:
        elector.try_acquire_or_renew()
    except Exception as e:  # API server unreachable: no leadership, keep observing
        state.errors["kubernetes"] = state.errors.get("kubernetes", 0) + 1
        log("lease_round_failed", error=f"{type(e).__name__}: {e}")
    leader = elector.is_leader()
    # Groups seen alive survive leader changes on the Lease itself (any holder saw them).
    pinner.seen = pinner.seen | {g for g in elector.record_annotations.get(SEEN_GROUPS, "").split(",") if g}
    try:
        pinned = pinner.step(elector.is_leader)
        ok = True
    except EtcdUnavailable as e:
        pinned, ok = None, False
        state.errors["etcd"] = state.errors.get("etcd", 0) + 1
        log("etcd_round_failed", error=str(e))
    elector.annotations = {SEEN_GROUPS: ",".join(sorted(pinner.seen)),
                           ANNOTATION + "effective-primary": pinner.effective or "",
                           ANNOTATION + "last-action": pinner.last_action}
    if leader and (pinned or pinner.seen != seen_before):
        try:  # publish at once; the next renewal would carry it too
            elector.try_acquire_or_renew()
        except Exception as e:  # the next renewal carries it
            log("lease_publish_failed", error=f"{type(e).__name__}: {e}")
    with state.lock:
        state.rounds += 1
        state.leader = elector.is_leader()
        state.last_round_end = time.monotonic()
        if ok:
            state.last_ok = state.last_round_end


def main() -> None:
    env = os.environ
    interval = float(env.get("PROBE_INTERVAL_SECONDS", "1"))
    identity = env.get("POD_NAME") or os.uname().nodename
    etcd = Etcd(json.loads(env["ETCD_ENDPOINTS"]), timeout=float(env.get("ETCD_TIMEOUT_SECONDS", "2")))
    groups = tuple(json.loads(env["GROUPS"]))
    pinner = WalPinner(etcd, env["ETCD_ROOT_PATH"], groups, int(env.get("FAILURE_THRESHOLD", "3")))
    elector = LeaderElector(KubeApi(env.get("KUBERNETES_API"), timeout=5.0), env["NAMESPACE"],
                            env.get("LEASE_NAME", "milvus-zones-failover"), identity,
                            lease_duration=float(env.get("LEASE_DURATION_SECONDS", "15")),
                            renew_deadline=float(env.get("RENEW_DEADLINE_SECONDS", "10")))
    state = State(identity)
    serve(int(env.get("HTTP_PORT", "8080")), state, pinner, etcd, elector, stale_after=max(30.0, 10 * interval))
    log("started", identity=identity, groups=groups, etcd=etcd.endpoints, interval_s=interval)
    while True:
        started = time.monotonic()
        run_round(state, elector, pinner)
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


if __name__ == "__main__":
    main()
