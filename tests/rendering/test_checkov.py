"""Checkov's Kubernetes framework on the rendered stacks: only the checks docs/hardening.md lists fail."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support.render import needs_charts, rendered_deployment

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = shutil.which("checkov") or (str(Path(sys.prefix) / "bin" / "checkov")
                                      if (Path(sys.prefix) / "bin" / "checkov").exists() else None)
STACKS = ["single-zone", "multi-zone-ha", "cross-region-ha"]
# Checks this project meets by construction: a regression in any of them fails the test outright.
MET = {"CKV_K8S_10", "CKV_K8S_11", "CKV_K8S_12", "CKV_K8S_13", "CKV_K8S_20", "CKV_K8S_23", "CKV_K8S_28",
       "CKV_K8S_29", "CKV_K8S_30", "CKV_K8S_31", "CKV_K8S_37", "CKV_K8S_38", "CKV2_K8S_6"}


def _documented() -> dict[str, set[str]]:
    """docs/hardening.md's table of checks not met: check id -> the workloads it names."""
    rows = re.findall(r"^\| (CKV2?_K8S_\d+) \| ([^|]+) \| ([^|]+) \|", (ROOT / "docs" / "hardening.md").read_text(), re.MULTILINE)
    return {cid: {w.strip() for w in workloads.split(",")} for cid, workloads, reason in rows if reason.strip()}


@needs_charts
@pytest.mark.skipif(CHECKOV is None, reason="checkov is not installed (pip install checkov)")
def test_only_documented_checkov_checks_fail(tmp_path):
    for stack in STACKS:
        objs = [o for _, _, rendered, ours in rendered_deployment("stack", stack) for o in [*rendered, *ours]]
        (tmp_path / f"{stack}.yaml").write_text(yaml.safe_dump_all(objs))
    run = subprocess.run([CHECKOV, "-d", str(tmp_path), "--framework", "kubernetes", "-o", "json", "--quiet",
                          "--compact"], check=False, capture_output=True, text=True, timeout=900)
    reports = json.loads(run.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [(c["check_id"], c["resource"]) for r in reports for c in r.get("results", {}).get("failed_checks", [])]
    documented = _documented()
    assert not {cid for cid, _ in failed} & MET
    for cid, resource in failed:
        _, _, name = resource.partition(".")  # "StatefulSet.milvus.milvus-etcd"
        workload = name.rsplit(".", 1)[-1]
        assert cid in documented, f"{cid} fails on {resource} and is not in docs/hardening.md"
        assert "every workload" in documented[cid] or any(workload.endswith(w) for w in documented[cid]), \
            f"{cid} fails on {resource}, which docs/hardening.md does not name for it"
