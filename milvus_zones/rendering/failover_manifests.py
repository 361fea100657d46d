"""The WAL pinning controller's Kubernetes objects (milvus_zones/jobs/failover.py), from the plan.

Pure: plain dicts, no Pulumi. components/milvus.py creates one resource of each; the values a
resource only knows once Pulumi created another (the namespace, the ConfigMap's name) come in as
arguments. Behaviour and sizing: docs/failover-controller.md.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from typing import Any

from milvus_zones_policies.model.names import FAILOVER_LABEL

from milvus_zones.planning.catalog import JOB_IMAGE
from milvus_zones.planning.plan import ZONE_LABEL, FailoverPlan, TopologyPlan
from milvus_zones.planning.sizing import FAILOVER
from milvus_zones.rendering.helm_values import etcd_member_endpoints, node_failure_tolerations

NAME = "milvus-zones-failover"  # its Deployment, ServiceAccount, Role, RoleBinding and Lease
PORT = 8080  # /healthz, /readyz, /metrics, /status
SCRIPT = "failover.py"


def script() -> str:
    """The controller's source, mounted from a ConfigMap (standard library only: no install step)."""
    return resources.files("milvus_zones.jobs").joinpath(SCRIPT).read_text()


def labels(fo: FailoverPlan) -> dict[str, str]:
    return {"app.kubernetes.io/name": NAME, FAILOVER_LABEL: fo.action}


def _meta(fo: FailoverPlan, namespace: Any) -> dict[str, Any]:
    return {"name": NAME, "namespace": namespace, "labels": labels(fo)}


def config_map(namespace: Any) -> dict[str, Any]:
    """The script, under a name carrying its digest: a changed script rolls the Deployment."""
    text = script()
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": f"{NAME}-{digest}", "namespace": namespace}, "data": {SCRIPT: text}}


def service_account(fo: FailoverPlan, namespace: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(fo, namespace)}


def role(fo: FailoverPlan, namespace: Any) -> dict[str, Any]:
    """Its Lease, and nothing else: what it watches and writes is in etcd. `create` cannot be limited
    to a name (RBAC knows no name before the object exists)."""
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": _meta(fo, namespace), "rules": [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": [NAME],
         "verbs": ["get", "update"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
    ]}


def role_binding(plan: TopologyPlan, fo: FailoverPlan, namespace: Any) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": _meta(fo, namespace),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": NAME},
            "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": plan.namespace}]}


def env(plan: TopologyPlan, fo: FailoverPlan, release: str) -> list[dict[str, Any]]:
    """The controller's settings (read by milvus_zones/jobs/failover.py)."""
    return [
        {"name": "NAMESPACE", "value": plan.namespace},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "LEASE_NAME", "value": NAME},
        {"name": "GROUPS", "value": json.dumps(list(fo.groups))},
        {"name": "ETCD_ENDPOINTS",
         "value": json.dumps(etcd_member_endpoints(release, plan.namespace, plan.etcd.replicas))},
        {"name": "ETCD_ROOT_PATH", "value": plan.name},  # helm_values sets etcd.rootPath to it
        {"name": "PROBE_INTERVAL_SECONDS", "value": str(fo.probe_interval_s)},
        {"name": "FAILURE_THRESHOLD", "value": str(fo.failure_threshold)},
        {"name": "LEASE_DURATION_SECONDS", "value": str(fo.lease_duration_s)},
        {"name": "RENEW_DEADLINE_SECONDS", "value": str(fo.renew_deadline_s)},
        {"name": "HTTP_PORT", "value": str(PORT)},
        {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},  # read-only root filesystem
    ]


def deployment(plan: TopologyPlan, fo: FailoverPlan, release: str, namespace: Any, config_map_name: Any) -> dict[str, Any]:
    """Two replicas on the quorum pools, one per zone, one of them acting (a Lease)."""
    pod_labels = labels(fo)
    probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10, "timeoutSeconds": 2,
             "failureThreshold": 3}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(fo, namespace), "spec": {
        "replicas": fo.replicas,
        "selector": {"matchLabels": pod_labels},
        "template": {
            "metadata": {"labels": pod_labels, "annotations": {
                "prometheus.io/scrape": "true", "prometheus.io/port": str(PORT), "prometheus.io/path": "/metrics"}},
            "spec": {
                "serviceAccountName": NAME,
                "enableServiceLinks": False,
                "nodeSelector": dict(fo.node_selector),
                "tolerations": [
                    {"key": fo.toleration.key, "operator": "Equal", "value": fo.toleration.value,
                     "effect": fo.toleration.effect},
                    *node_failure_tolerations(),
                ],
                "topologySpreadConstraints": [{
                    "maxSkew": 1, "topologyKey": ZONE_LABEL, "whenUnsatisfiable": "DoNotSchedule",
                    "labelSelector": {"matchLabels": pod_labels},
                }],
                "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534,
                                    "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [{
                    "name": "failover",
                    "image": plan.image(JOB_IMAGE).ref(plan.image_registry),
                    "command": ["python", f"/job/{SCRIPT}"],
                    "env": env(plan, fo, release),
                    "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
                    "livenessProbe": probe,
                    "readinessProbe": {**probe, "httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 5},
                    # Requests as the node sizing counts them; memory limit = request (not evicted first).
                    "resources": {"requests": {"cpu": f"{FAILOVER.cpu_m}m", "memory": f"{FAILOVER.memory_mi}Mi"},
                                  "limits": {"cpu": "200m", "memory": f"{FAILOVER.memory_mi}Mi"}},
                    "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                        "privileged": False, "capabilities": {"drop": ["ALL"]}},
                    "volumeMounts": [{"name": "job", "mountPath": "/job", "readOnly": True}],
                }],
                "volumes": [{"name": "job", "configMap": {"name": config_map_name}}],
            },
        },
    }}
