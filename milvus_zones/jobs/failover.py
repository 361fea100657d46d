"""Zone failover controller: run in-cluster by a Deployment (components/milvus.py), two replicas in two zones.

Two actions, chosen by ACTION:

- ``switch-wal`` (multi-zone-ha on Milvus 2.6): the WAL lives only on the streaming nodes of
  ``streaming.primaryResourceGroup``. When every streaming node of that group has failed its health
  probe for FAILURE_THRESHOLD consecutive rounds and another group answers, set the key to that
  group: written to etcd (``<ETCD_ROOT_PATH>/config/streaming.primaryResourceGroup``, the prefix
  Milvus' etcd config source reads), then posted to the active mixCoord's
  ``/management/config/alter`` so that its balancer sees the change at once instead of at its next
  config refresh. Probes go straight to the pods (``http://<pod IP>:9091/healthz``): pod status
  would only change after the node monitor grace period (50 s by default).
- ``fence-zone`` (multi-zone-basic): when every node of a zone has been NotReady for
  FENCE_AFTER_SECONDS while a node elsewhere is Ready, delete the Milvus pods on those nodes (grace
  0) and then the Node objects. The pods are recreated at once (not after the 300 s unreachable
  toleration) and the cluster autoscaler no longer counts the lost nodes as unready, which would
  otherwise stop it from adding nodes in the secondary zone. A returning node re-registers itself.

Both actions are idempotent and need no leader election: replicas act on the same observations, and
a replica cut off with a minority of the zones cannot write etcd (no quorum) or reach the API server.

Environment: ACTION, NAMESPACE, PROBE_INTERVAL_SECONDS, PROBE_TIMEOUT_SECONDS, FAILURE_THRESHOLD;
switch-wal: GROUPS (JSON list, preferred primary first), STREAMING_SELECTOR, MIXCOORD_SELECTOR,
ETCD_ENDPOINT (http://host:2379), ETCD_ROOT_PATH, HEALTH_PORT; fence-zone: FENCE_AFTER_SECONDS.
Standard library only, so the image needs no install step.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

PRIMARY_KEY = "streaming.primaryResourceGroup"
GROUP_LABEL = "milvus.io/resource-group"  # chart 5.0.17+ labels each group's Deployments and pods
ZONE_LABEL = "topology.kubernetes.io/zone"
MANAGEMENT_PORT = 9091


def log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Pod:
    name: str
    ip: str | None
    labels: dict[str, str]
    node: str | None


@dataclass(frozen=True)
class Node:
    name: str
    zone: str | None
    ready: bool


class Kube(Protocol):
    def pods(self, selector: str) -> list[Pod]: ...
    def nodes(self) -> list[Node]: ...
    def delete_pod(self, name: str) -> None: ...
    def delete_node(self, name: str) -> None: ...


class Store(Protocol):
    def get(self, key: str) -> str | None: ...
    def put(self, key: str, value: str) -> None: ...


# ---- switch-wal ---------------------------------------------------------------------------------


@dataclass
class WalSwitcher:
    kube: Kube
    store: Store
    probe: Callable[[str], bool]  # pod IP -> healthy
    alter: Callable[[list[Pod], str, str], bool]  # mixCoord pods, key, value -> accepted by one
    groups: tuple[str, ...]
    streaming_selector: str
    mixcoord_selector: str
    root_path: str
    failure_threshold: int
    failures: int = 0

    @property
    def etcd_key(self) -> str:
        return f"{self.root_path}/config/{PRIMARY_KEY}"

    def primary(self) -> str:
        return self.store.get(self.etcd_key) or self.groups[0]

    def healthy_groups(self) -> dict[str, bool]:
        by_group: dict[str, list[Pod]] = {g: [] for g in self.groups}
        for pod in self.kube.pods(self.streaming_selector):
            group = pod.labels.get(GROUP_LABEL)
            if group in by_group:
                by_group[group].append(pod)
        # A group with no pod listed, or none with an IP, is as good as gone.
        return {g: any(p.ip and self.probe(p.ip) for p in pods) for g, pods in by_group.items()}

    def step(self) -> str | None:
        """One round; returns the group switched to, if any."""
        primary = self.primary()
        health = self.healthy_groups()
        if health.get(primary, False):
            if self.failures:
                log(f"primary group {primary} answers again after {self.failures} failed round(s)")
            self.failures = 0
            return None
        self.failures += 1
        log(f"primary group {primary}: no streaming node answers ({self.failures}/{self.failure_threshold})")
        if self.failures < self.failure_threshold:
            return None
        target = next((g for g in self.groups if g != primary and health.get(g)), None)
        if target is None:
            log("no other group answers either; not switching (this replica may be the one cut off)")
            return None
        self.store.put(self.etcd_key, target)
        refreshed = self.alter(self.kube.pods(self.mixcoord_selector), PRIMARY_KEY, target)
        log(f"switched {PRIMARY_KEY} {primary} -> {target} (etcd written; mixCoord "
            f"{'refreshed' if refreshed else 'picks it up at its next config refresh'})")
        self.failures = 0
        return target


# ---- fence-zone ---------------------------------------------------------------------------------


@dataclass
class ZoneFencer:
    kube: Kube
    fence_after: float
    clock: Callable[[], float] = time.monotonic
    down_since: dict[str, float] = field(default_factory=dict)
    fenced: set[str] = field(default_factory=set)

    def step(self) -> list[str]:
        """One round; returns the zones fenced in it."""
        now = self.clock()
        zones: dict[str, list[Node]] = {}
        for node in self.kube.nodes():
            if node.zone:
                zones.setdefault(node.zone, []).append(node)
        lost = {z for z, ns in zones.items() if not any(n.ready for n in ns)}
        for zone in list(self.down_since):
            if zone not in lost:
                del self.down_since[zone]
                self.fenced.discard(zone)
        if len(lost) == len(zones):
            return []  # no zone answers: more likely our view is broken than every zone lost
        acted: list[str] = []
        for zone in sorted(lost - self.fenced):
            since = self.down_since.setdefault(zone, now)
            if now - since < self.fence_after:
                continue
            names = {n.name for n in zones[zone]}
            for pod in self.kube.pods(""):
                if pod.node in names:
                    self.kube.delete_pod(pod.name)
            for name in sorted(names):
                self.kube.delete_node(name)
            log(f"zone {zone}: all {len(names)} node(s) NotReady for {now - since:.0f} s; fenced")
            self.fenced.add(zone)
            acted.append(zone)
        return acted


# ---- the real clients ---------------------------------------------------------------------------


class InClusterKube:
    """The Kubernetes API through the pod's service account (urllib; no client library)."""

    SA = "/var/run/secrets/kubernetes.io/serviceaccount"

    def __init__(self, namespace: str, timeout: float):
        host, port = os.environ["KUBERNETES_SERVICE_HOST"], os.environ["KUBERNETES_SERVICE_PORT"]
        self.base = f"https://{host}:{port}"
        self.namespace = namespace
        self.timeout = timeout
        self.ctx = ssl.create_default_context(cafile=f"{self.SA}/ca.crt")

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        with open(f"{self.SA}/token") as f:  # re-read: projected tokens rotate
            token = f.read().strip()
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self.ctx) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            if e.code == 404 and method == "DELETE":
                return {}
            raise

    def pods(self, selector: str) -> list[Pod]:
        query = "?" + urllib.parse.urlencode({"labelSelector": selector}) if selector else ""
        items = self._call("GET", f"/api/v1/namespaces/{self.namespace}/pods{query}").get("items", [])
        return [Pod(i["metadata"]["name"], i.get("status", {}).get("podIP"), i["metadata"].get("labels", {}),
                    i.get("spec", {}).get("nodeName")) for i in items]

    def nodes(self) -> list[Node]:
        out = []
        for i in self._call("GET", "/api/v1/nodes").get("items", []):
            ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                        for c in i.get("status", {}).get("conditions", []))
            out.append(Node(i["metadata"]["name"], i["metadata"].get("labels", {}).get(ZONE_LABEL), ready))
        return out

    def delete_pod(self, name: str) -> None:
        self._call("DELETE", f"/api/v1/namespaces/{self.namespace}/pods/{name}", {"gracePeriodSeconds": 0})

    def delete_node(self, name: str) -> None:
        self._call("DELETE", f"/api/v1/nodes/{name}")


class EtcdGateway:
    """etcd v3 through its JSON gateway (keys and values base64), which etcd serves on its client port."""

    def __init__(self, endpoint: str, timeout: float):
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout

    def _post(self, path: str, body: dict) -> dict:
        req = urllib.request.Request(self.endpoint + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            return json.loads(resp.read() or b"{}")

    @staticmethod
    def _b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    def get(self, key: str) -> str | None:
        kvs = self._post("/v3/kv/range", {"key": self._b64(key)}).get("kvs") or []
        return base64.b64decode(kvs[0]["value"]).decode() if kvs and "value" in kvs[0] else None

    def put(self, key: str, value: str) -> None:
        self._post("/v3/kv/put", {"key": self._b64(key), "value": self._b64(value)})


def http_probe(port: int, timeout: float) -> Callable[[str], bool]:
    def probe(ip: str) -> bool:
        try:
            with urllib.request.urlopen(f"http://{ip}:{port}/healthz", timeout=timeout) as resp:
                return resp.status == 200
        except (OSError, urllib.error.URLError):
            return False

    return probe


def management_alter(timeout: float) -> Callable[[list[Pod], str, str], bool]:
    """POST the change to each mixCoord pod; only the active one serves the route."""

    def alter(pods: list[Pod], key: str, value: str) -> bool:
        body = json.dumps({"configs": [{"key": key, "value": value}]}).encode()
        for pod in pods:
            if not pod.ip:
                continue
            req = urllib.request.Request(f"http://{pod.ip}:{MANAGEMENT_PORT}/management/config/alter", data=body,
                                         method="POST", headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    if resp.status == 200:
                        return True
            except (OSError, urllib.error.URLError):
                continue
        return False

    return alter


def main() -> None:
    env = os.environ
    action = env["ACTION"]
    interval = float(env.get("PROBE_INTERVAL_SECONDS", "1"))
    timeout = float(env.get("PROBE_TIMEOUT_SECONDS", "1"))
    kube = InClusterKube(env["NAMESPACE"], timeout=max(timeout, 5.0))
    if action == "switch-wal":
        worker: WalSwitcher | ZoneFencer = WalSwitcher(
            kube=kube, store=EtcdGateway(env["ETCD_ENDPOINT"], timeout=max(timeout, 2.0)),
            probe=http_probe(int(env.get("HEALTH_PORT", MANAGEMENT_PORT)), timeout),
            alter=management_alter(max(timeout, 2.0)), groups=tuple(json.loads(env["GROUPS"])),
            streaming_selector=env["STREAMING_SELECTOR"], mixcoord_selector=env["MIXCOORD_SELECTOR"],
            root_path=env["ETCD_ROOT_PATH"], failure_threshold=int(env.get("FAILURE_THRESHOLD", "3")))
    elif action == "fence-zone":
        worker = ZoneFencer(kube=kube, fence_after=float(env.get("FENCE_AFTER_SECONDS", "10")))
    else:
        raise SystemExit(f"ACTION must be switch-wal or fence-zone; got {action!r}")
    log(f"failover controller: {action}, every {interval:g} s")
    while True:
        started = time.monotonic()
        try:
            worker.step()
        except Exception as e:  # noqa: BLE001 - a failed round (API or etcd unreachable) is retried
            log(f"round failed: {type(e).__name__}: {e}")
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


if __name__ == "__main__":
    main()
