"""A real 3-member etcd cluster on 127.0.0.1 (Debian's etcd-server), for what talks to etcd.

The fixtures in tests/conftest.py start it once per test session (per xdist worker) on free ports
with its own data dirs; never as a system service. Absent binary: the tests skip with a reason, except under CI=true, where they fail
(CI installs etcd-server, so a missing binary is a broken pipeline, not a reason to skip).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from support.binaries import require_binary


def require_etcd() -> str:
    return require_binary("etcd", "etcd-server")


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@dataclass
class Member:
    name: str
    client: int
    peer: int
    metrics: int  # the metrics-only listener, as the chart's members run it (ETCD_LISTEN_METRICS_URLS)
    data: Path
    log: Path
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.client}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics}"


@dataclass
class EtcdCluster:
    binary: str
    root: Path
    members: list[Member] = field(default_factory=list)

    @property
    def endpoints(self) -> list[str]:
        return [m.url for m in self.members]

    def _cmd(self, m: Member) -> list[str]:
        initial = ",".join(f"{x.name}=http://127.0.0.1:{x.peer}" for x in self.members)
        # The chart's timing (values.yaml etcd.extraEnvVars): heartbeat 500 ms, election 2500 ms.
        return [self.binary, "--name", m.name, "--data-dir", str(m.data),
                "--listen-client-urls", m.url, "--advertise-client-urls", m.url,
                "--listen-peer-urls", f"http://127.0.0.1:{m.peer}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{m.peer}",
                "--initial-cluster", initial, "--initial-cluster-state", "new",
                "--initial-cluster-token", self.root.name,
                "--heartbeat-interval", "500", "--election-timeout", "2500",
                "--enable-v2=false", "--logger", "zap", "--log-outputs", str(m.log)]

    def start(self, m: Member) -> None:
        # The metrics listener through the environment, the way helm_values gives it to the chart's
        # members (etcd reads every flag from ETCD_<FLAG> when it is not on the command line).
        env = {**os.environ, "ETCD_LISTEN_METRICS_URLS": m.metrics_url}
        m.proc = subprocess.Popen(self._cmd(m), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True, env=env)

    def stop(self, m: Member) -> None:
        if m.proc and m.proc.poll() is None:
            os.killpg(m.proc.pid, signal.SIGKILL)  # a zone lost: no graceful leave
            m.proc.wait(10)
        m.proc = None

    def healthy(self, m: Member) -> bool:
        """A linearizable read through this member succeeds (it is in contact with a quorum)."""
        body = json.dumps({"key": "aGVhbHRo"}).encode()
        req = urllib.request.Request(m.url + "/v3/kv/range", data=body, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=1) as resp:
                return "error" not in json.loads(resp.read())
        except (OSError, ValueError):
            return False

    def wait_healthy(self, members: list[Member] | None = None, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        for m in members or [m for m in self.members if m.proc]:
            while not self.healthy(m):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"etcd member {m.name} not healthy; see {m.log}")
                time.sleep(0.1)

    def restore(self) -> None:
        """Every member running and serving again (tests that stop members call this when done)."""
        for m in self.members:
            if m.proc is None or m.proc.poll() is not None:
                self.start(m)
        self.wait_healthy()

    def shutdown(self) -> None:
        for m in self.members:
            self.stop(m)


def start_cluster(binary: str, root: Path) -> EtcdCluster:
    ports = _free_ports(9)
    cluster = EtcdCluster(binary, root)
    for i in range(3):
        cluster.members.append(Member(f"m{i}", ports[3 * i], ports[3 * i + 1], ports[3 * i + 2], root / f"m{i}",
                                      root / f"m{i}.log"))
    for m in cluster.members:
        cluster.start(m)
    try:
        cluster.wait_healthy()
    except RuntimeError:
        cluster.shutdown()
        raise
    return cluster
