"""Fixtures every test folder may use. Shared helpers live in tests/support/ and are imported as
`support.<module>` (pyproject's pytest `pythonpath` puts tests/ on sys.path, nothing else)."""

from __future__ import annotations

import pytest
from support.etcd import EtcdCluster, require_etcd, start_cluster
from support.registry import LocalRegistry, TokenIssuer, require_registry, start_registry


@pytest.fixture(scope="session")
def etcd_cluster(tmp_path_factory) -> EtcdCluster:
    cluster = start_cluster(require_etcd(), tmp_path_factory.mktemp("etcd"))
    yield cluster
    cluster.shutdown()


@pytest.fixture
def etcd(etcd_cluster) -> EtcdCluster:
    """The session's cluster, whole again after the test (whatever members the test stopped)."""
    etcd_cluster.restore()
    yield etcd_cluster
    etcd_cluster.restore()


@pytest.fixture(scope="session")
def registry(tmp_path_factory) -> LocalRegistry:
    """A real registry on 127.0.0.1 (docker-registry), anonymous, over HTTP."""
    started = start_registry(require_registry(), tmp_path_factory.mktemp("registry"))
    yield started
    started.stop()


@pytest.fixture(scope="session")
def private_registry(tmp_path_factory) -> LocalRegistry:
    """The same with htpasswd Basic auth: user `puller`, a password of the test's own."""
    started = start_registry(require_registry(), tmp_path_factory.mktemp("private-registry"),
                             credentials=("puller", "pull-only-test-password"))
    yield started
    started.stop()


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory) -> tuple[LocalRegistry, TokenIssuer]:
    """The same with token authentication (Bearer), its token service asking for Basic credentials."""
    binary = require_registry()
    root = tmp_path_factory.mktemp("token-registry")
    issuer = TokenIssuer(root, credentials=("puller", "token-test-password")).start()
    started = start_registry(binary, root, issuer=issuer)
    yield started, issuer
    started.stop()
    issuer.stop()
