"""A non-editable install (a wheel, as pip or pipx installs it) works in a user's own Pulumi project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(REPO)],
                   check=True, capture_output=True)
    return next(out.glob("milvus_zones-*.whl"))


def test_wheel_has_no_top_level_components_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"milvus_zones", "milvus_zones_policies"}
    assert "milvus_zones/components/deployment.py" in names
    assert "milvus_zones/jobs/failover.py" in names  # mounted into the cluster from package data
    assert "milvus_zones/py.typed" in names


def test_installed_wheel_plans_a_project_in_the_current_directory(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, project / name)
    shutil.copy(REPO / "stacks" / "Pulumi.single-zone.yaml", project / "stacks")
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = ("import sys, milvus_zones.components as c; print(c.__file__, file=sys.stderr); "
            "from milvus_zones.cli import main; sys.argv = ['milvus-zones', 'plan', 'single-zone', '-f', 'json']; main()")
    run = subprocess.run([sys.executable, "-c", code], cwd=project, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stderr.startswith(str(site)), run.stderr  # the wheel's code ran, not the checkout's
    assert '"alicloud:cs/managedKubernetes:ManagedKubernetes"' in run.stdout

    elsewhere = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert elsewhere.returncode == 2
    assert "no Pulumi.yaml in" in elsewhere.stderr and "Traceback" not in elsewhere.stderr
