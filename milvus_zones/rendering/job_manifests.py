"""Kubernetes Jobs that run one of milvus_zones/jobs/*.py in the cluster, from the plan.

Pure: plain dicts, no Pulumi. components/script_job.py creates the ConfigMap and the Job; the
ConfigMap's name and the namespace come in as arguments (Pulumi knows them once it created them).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from milvus_zones.planning.catalog import JOB_IMAGE
from milvus_zones.planning.plan import TopologyPlan
from milvus_zones.planning.sizing import JOB, JOB_CPU_LIMIT_M
from milvus_zones.rendering.helm_values import PASSWORD_KEY, PASSWORD_SECRET, resource_group_configs

HELPER = "retry.py"  # shared by the scripts, mounted beside each
BACKOFF_LIMIT = 3
JOB_SELECTOR = {"app.kubernetes.io/name": "milvus-zones-job"}  # every ScriptJob's pods; the Jobs' egress policy selects it
# The Job that creates Milvus 2.5's node-filtered resource groups: a pinned Python image and client.
# Up to 900 s waiting for Milvus to answer (MILVUS_WAIT_SECONDS), then three calls of at most 60 s.
RESOURCE_GROUP_JOB_DEADLINE_S = 1800
WORK_DIR = "/work"  # emptyDir: pip's --target, HOME and TMPDIR (the root filesystem is read-only)
RUN_AS = 65534  # nobody: the python image's files are world-readable, the script writes only to WORK_DIR
RESOURCE_GROUP_PYMILVUS = "pymilvus==2.5.18"  # the client of the 2.5 server whose resource groups the Job creates


def job_name(script: str, env: Sequence[Mapping], requirement: str, pod: Mapping | None = None) -> str:
    """`milvus-zones-<script>-<digest>`: the digest covers the script, its helper, its environment and
    its requirement (the ConfigMap's name), and for the Job its pod template too (image, node selector,
    resources, security context): a Job's template is immutable, so any change runs a new Job (Pulumi
    replaces it; the scripts are idempotent, a re-run skips what is done) and an unchanged one stays."""
    jobs = resources.files("milvus_zones.jobs")
    fingerprint = repr(sorted((str(e.get("name")), repr(e.get("value"))) for e in env))
    if pod is not None:
        fingerprint += json.dumps(pod, sort_keys=True)
    text = jobs.joinpath(script).read_text() + jobs.joinpath(HELPER).read_text()
    digest = hashlib.sha256((text + fingerprint + requirement).encode()).hexdigest()[:8]
    return f"milvus-zones-{script.removesuffix('.py').replace('_', '-')}-{digest}"


def script_config_map(script: str, namespace: Any, env: Sequence[Mapping], requirement: str) -> dict[str, Any]:
    """The script and its helper, under the name of the script's content."""
    jobs = resources.files("milvus_zones.jobs")
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": job_name(script, env, requirement), "namespace": namespace},
            "data": {script: jobs.joinpath(script).read_text(), HELPER: jobs.joinpath(HELPER).read_text()}}


def _pod_spec(script: str, env: Sequence[Mapping], requirement: str, node_selector: Mapping[str, str], image: str,
              config_map_name: Any) -> dict[str, Any]:
    """Non-root (the python image runs as root by default), read-only root filesystem, no API token:
    the scripts talk to Milvus over gRPC only. pip installs into the `work` emptyDir, HOME and TMPDIR too."""
    return {
        "restartPolicy": "OnFailure",
        "nodeSelector": dict(node_selector),
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS, "fsGroup": RUN_AS,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "run",
            "image": image,
            "command": ["sh", "-c", f"pip install --no-cache-dir --disable-pip-version-check --quiet "
                                    f"--target {WORK_DIR}/site '{requirement}' && "
                                    f"PYTHONPATH={WORK_DIR}/site exec python /job/{script}"],
            "env": [{"name": "HOME", "value": WORK_DIR}, {"name": "TMPDIR", "value": f"{WORK_DIR}/tmp"},
                    *(dict(e) for e in env)],
            "resources": {"requests": {"cpu": f"{JOB.cpu_m}m", "memory": f"{JOB.memory_mi}Mi"},
                          "limits": {"cpu": f"{JOB_CPU_LIMIT_M}m", "memory": f"{JOB.memory_mi}Mi"}},
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]}},
            "volumeMounts": [{"name": "job", "mountPath": "/job", "readOnly": True},
                             {"name": "work", "mountPath": WORK_DIR}],
        }],
        "volumes": [{"name": "job", "configMap": {"name": config_map_name}},
                    # pymilvus==2.6.17 and its wheels (grpcio, pandas, numpy) install into 191 MB.
                    {"name": "work", "emptyDir": {"sizeLimit": "2Gi"}}],
    }


def script_job(script: str, namespace: Any, env: Sequence[Mapping], requirement: str, node_selector: Mapping[str, str],
               image: str, deadline_seconds: int, config_map_name: Any) -> dict[str, Any]:
    """A Job that installs the script's one requirement and runs it; retries stay within the deadline,
    so a script that cannot finish fails the Job (and `pulumi up`) with its last message."""

    def spec(config_map: Any) -> dict[str, Any]:
        return {
            "backoffLimit": BACKOFF_LIMIT,
            "activeDeadlineSeconds": deadline_seconds,
            "template": {
                # The label the namespace's egress NetworkPolicy for our Jobs selects (isolation.py).
                "metadata": {"labels": dict(JOB_SELECTOR)},
                "spec": _pod_spec(script, env, requirement, node_selector, image, config_map),
            },
        }

    # Named from the whole spec but the ConfigMap's name: an output Pulumi knows later, which follows
    # from script, env and requirement, already in the digest.
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": job_name(script, env, requirement, spec(None)), "namespace": namespace},
            "spec": spec(config_map_name)}


def resource_group_job(plan: TopologyPlan, service: str) -> dict[str, Any]:
    """Milvus 2.5 creates node-filtered resource groups only through its API: the settings of the Job
    that does it once after install (ScriptJob's arguments, without the namespace and what it waits for)."""
    return {
        "script": "resource_groups.py",
        "env": [
            {"name": "MILVUS_URI", "value": f"http://{service}.{plan.namespace}.svc:19530"},
            {"name": "MILVUS_USER", "value": "root"},
            {"name": "MILVUS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": PASSWORD_SECRET, "key": PASSWORD_KEY}}},
            {"name": "RESOURCE_GROUPS", "value": json.dumps(resource_group_configs(plan), sort_keys=True)},
        ],
        "requirement": RESOURCE_GROUP_PYMILVUS,
        "image": plan.image(JOB_IMAGE).ref(plan.image_registry),
        "deadline_seconds": RESOURCE_GROUP_JOB_DEADLINE_S,
        "node_selector": plan.component("proxy").node_selector,
    }
