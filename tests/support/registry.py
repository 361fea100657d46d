"""A real OCI registry on 127.0.0.1 (Debian's docker-registry: distribution 2.8.2), with images pushed
through its HTTP API, for what reads digests from a registry.

Started per test session (per xdist worker) on a free port with a config and storage of its own,
never as the system service. Absent binary: the tests skip with a reason, except under CI=true,
where they fail (CI installs docker-registry, so a missing binary is a broken pipeline).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from support.binaries import require_binary

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
CONFIG_TYPES = {OCI_MANIFEST: "application/vnd.oci.image.config.v1+json",
                DOCKER_MANIFEST: "application/vnd.docker.container.image.v1+json"}
LAYER_TYPES = {OCI_MANIFEST: "application/vnd.oci.image.layer.v1.tar+gzip",
               DOCKER_MANIFEST: "application/vnd.docker.image.rootfs.diff.tar.gzip"}


def require_registry() -> str:
    return require_binary("docker-registry", "docker-registry")


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalRegistry:
    """A running registry: its URL, and the credentials it wants (None: anonymous)."""

    url: str
    proc: subprocess.Popen
    log: Path
    credentials: tuple[str, str] | None = None
    bearer: Callable[[str, list[str]], str] | None = None  # token registries: a push token for a repository

    def _call(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):
        request = urllib.request.Request(self.url + path if path.startswith("/") else path, data=body or None,
                                         method=method, headers=headers or {})
        if self.bearer is not None:
            name = urllib.parse.urlsplit(request.full_url).path.removeprefix("/v2/").split("/manifests/")[0]
            name = name.split("/blobs/")[0]
            request.add_header("Authorization", f"Bearer {self.bearer(name, ['pull', 'push'])}")
        elif self.credentials:
            token = base64.b64encode(":".join(self.credentials).encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()

    def push_blob(self, name: str, data: bytes) -> str:
        """The registry's monolithic upload: POST an upload session, PUT the bytes with their digest."""
        digest = _digest(data)
        status, headers, _ = self._call("POST", f"/v2/{name}/blobs/uploads/")
        assert status == 202, status
        location = headers["Location"]
        location = location if location.startswith("http") else self.url + location
        sep = "&" if "?" in location else "?"
        status, _, _ = self._call("PUT", f"{location}{sep}digest={digest}", data,
                                  {"Content-Type": "application/octet-stream"})
        assert status == 201, status
        return digest

    def push_manifest(self, name: str, reference: str, media_type: str, manifest: dict) -> str:
        """PUT a manifest (or index) under a tag or its digest; returns the digest the registry answered."""
        body = json.dumps(manifest, indent=3).encode()  # not canonical JSON: the digest is of these bytes
        status, headers, _ = self._call("PUT", f"/v2/{name}/manifests/{reference}", body, {"Content-Type": media_type})
        assert status == 201, status
        assert headers["Docker-Content-Digest"] == _digest(body)
        return headers["Docker-Content-Digest"]

    def push_image(self, name: str, tag: str, media_type: str = OCI_MANIFEST, index: str | None = OCI_INDEX) -> str:
        """A one-layer linux/amd64 image under `tag`: its manifest, or an index of it (`index`). The
        digest a reference should pin (the index's when there is one)."""
        files = io.BytesIO()
        with tarfile.open(fileobj=files, mode="w") as tar:
            content = f"{name}:{tag}\n".encode()
            info = tarfile.TarInfo("etc/image-name")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        layer = gzip.compress(files.getvalue(), mtime=0)
        config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                             "rootfs": {"type": "layers", "diff_ids": [_digest(files.getvalue())]}}).encode()
        manifest = {"schemaVersion": 2, "mediaType": media_type,
                    "config": {"mediaType": CONFIG_TYPES[media_type], "digest": self.push_blob(name, config),
                               "size": len(config)},
                    "layers": [{"mediaType": LAYER_TYPES[media_type], "digest": self.push_blob(name, layer),
                                "size": len(layer)}]}
        if index is None:
            return self.push_manifest(name, tag, media_type, manifest)
        body = json.dumps(manifest, indent=3).encode()
        digest = self.push_manifest(name, _digest(body), media_type, manifest)
        listed = {"schemaVersion": 2, "mediaType": index,
                  "manifests": [{"mediaType": media_type, "digest": digest, "size": len(body),
                                 "platform": {"architecture": "amd64", "os": "linux"}}]}
        return self.push_manifest(name, tag, index, listed)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenIssuer:
    """The token service of distribution's token authentication (docs/spec/auth/token.md), for a
    registry started with `auth.token`: it signs JWTs (RS256, the certificate in the `x5c` header,
    which the registry checks against its `rootcertbundle`) with the claims the registry verifies
    (iss, aud = service, exp/nbf, access). `GET /token?service=...&scope=repository:<name>:pull` answers
    `{"token": ...}` for the scope asked, once the Basic credentials match when it has some."""

    root: Path
    service: str = "milvus-zones-test-registry"
    issuer: str = "milvus-zones-test-issuer"
    credentials: tuple[str, str] | None = None
    asked: list[dict[str, str]] = field(default_factory=list)  # the query of each token request
    server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self.key, self.cert = self.root / "issuer.key", self.root / "issuer.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                        "/CN=milvus-zones-test-issuer", "-keyout", str(self.key), "-out", str(self.cert)],
                       check=True, capture_output=True)
        pem = self.cert.read_text()
        self.der = base64.b64decode("".join(line for line in pem.splitlines() if "CERTIFICATE" not in line))

    def token(self, name: str, actions: list[str]) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self.der).decode()]}
        claims = {"iss": self.issuer, "sub": "puller", "aud": self.service, "exp": now + 300, "nbf": now - 10,
                  "iat": now, "jti": hashlib.sha256(os.urandom(16)).hexdigest(),
                  "access": [{"type": "repository", "name": name, "actions": actions}]}
        signed = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)], input=signed.encode(),
                                   check=True, capture_output=True).stdout
        return f"{signed}.{_b64url(signature)}"

    @property
    def realm(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/token"

    def start(self) -> TokenIssuer:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                issuer.asked.append(query)
                if issuer.credentials is not None:
                    expected = base64.b64encode(":".join(issuer.credentials).encode()).decode()
                    if self.headers.get("Authorization") != f"Basic {expected}":
                        return self._answer(401, {"details": "incorrect username or password"})
                kind, _, rest = query.get("scope", "").partition(":")
                name, _, actions = rest.rpartition(":")
                if query.get("service") != issuer.service or kind != "repository" or not name:
                    return self._answer(400, {"details": "service or scope not this registry's"})
                self._answer(200, {"token": issuer.token(name, [a for a in actions.split(",") if a == "pull"])})

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def start_registry(binary: str, root: Path, credentials: tuple[str, str] | None = None,
                   issuer: TokenIssuer | None = None) -> LocalRegistry:
    """A registry with filesystem storage under root, over HTTP on 127.0.0.1; with htpasswd Basic auth
    (a bcrypt entry, the only kind distribution's htpasswd accepts) when credentials are given, or
    with token authentication by `issuer`."""
    root.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    config: dict = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(root / "data")}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}"},
    }
    if credentials:
        import bcrypt

        user, password = credentials
        (root / "htpasswd").write_text(f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()}\n")
        config["auth"] = {"htpasswd": {"realm": "milvus-zones-test", "path": str(root / "htpasswd")}}
    elif issuer is not None:
        config["auth"] = {"token": {"realm": issuer.realm, "service": issuer.service, "issuer": issuer.issuer,
                                    "rootcertbundle": str(issuer.cert)}}
    (root / "config.yml").write_text(yaml.safe_dump(config))
    log = root / "registry.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([binary, "serve", str(root / "config.yml")], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    registry = LocalRegistry(f"http://127.0.0.1:{port}", proc, log, credentials,
                             issuer.token if issuer is not None else None)
    deadline = time.monotonic() + 30
    while True:  # serving once /v2/ answers (401 with auth on)
        try:
            urllib.request.urlopen(f"{registry.url}/v2/", timeout=1).close()
            return registry
        except urllib.error.HTTPError as e:
            if e.code == 401:
                return registry
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            registry.stop()
            raise RuntimeError(f"docker-registry did not start; see {log}")
        time.sleep(0.1)
