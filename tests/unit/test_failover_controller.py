"""The zone failover controller (milvus_zones/jobs/failover.py) against fake Kubernetes, etcd and probes."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from milvus_zones.jobs.failover import (
    GROUP_LABEL,
    PRIMARY_KEY,
    EtcdGateway,
    Node,
    Pod,
    WalSwitcher,
    ZoneFencer,
    management_alter,
)


class FakeKube:
    def __init__(self, pods=(), nodes=()):
        self.pod_list = list(pods)
        self.node_list = list(nodes)
        self.deleted_pods: list[str] = []
        self.deleted_nodes: list[str] = []
        self.selectors: list[str] = []

    def pods(self, selector):
        self.selectors.append(selector)
        wanted = dict(kv.split("=") for kv in selector.split(",")) if selector else {}
        return [p for p in self.pod_list if all(p.labels.get(k) == v for k, v in wanted.items())]

    def nodes(self):
        return list(self.node_list)

    def delete_pod(self, name):
        self.deleted_pods.append(name)
        self.pod_list = [p for p in self.pod_list if p.name != name]

    def delete_node(self, name):
        self.deleted_nodes.append(name)
        self.node_list = [n for n in self.node_list if n.name != name]


class FakeStore(dict):
    def get(self, key):  # noqa: D401 - dict.get with one argument
        return super().get(key)

    def put(self, key, value):
        self[key] = value


def streaming(name, group, ip):
    return Pod(name, ip, {"component": "streamingnode", GROUP_LABEL: group}, f"node-{group}")


def mixcoord(name, ip):
    return Pod(name, ip, {"component": "mixcoord"}, None)


def switcher(kube, store, alive, threshold=3, altered=None):
    def alter(pods, key, value):
        if altered is not None:
            altered.append(([p.name for p in pods], key, value))
        return True

    return WalSwitcher(kube=kube, store=store, probe=lambda ip: ip in alive, alter=alter, groups=("rgh", "rgi"),
                       streaming_selector="component=streamingnode", mixcoord_selector="component=mixcoord",
                       root_path="milvus", failure_threshold=threshold)


PODS = [streaming("sn-h-0", "rgh", "10.0.0.1"), streaming("sn-h-1", "rgh", "10.0.0.2"),
        streaming("sn-i-0", "rgi", "10.0.1.1"), mixcoord("mc-0", "10.0.0.9"), mixcoord("mc-1", "10.0.1.9")]
KEY = f"milvus/config/{PRIMARY_KEY}"


def test_switches_after_threshold_rounds_and_only_then():
    kube, store, altered = FakeKube(PODS), FakeStore(), []
    s = switcher(kube, store, alive={"10.0.1.1", "10.0.1.9"}, altered=altered)
    assert [s.step() for _ in range(2)] == [None, None]
    assert KEY not in store  # two failed rounds are not enough
    assert s.step() == "rgi"
    assert store[KEY] == "rgi"
    assert altered == [(["mc-0", "mc-1"], PRIMARY_KEY, "rgi")]


def test_one_healthy_streaming_node_keeps_the_primary():
    kube, store = FakeKube(PODS), FakeStore()
    s = switcher(kube, store, alive={"10.0.0.2", "10.0.1.1"})
    assert all(s.step() is None for _ in range(5))
    assert KEY not in store


def test_a_recovered_primary_resets_the_count():
    kube, store = FakeKube(PODS), FakeStore()
    alive = {"10.0.1.1"}
    s = switcher(kube, store, alive=alive)
    s.step(), s.step()
    alive.add("10.0.0.1")
    s.step()
    alive.discard("10.0.0.1")
    s.step(), s.step()
    assert KEY not in store  # 2 + 2 failures, never 3 in a row
    assert s.step() == "rgi"


def test_no_switch_when_the_target_is_unreachable_too():
    # A replica cut off from both groups must not move the WAL anywhere.
    kube, store = FakeKube(PODS), FakeStore()
    s = switcher(kube, store, alive=set(), threshold=1)
    assert s.step() is None and KEY not in store


def test_reads_the_current_primary_from_etcd_and_switches_back():
    kube, store = FakeKube(PODS), FakeStore({KEY: "rgi"})
    s = switcher(kube, store, alive={"10.0.0.1"}, threshold=1)
    assert s.step() == "rgh" and store[KEY] == "rgh"


def test_a_group_with_no_pod_ip_counts_as_gone():
    pods = [Pod("sn-h-0", None, {"component": "streamingnode", GROUP_LABEL: "rgh"}, None), PODS[2]]
    s = switcher(FakeKube(pods), FakeStore(), alive={"10.0.1.1"}, threshold=1)
    assert s.step() == "rgi"


# ---- fence-zone -----------------------------------------------------------------------------------

class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def nodes(ready_h, ready_i=True):
    return [Node("h1", "cn-hangzhou-h", ready_h), Node("h2", "cn-hangzhou-h", ready_h),
            Node("i1", "cn-hangzhou-i", ready_i), Node("j1", "cn-hangzhou-j", True)]


def test_fences_a_zone_after_the_delay():
    pods = [Pod("querynode-0", "1", {}, "h1"), Pod("mixcoord-0", "2", {}, "h2"), Pod("etcd-1", "3", {}, "i1")]
    kube, clock = FakeKube(pods, nodes(ready_h=False)), Clock()
    f = ZoneFencer(kube=kube, fence_after=10, clock=clock)
    assert f.step() == []
    clock.now = 9.9
    assert f.step() == [] and not kube.deleted_nodes
    clock.now = 10
    assert f.step() == ["cn-hangzhou-h"]
    assert kube.deleted_pods == ["querynode-0", "mixcoord-0"]  # only pods on the lost zone's nodes
    assert kube.deleted_nodes == ["h1", "h2"]
    assert f.step() == []  # once


def test_one_ready_node_keeps_the_zone():
    kube, clock = FakeKube([], [Node("h1", "cn-hangzhou-h", False), Node("h2", "cn-hangzhou-h", True),
                                 Node("i1", "cn-hangzhou-i", True)]), Clock()
    f = ZoneFencer(kube=kube, fence_after=0, clock=clock)
    assert f.step() == [] and not kube.deleted_nodes


def test_never_fences_when_no_zone_is_ready():
    kube, clock = FakeKube([], [Node("h1", "cn-hangzhou-h", False), Node("i1", "cn-hangzhou-i", False)]), Clock()
    f = ZoneFencer(kube=kube, fence_after=0, clock=clock)
    assert f.step() == [] and not kube.deleted_nodes


def test_a_zone_that_comes_back_restarts_the_delay():
    kube, clock = FakeKube([], nodes(ready_h=False)), Clock()
    f = ZoneFencer(kube=kube, fence_after=10, clock=clock)
    f.step()
    clock.now = 8
    kube.node_list = nodes(ready_h=True)
    f.step()
    kube.node_list = nodes(ready_h=False)
    clock.now = 12
    assert f.step() == []  # down again since 12, not since 0
    clock.now = 22
    assert f.step() == ["cn-hangzhou-h"]


# ---- the real HTTP clients against local fakes (loopback only) -------------------------------------

class _Handler(BaseHTTPRequestHandler):
    calls: list = []
    kv: dict = {}

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls.append((self.path, body))
        if self.path == "/v3/kv/put":
            type(self).kv[body["key"]] = body["value"]
            out = {}
        elif self.path == "/v3/kv/range":
            out = {"kvs": [{"key": body["key"], "value": type(self).kv[body["key"]]}]} if body["key"] in type(self).kv else {}
        elif self.path == "/management/config/alter":
            out = {"msg": "OK"}
        else:
            self.send_response(404)
            self.end_headers()
            return
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.calls, _Handler.kv = [], {}
    httpd = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_etcd_gateway_round_trip(server):
    etcd = EtcdGateway(f"http://127.0.0.1:{server.server_port}", timeout=2)
    assert etcd.get(KEY) is None
    etcd.put(KEY, "rgi")
    assert etcd.get(KEY) == "rgi"
    path, body = _Handler.calls[1]
    assert path == "/v3/kv/put" and body["key"] == "bWlsdnVzL2NvbmZpZy9zdHJlYW1pbmcucHJpbWFyeVJlc291cmNlR3JvdXA="


def test_management_alter_posts_the_batch_form(server, monkeypatch):
    import milvus_zones.jobs.failover as failover

    monkeypatch.setattr(failover, "MANAGEMENT_PORT", server.server_port)
    alter = management_alter(timeout=2)
    assert alter([Pod("mc-0", "127.0.0.1", {}, None)], PRIMARY_KEY, "rgi")
    assert _Handler.calls == [("/management/config/alter", {"configs": [{"key": PRIMARY_KEY, "value": "rgi"}]})]
    assert not alter([Pod("mc-0", None, {}, None)], PRIMARY_KEY, "rgi")
