"""`milvus-zones images` as a user runs it: the images a stack runs, and `images pin` against a real
registry (Debian's docker-registry on 127.0.0.1, tests/support/registry.py) writing what it serves."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from support.registry import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from typer.testing import CliRunner

from milvus_zones.cli import app
from milvus_zones.planning.catalog import MILVUS_IMAGES

PROJECT_DIR = Path(__file__).resolve().parents[2]
SINGLE = PROJECT_DIR / "stacks" / "Pulumi.single-zone.yaml"
COMMENT = "  # pinned before production: docs/images.md\n"
runner = CliRunner()


def _stack(tmp_path: Path) -> Path:
    """single-zone (Milvus 2.6, etcd, the backup CronJob) with a comment that must survive the edit."""
    text = SINGLE.read_text().replace("config:\n", "config:\n" + COMMENT, 1)
    path = tmp_path / "Pulumi.pinned.yaml"
    path.write_text(text)
    return path


def _pin(path: Path, *args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, ["images", "pin", str(path), *args, "--program", str(PROJECT_DIR)], env=env or {})


def _digests(path: Path) -> dict[str, str]:
    return yaml.safe_load(path.read_text())["config"].get("milvus-zones:imageDigests") or {}


def test_images_lists_each_image_with_its_digest_and_source():
    result = runner.invoke(app, ["images", "single-zone"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    milvus = MILVUS_IMAGES["2.6"]
    assert any(line.split() == [f"docker.io/milvusdb/milvus:{milvus.tag}", milvus.digest, "catalog"] for line in lines)
    assert any(line.split() == ["docker.io/milvusdb/etcd:3.5.25-r1", "by", "tag", "-"] for line in lines)
    assert "3 images, 2 by tag only" in lines[-1]


@pytest.fixture(scope="module")
def mirror(registry):
    """The single-zone stack's images under `mirror/` of the registry: etcd as an OCI index, the
    backup image as a Docker manifest list, Milvus as one OCI manifest (a copy that is no index)."""
    pushed = {
        "milvusdb/etcd:3.5.25-r1": registry.push_image("mirror/milvusdb/etcd", "3.5.25-r1", OCI_MANIFEST, OCI_INDEX),
        "milvusdb/milvus-backup:v0.5.16": registry.push_image("mirror/milvusdb/milvus-backup", "v0.5.16",
                                                              DOCKER_MANIFEST, DOCKER_LIST),
        "milvusdb/milvus:v2.6.22": registry.push_image("mirror/milvusdb/milvus", "v2.6.22", OCI_MANIFEST, None),
    }
    return f"{registry.url}/mirror", pushed


def test_pin_writes_the_digests_the_registry_serves_keeping_comments(tmp_path, mirror):
    url, pushed = mirror
    path = _stack(tmp_path)
    result = _pin(path, "--registry", url)
    assert result.exit_code == 0, result.output
    tag_only = {k: v for k, v in pushed.items() if "milvus:" not in k}  # Milvus has the catalog's digest
    assert _digests(path) == tag_only
    assert COMMENT in path.read_text()
    assert f"milvusdb/etcd:3.5.25-r1  {pushed['milvusdb/etcd:3.5.25-r1']}  (index, {OCI_INDEX})" in result.stdout
    assert f"(index, {DOCKER_LIST})" in result.stdout
    listed = runner.invoke(app, ["images", str(path), "--program", str(PROJECT_DIR)])
    assert "0 by tag only" in listed.stdout and listed.stdout.count("imageDigests") == 2
    # Again: nothing left to read.
    assert "pinned already" in _pin(path, "--registry", url).stdout

    # --all reads the catalog-pinned ones too: this copy of Milvus is no index, so its digest differs.
    result = _pin(path, "--registry", url, "--all")
    assert result.exit_code == 0, result.output
    assert _digests(path) == pushed and pushed["milvusdb/milvus:v2.6.22"] != MILVUS_IMAGES["2.6"].digest
    assert f"(manifest, {OCI_MANIFEST})" in result.stdout
    assert COMMENT in path.read_text()


def test_the_written_digests_are_what_the_program_renders(tmp_path, mirror):
    from milvus_zones.engine.offline import run_program
    from milvus_zones.engine.stacks import resolve_stack

    url, pushed = mirror
    path = _stack(tmp_path)
    assert _pin(path, "--registry", url).exit_code == 0
    graph = run_program(PROJECT_DIR, resolve_stack(str(path), PROJECT_DIR))
    (release,) = graph.of_type("kubernetes:helm.sh/v3:Release")
    assert release.inputs["values"]["etcd"]["image"]["tag"] == f"3.5.25-r1@{pushed['milvusdb/etcd:3.5.25-r1']}"
    (cron,) = graph.of_type("kubernetes:batch/v1:CronJob")
    container = cron.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"milvusdb/milvus-backup:v0.5.16@{pushed['milvusdb/milvus-backup:v0.5.16']}"


def test_an_unknown_tag_writes_nothing_and_exits_2(tmp_path, registry):
    registry.push_image("partial/milvusdb/etcd", "3.5.25-r1")  # the backup image is missing
    path = _stack(tmp_path)
    before = path.read_text()
    result = _pin(path, "--registry", f"{registry.url}/partial")
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: 127.0.0.1:{registry.url.rsplit(':', 1)[1]}/partial/milvusdb/milvus-backup:"
                                     "v0.5.16: no such tag or repository in the registry (HTTP 404); copy the image there first")
    assert path.read_text() == before


def test_an_unreachable_registry_exits_2(tmp_path):
    path = _stack(tmp_path)
    result = _pin(path, "--registry", "http://127.0.0.1:9")
    assert result.exit_code == 2 and "cannot reach the registry http://127.0.0.1:9" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_basic_auth_takes_credentials_from_the_environment(tmp_path, private_registry):
    user, password = private_registry.credentials
    digest = private_registry.push_image("milvusdb/etcd", "3.5.25-r1")
    private_registry.push_image("milvusdb/milvus-backup", "v0.5.16")
    path = _stack(tmp_path)
    before = path.read_text()

    anonymous = _pin(path, "--registry", private_registry.url)
    assert anonymous.exit_code == 2 and "asks for a user name and password (Basic)" in anonymous.stderr
    assert "MILVUS_ZONES_REGISTRY_USERNAME" in anonymous.stderr
    wrong = _pin(path, "--registry", private_registry.url,
                 env={"MILVUS_ZONES_REGISTRY_USERNAME": user, "MILVUS_ZONES_REGISTRY_PASSWORD": "not-it"})
    assert wrong.exit_code == 2 and "refused the credentials (HTTP 401)" in wrong.stderr
    assert path.read_text() == before

    ok = _pin(path, "--registry", private_registry.url,
              env={"MILVUS_ZONES_REGISTRY_USERNAME": user, "MILVUS_ZONES_REGISTRY_PASSWORD": password})
    assert ok.exit_code == 0, ok.output
    assert _digests(path)["milvusdb/etcd:3.5.25-r1"] == digest
    assert password not in path.read_text()


def test_bad_invocations_exit_2():
    assert runner.invoke(app, ["images", "single-zone", "--all"]).exit_code == 2
    result = runner.invoke(app, ["images", "push", "single-zone"])
    assert result.exit_code == 2 and "usage: milvus-zones images STACK" in result.stderr
    result = runner.invoke(app, ["images", "pin", "single-zone", "--registry", "ftp://x"])
    assert result.exit_code == 2 and "is not a registry" in result.stderr


def test_bearer_tokens_anonymous_or_with_credentials(tmp_path, token_registry):
    """A registry with token authentication, as Docker Hub and ACR answer: 401 with a Bearer
    challenge, a pull token from the realm for the scope asked, then the manifest."""
    registry, issuer = token_registry
    digests = {"milvusdb/etcd:3.5.25-r1": registry.push_image("milvusdb/etcd", "3.5.25-r1"),
               "milvusdb/milvus-backup:v0.5.16": registry.push_image("milvusdb/milvus-backup", "v0.5.16")}
    user, password = issuer.credentials
    issuer.credentials = None  # anonymous pulls allowed, as Docker Hub's public images
    try:
        path = _stack(tmp_path)
        assert _pin(path, "--registry", registry.url).exit_code == 0
        assert _digests(path) == digests
        assert {"service": issuer.service, "scope": "repository:milvusdb/etcd:pull"} in issuer.asked
    finally:
        issuer.credentials = (user, password)

    (tmp_path / "private").mkdir()
    path = _stack(tmp_path / "private")
    before = path.read_text()
    anonymous = _pin(path, "--registry", registry.url)
    assert anonymous.exit_code == 2 and "refused a pull token anonymously (HTTP 401)" in anonymous.stderr
    assert path.read_text() == before
    ok = _pin(path, "--registry", registry.url,
              env={"MILVUS_ZONES_REGISTRY_USERNAME": user, "MILVUS_ZONES_REGISTRY_PASSWORD": password})
    assert ok.exit_code == 0, ok.output
    assert _digests(path) == digests


@pytest.mark.parametrize("command", ["plan", "images"])
def test_a_bad_image_digests_setting_is_one_message_and_exit_2(tmp_path, command):
    path = _stack(tmp_path)
    path.write_text(path.read_text() + "  milvus-zones:imageDigests:\n    milvusdb/etcd:3.5.18-r1: sha256:abc\n")
    result = runner.invoke(app, [command, str(path), "--program", str(PROJECT_DIR)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "milvus-zones:imageDigests: milvusdb/etcd:3.5.18-r1: " in result.stderr
    assert "'sha256:abc' is not a digest; allowed: sha256: followed by 64 lowercase hex digits" in result.stderr
