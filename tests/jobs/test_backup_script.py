"""The CronJob's script (milvus_zones/jobs/backup.sh) run by a real POSIX shell against a fake
milvus-backup that keeps backups in a folder and behaves like v0.5.16's CLI where the script relies
on it: `create -n` refuses an invalid or existing name (core/backup/func.go ValidateName), `list`
prints ">> Backups:" and the names through cobra's Println (stderr) with log lines on stdout,
`delete -n` removes one backup."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from milvus_zones.rendering.backup_manifests import backup_script

FAKE = r"""#!/bin/sh
set -eu
store=${FAKE_STORE:?}
cmd=$1; shift
name=""
while [ $# -gt 0 ]; do
    case $1 in -n) name=$2; shift 2;; --config) shift 2;; *) shift;; esac
done
echo "[INFO] milvus-backup $cmd" # a log line on stdout, as the console logger writes
case $cmd in
create)
    printf '%s' "$name" | grep -Eq '^[A-Za-z_][A-Za-z0-9_]{0,127}$' || { echo "invalid backup name $name" >&2; exit 1; }
    [ ! -e "$store/$name" ] || { echo "backup $name already exists" >&2; exit 1; }
    [ -z "${FAKE_FAIL_CREATE:-}" ] || { echo "create failed" >&2; exit 1; }
    touch "$store/$name";;
list)
    echo ">> Backups:" >&2
    ls "$store" >&2;;
delete)
    [ -e "$store/$name" ] || { echo "backup $name not found" >&2; exit 1; }
    rm "$store/$name"; echo "$name" >> "$store/../deleted";;
esac
"""

SH = shutil.which("sh")
pytestmark = pytest.mark.skipif(SH is None, reason="no POSIX shell")


def stamp(days_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y%m%d%H%M")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    store = tmp_path / "store"
    store.mkdir()
    fake = tmp_path / "milvus-backup"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    script = tmp_path / "backup.sh"
    script.write_text(backup_script())
    return {"PATH": os.environ["PATH"], "FAKE_STORE": str(store), "MILVUS_BACKUP": str(fake),
            "BACKUP_CONFIG": "/dev/null", "BACKUP_NAME_PREFIX": "milvus", "RETENTION_DAYS": "7",
            "SCRIPT": str(script)}


def run(env: dict[str, str], **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([SH, env["SCRIPT"]], env={**env, **extra}, capture_output=True, text=True, timeout=30, check=False)


def stored(env) -> set[str]:
    return {p.name for p in Path(env["FAKE_STORE"]).iterdir()}


def test_a_run_creates_a_named_backup_and_deletes_only_this_stacks_backups_past_retention(env):
    old, recent = f"milvus_{stamp(8)}", f"milvus_{stamp(6)}"
    other, manual = f"milvus_cn_hangzhou_{stamp(30)}", "before_migration"
    for n in (old, recent, other, manual):
        (Path(env["FAKE_STORE"]) / n).touch()
    r = run(env)
    assert r.returncode == 0, r.stderr
    (new,) = stored(env) - {recent, other, manual}
    assert re.fullmatch(r"milvus_\d{12}", new)
    assert stored(env) == {new, recent, other, manual}
    assert (Path(env["FAKE_STORE"]).parent / "deleted").read_text().split() == [old]
    assert "1 backup(s) past retention deleted" in r.stdout


def test_retention_follows_the_setting(env):
    for d in (2, 4):
        (Path(env["FAKE_STORE"]) / f"milvus_{stamp(d)}").touch()
    assert run(env, RETENTION_DAYS="3").returncode == 0
    assert len(stored(env)) == 2  # the new one and the 2-day-old one


def test_a_failed_backup_fails_the_job_and_deletes_nothing(env):
    old = f"milvus_{stamp(30)}"
    (Path(env["FAKE_STORE"]) / old).touch()
    r = run(env, FAKE_FAIL_CREATE="1")
    assert r.returncode != 0
    assert stored(env) == {old}  # the last backup is never deleted because a new one failed
