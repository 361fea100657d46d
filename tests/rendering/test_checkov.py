"""Checkov's Kubernetes framework on what every self-hosted stack applies: its Milvus releases rendered
with the real chart and post-rendered, plus the program's own Kubernetes objects (NetworkPolicies,
PDBs, the backup CronJob, the failover controller, Jobs, RBAC, ...).

The failing checks must be exactly the ones docs/hardening.md lists for each stack (with their
reasons), and its count table must equal what was measured: a new failure, a fixed one and a changed
count all fail the test. Checkov runs from the executable in MILVUS_ZONES_CHECKOV (.ci/run installs it
in a virtualenv of its own: its pins conflict with ours), else `checkov` on PATH; without either the
test skips, and fails under CI=true.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml
from support.chart import available, render_stack, stack_graph

ROOT = Path(__file__).resolve().parents[2]
HARDENING = ROOT / "docs" / "hardening.md"
CHECKOV = os.environ.get("MILVUS_ZONES_CHECKOV") or shutil.which("checkov")
STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (ROOT / "stacks").glob("Pulumi.*.yaml")
                if "backend: managed" not in p.read_text())
# Objects the program creates beside the releases; Namespaces, StorageClasses and Secrets carry no pod.
_OWN_SKIP = ("kubernetes:helm.sh/v3:Release", "kubernetes:core/v1:Namespace", "kubernetes:core/v1:Secret")


def _manifests(stack: str) -> list[dict]:
    objs = [d for release in render_stack(stack) for d in release.docs]
    for r in stack_graph(stack).resources:
        if r.type.startswith("kubernetes:") and r.type not in _OWN_SKIP and "kind" in r.inputs:
            objs.append({k: r.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec", "data", "rules",
                                                   "roleRef", "subjects") if k in r.inputs})
    return objs


def scan(directory: Path, checkov: str) -> dict[str, list[tuple[str, str]]]:
    """(check id, 'Kind name') of every failed check, per stack (one manifest file per stack)."""
    directory.mkdir(parents=True, exist_ok=True)
    for stack in STACKS:
        (directory / f"{stack}.yaml").write_text(yaml.safe_dump_all(_manifests(stack)))
    # --skip-download: no guideline or policy download (no network where this runs).
    run = subprocess.run([checkov, "-d", str(directory), "--framework", "kubernetes", "-o", "json", "--quiet",
                          "--compact", "--skip-download"], check=False, capture_output=True, text=True, timeout=1800)
    assert run.returncode in (0, 1), run.stderr[-2000:]
    reports = json.loads(run.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed: dict[str, list[tuple[str, str]]] = {s: [] for s in STACKS}
    for report in reports:
        assert report["summary"]["parsing_errors"] == 0, report["results"].get("parsing_errors")
        for c in report["results"]["failed_checks"]:
            kind, _, rest = c["resource"].partition(".")  # "StatefulSet.milvus.milvus-etcd"
            # ScriptJob names end in a digest of their script and environment: named without it.
            name = re.sub(r"-[0-9a-f]{8}$", "", rest.partition(".")[2])
            failed[Path(c["file_path"]).stem].append((c["check_id"], f"{kind} {name}"))
    return failed


def documented() -> tuple[dict[str, set[tuple[str, str]]], dict[str, int]]:
    """docs/hardening.md: the checks not met per stack (check id, 'Kind name'), and the measured counts."""
    text = HARDENING.read_text()
    expected: dict[str, set[tuple[str, str]]] = {s: set() for s in STACKS}
    rows = re.findall(r"^\| (CKV2?_K8S_\d+) \| ([^|]+) \| ([^|]+) \| ([^|]*) \|$", text, re.MULTILINE)
    for cid, stacks, workloads, reason in rows:
        assert reason.strip(), f"{cid}: no reason in docs/hardening.md"
        names = [s.strip() for s in stacks.split(",")]
        for stack in STACKS if names == ["all"] else names:
            for w in workloads.split(","):
                expected[stack].add((cid, w.strip().strip("`")))
    counts = {s: int(n) for s, n in re.findall(r"^\| `([\w-]+)` \| [^|]+ \| (\d+) \|$", text, re.MULTILINE)}
    return expected, counts


@pytest.mark.skipif(available() is not None, reason=str(available()))
def test_only_documented_checkov_checks_fail(tmp_path):
    if CHECKOV is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but Checkov is missing: set MILVUS_ZONES_CHECKOV (.ci/run installs it)")
        pytest.skip("Checkov is not installed (set MILVUS_ZONES_CHECKOV to its executable; CONTRIBUTING.md)")
    failed = scan(tmp_path / "manifests", CHECKOV)
    expected, counts = documented()
    for stack in STACKS:
        got = set(failed[stack])
        assert got == expected[stack], (
            f"{stack}: failing but not in docs/hardening.md: {sorted(got - expected[stack])}; "
            f"listed there but passing: {sorted(expected[stack] - got)}")
    assert counts == {s: len(f) for s, f in failed.items()}, \
        f"docs/hardening.md counts differ from the scan: {Counter({s: len(f) for s, f in failed.items()})}"
