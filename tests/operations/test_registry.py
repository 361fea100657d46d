"""The registry client (milvus_zones/operations/registry.py) against a real registry: digests of an
index and of a single manifest, the sha256-of-the-body path for registries that send no
Docker-Content-Digest, and where each address points."""

from __future__ import annotations

import hashlib
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from support.registry import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST

from milvus_zones.operations.registry import DOCKER_HUB_API, Registry, RegistryError


def test_an_index_and_a_single_manifest(registry):
    index = registry.push_image("client/milvusdb/etcd", "3.5.25-r1", OCI_MANIFEST, OCI_INDEX)
    single = registry.push_image("client/milvusdb/milvus-backup", "v0.5.16", DOCKER_MANIFEST, None)
    client = Registry.parse(f"{registry.url}/client", env={})
    got = client.resolve("milvusdb/etcd", "3.5.25-r1")
    assert (got.digest, got.kind, got.media_type) == (index, "index", OCI_INDEX)
    got = client.resolve("milvusdb/milvus-backup", "v0.5.16")
    assert (got.digest, got.kind, got.media_type) == (single, "manifest", DOCKER_MANIFEST)


@pytest.fixture
def without_digest_header(registry):
    """The real registry behind a pass-through that drops Docker-Content-Digest (a registry need not send it)."""

    class Handler(BaseHTTPRequestHandler):
        def _forward(self, method: str) -> None:
            self.server.methods.append(method)  # type: ignore[attr-defined]  # before the client has its answer
            request = urllib.request.Request(registry.url + self.path, method=method,
                                             headers={"Accept": self.headers.get("Accept", "")})
            with urllib.request.urlopen(request, timeout=10) as response:
                body = response.read()
                self.send_response(response.status)
                for key, value in response.headers.items():
                    if key.lower() not in ("docker-content-digest", "connection", "transfer-encoding"):
                        self.send_header(key, value)
                self.end_headers()
                if method == "GET":
                    self.wfile.write(body)

        def do_HEAD(self) -> None:
            self._forward("HEAD")

        def do_GET(self) -> None:
            self._forward("GET")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.methods = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", server.methods  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def test_without_the_header_the_digest_is_the_sha256_of_the_manifest(registry, without_digest_header):
    digest = registry.push_image("nodigest/milvusdb/etcd", "3.5.25-r1")
    url, methods = without_digest_header
    got = Registry.parse(f"{url}/nodigest", env={}).resolve("milvusdb/etcd", "3.5.25-r1")
    assert got.digest == digest and methods == ["HEAD", "GET"]
    _, _, body = registry._call("GET", "/v2/nodigest/milvusdb/etcd/manifests/3.5.25-r1", headers={"Accept": OCI_INDEX})
    assert digest == "sha256:" + hashlib.sha256(body).hexdigest()


def test_addresses():
    assert Registry.parse(None, env={}) == Registry(DOCKER_HUB_API)
    assert Registry.parse("docker.io", env={}).base == DOCKER_HUB_API
    mirror = Registry.parse("acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com/mirror", env={})
    assert (mirror.base, mirror.name("library/python")) == (
        "https://acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com", "mirror/library/python")
    assert Registry.parse("http://127.0.0.1:5000/", env={}).prefix == ""
    with pytest.raises(RegistryError, match="set both MILVUS_ZONES_REGISTRY_USERNAME"):
        Registry.parse(None, env={"MILVUS_ZONES_REGISTRY_USERNAME": "puller"})
    with pytest.raises(RegistryError, match="is not a registry"):
        Registry.parse("ftp://registry.example.com", env={})
