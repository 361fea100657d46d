"""Helpers shared by the controller's tests: etcd access for setting up state, and a fake Kubernetes API.

The fake serves coordination.k8s.io/v1 Leases with the API server's rules: create of an existing
object is 409 AlreadyExists; an update must carry metadata.resourceVersion (422 without it: the Lease
strategy disallows unconditional updates, kubernetes pkg/registry/coordination/lease/strategy.go
AllowUnconditionalUpdate) and is 409 Conflict unless it is the current one.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from milvus_zones.jobs.failover import Etcd


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def put(cluster, key: str, value: str, lease: int | None = None) -> None:
    body = {"key": b64(key), "value": b64(value), **({"lease": str(lease)} if lease else {})}
    Etcd(cluster.endpoints, 3).call("/v3/kv/put", body)


def get(cluster, key: str) -> str | None:
    kvs = Etcd(cluster.endpoints, 3).range_prefix(key)
    return next((kv.value for kv in kvs if kv.key == key), None)


def delete(cluster, key: str) -> None:
    Etcd(cluster.endpoints, 3).call("/v3/kv/deleterange", {"key": b64(key)})


def session(root: str, server_id: int, group: str, lease: int | None = None, cluster=None) -> None:
    value = json.dumps({"ServerID": server_id, "ServerName": "streamingnode", "Address": f"10.0.0.{server_id}:22222",
                        "Version": "2.6.16", "ServerLabels": {"RESOURCE_GROUP": group}})
    put(cluster, f"{root}/meta/session/streamingnode-{server_id}", value, lease)


def two_zones(cluster, root: str, groups: tuple[str, str] = ("rga", "rgb")) -> None:
    """Two streaming nodes per group; zone A's group first (server ids 1, 2)."""
    for sid, group in ((1, groups[0]), (2, groups[0]), (3, groups[1]), (4, groups[1])):
        session(root, sid, group, cluster=cluster)


def lose_zone_a(cluster, root: str) -> None:
    for sid in (1, 2):
        delete(cluster, f"{root}/meta/session/streamingnode-{sid}")


class FakeApiServer:
    """coordination.k8s.io/v1 Leases with the API server's conflict rules."""

    def __init__(self):
        self.leases: dict[tuple[str, str], dict] = {}
        self.version = 0
        self.lock = threading.Lock()
        self.down = False
        self.before_write = None  # hook: run between a client's read and its write
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _parts(self):
                parts = self.path.strip("/").split("/")
                assert parts[:3] == ["apis", "coordination.k8s.io", "v1"] and parts[3] == "namespaces", self.path
                return parts[4], (parts[6] if len(parts) > 6 else None)

            def _body(self):
                return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

            def do_GET(self):
                if fake.down:
                    return self._send(503, {"kind": "Status", "code": 503})
                ns, name = self._parts()
                with fake.lock:
                    lease = fake.leases.get((ns, name))
                self._send(200, lease) if lease else self._send(404, {"kind": "Status", "reason": "NotFound"})

            def do_POST(self):
                ns, _ = self._parts()
                body = self._body()
                if fake.before_write:
                    fake.before_write()
                with fake.lock:
                    key = (ns, body["metadata"]["name"])
                    if key in fake.leases:
                        return self._send(409, {"kind": "Status", "reason": "AlreadyExists", "code": 409})
                    fake.version += 1
                    body["metadata"]["resourceVersion"] = str(fake.version)
                    fake.leases[key] = body
                self._send(201, body)

            def do_PUT(self):
                ns, name = self._parts()
                body = self._body()
                if fake.before_write:
                    fake.before_write()
                with fake.lock:
                    current = fake.leases.get((ns, name))
                    rv = body.get("metadata", {}).get("resourceVersion")
                    if not rv:
                        return self._send(422, {"kind": "Status", "reason": "Invalid", "code": 422,
                                                "message": "metadata.resourceVersion: must be specified for an update"})
                    if current is None or current["metadata"]["resourceVersion"] != rv:
                        return self._send(409, {"kind": "Status", "reason": "Conflict", "code": 409})
                    fake.version += 1
                    body["metadata"]["resourceVersion"] = str(fake.version)
                    fake.leases[(ns, name)] = body
                self._send(200, body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def holder(self, ns="ns", name="lease"):
        return self.leases[(ns, name)]["spec"]["holderIdentity"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
