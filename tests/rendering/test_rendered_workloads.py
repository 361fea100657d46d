"""The generated values rendered with the real chart archives, post-rendered, and checked as deployed:
requests and limits inside the pools, security contexts, network policies, disruption budgets and
the real Kubernetes schemas. Every stack and every pinned chart version (4.2.25, 4.2.58, 5.0.19)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.render import needs_charts, rendered_deployment

from milvus_zones.planning.catalog import INSTANCE_TYPES
from milvus_zones.planning.sizing import allocatable
from milvus_zones.planning.spec import MessageService, Mode
from milvus_zones.rendering.hardening import MILVUS_WRITABLE
from milvus_zones.rendering.isolation import (
    CLIENT_PORT,
    METRICS_PORT,
)

pytestmark = needs_charts
ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = "1.33.0"  # an ACK-supported minor; kubernetes-validate ships its OpenAPI schema


STACKS = ["single-zone", "multi-zone-basic", "multi-zone-ha", "cross-region-ha"]
VARIANTS = [
    (Mode.SINGLE_ZONE, "2.4", MessageService.PULSAR),  # chart 4.2.25: no security keys, Pulsar v2
    (Mode.MULTI_ZONE_BASIC, "2.4", MessageService.KAFKA),
    (Mode.SINGLE_ZONE, "2.5", MessageService.KAFKA),  # chart 4.2.58
    (Mode.MULTI_ZONE_HA, "2.5", MessageService.PULSAR),  # Option A: two releases, Pulsar v3
    (Mode.MULTI_ZONE_HA, "2.6", MessageService.PULSAR),  # chart 5.0.19, groups, Pulsar v3
]
CASES = [("stack", s) for s in STACKS] + [("variant", v) for v in VARIANTS]
IDS = [s for s in STACKS] + [f"{m}-{v}-{q}" for m, v, q in VARIANTS]


def _pod_templates(objs: list[dict]) -> list[tuple[dict, dict]]:
    out = []
    for o in objs:
        spec = o.get("spec") or {}
        if o.get("kind") == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        if o.get("kind") in ("Deployment", "StatefulSet", "Job", "CronJob", "DaemonSet"):
            out.append((o, spec["template"]))
    return out


def _name(o: dict) -> str:
    return f"{o['kind']}/{o['metadata']['name']}"


def _cpu_m(q: Any) -> float:
    s = str(q)
    return float(s[:-1]) if s.endswith("m") else float(s) * 1000


def _mem_mi(q: Any) -> float:
    s = str(q)
    for suffix, factor in (("Ki", 1 / 1024), ("Mi", 1), ("Gi", 1024), ("Ti", 1024 * 1024)):
        if s.endswith(suffix):
            return float(s[: -len(suffix)]) * factor
    return float(s) / (1024 * 1024)


def _selected(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_container_has_guaranteed_resources_inside_its_pool(case):
    for p, _, objs, _ in rendered_deployment(*case):
        for obj, template in _pod_templates(objs):
            if obj["kind"] == "Job":
                continue  # Pulsar's one-shot init Jobs: docs/hardening.md
            spec = template["spec"]
            total_cpu = total_mem = 0.0
            for c in spec["containers"]:
                r = c.get("resources") or {}
                req, lim = r.get("requests") or {}, r.get("limits") or {}
                assert {"cpu", "memory"} <= req.keys() and {"cpu", "memory"} <= lim.keys(), \
                    f"{_name(obj)}/{c['name']} is not Guaranteed: {r}"
                assert _cpu_m(req["cpu"]) == _cpu_m(lim["cpu"]) and _mem_mi(req["memory"]) == _mem_mi(lim["memory"])
                total_cpu += _cpu_m(req["cpu"])
                total_mem += _mem_mi(req["memory"])
            selector = spec.get("nodeSelector") or {}
            pools = [pool for pool in p.node_pools if all(pool.labels.get(k) == v for k, v in selector.items())]
            assert pools, f"{_name(obj)}: nodeSelector {selector} matches no pool"
            room = min((allocatable(INSTANCE_TYPES[pool.instance_type]) for pool in pools),
                       key=lambda a: (a.memory_mi, a.cpu_m))
            assert total_cpu <= room.cpu_m and total_mem <= room.memory_mi, \
                f"{_name(obj)} asks {total_cpu}m / {total_mem}Mi, more than a node's {room}"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_pod_is_hardened(case):
    for _, _, objs, _ in rendered_deployment(*case):
        for obj, template in _pod_templates(objs):
            spec = template["spec"]
            assert spec.get("automountServiceAccountToken") is False, _name(obj)
            pod_sc = spec.get("securityContext") or {}
            mounts_by_volume = {v["name"]: v for v in spec.get("volumes") or []}
            for c in [*(spec.get("initContainers") or []), *spec["containers"]]:
                sc = c.get("securityContext") or {}
                where = f"{_name(obj)}/{c['name']}"
                assert sc.get("allowPrivilegeEscalation") is False, where
                assert "ALL" in ((sc.get("capabilities") or {}).get("drop") or []), where
                assert (sc.get("seccompProfile") or pod_sc.get("seccompProfile")) == {"type": "RuntimeDefault"}, where
                image = c["image"]
                if "milvusdb/milvus:" in image:
                    assert sc.get("runAsNonRoot") is True and sc.get("runAsUser", 0) > 0, where
                    assert sc.get("readOnlyRootFilesystem") is True, where
                    mounted = {m["mountPath"]: m["name"] for m in c.get("volumeMounts") or []}
                    for path in MILVUS_WRITABLE:
                        assert path in mounted and "emptyDir" in mounts_by_volume[mounted[path]], (where, path)
                elif "etcd" in image or "bitnami" in image:
                    if c in (spec.get("initContainers") or []) and sc.get("runAsUser") == 0:
                        continue  # volumePermissions (off by default) would chown the disk as root
                    assert sc.get("runAsNonRoot") is True and sc.get("runAsUser") == 1001, where


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_network_policies_select_what_they_protect(case):
    for p, _, objs, ours in rendered_deployment(*case):
        policies = {m["metadata"]["name"]: m["spec"] for m in ours if m["kind"] == "NetworkPolicy"}
        assert policies["milvus-zones-default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": []}
        milvus_pods, etcd_pods, mq_pods = [], [], []
        for obj, template in _pod_templates(objs):
            labels = (template.get("metadata") or {}).get("labels") or {}
            if labels.get("app.kubernetes.io/name") == "milvus":
                milvus_pods.append((obj, template))
            elif labels.get("app.kubernetes.io/name") == "etcd":
                etcd_pods.append(labels)
            else:
                mq_pods.append((obj, labels))
        assert etcd_pods and all(_selected(policies["milvus-zones-etcd"]["podSelector"], lab) for lab in etcd_pods)
        milvus_policy = policies["milvus-zones-milvus"]
        for obj, template in milvus_pods:
            assert _selected(milvus_policy["podSelector"], template["metadata"]["labels"]), _name(obj)
        # Milvus pods may reach etcd: the policy's sources select them.
        etcd_from = policies["milvus-zones-etcd"]["ingress"][0]["from"]
        for _, template in milvus_pods:
            assert any(_selected(src["podSelector"], template["metadata"]["labels"]) for src in etcd_from)
        # Every message-service pod (members and init Jobs) is selected by a policy that admits Milvus.
        mq_policies = [s for n, s in policies.items() if n.startswith("milvus-zones-message-service-")]
        assert bool(mq_policies) == (p.message_service.kind is not MessageService.WOODPECKER)
        for obj, labels in mq_pods:
            admitting = [s for s in mq_policies if _selected(s["podSelector"], labels)]
            assert admitting, f"{_name(obj)} ({labels}) is not covered by a message-service policy"
            sources = admitting[0]["ingress"][0]["from"]
            assert any(_selected(src["podSelector"], milvus_pods[0][1]["metadata"]["labels"]) for src in sources)
        # The client and metrics ports are the proxies' real container ports.
        ports = {port["containerPort"] for obj, t in milvus_pods if obj["metadata"]["name"].endswith("-proxy")
                 for c in t["spec"]["containers"] for port in c.get("ports") or []}
        assert {CLIENT_PORT, METRICS_PORT} <= ports
        client_rule = milvus_policy["ingress"][1]
        assert {"ipBlock": {"cidr": p.vpc_cidr}} in client_rule["from"]  # default: the VPC


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_multi_replica_workload_has_a_disruption_budget(case):
    for _, _, objs, ours in rendered_deployment(*case):
        pdbs = [o for o in [*objs, *ours] if o["kind"] == "PodDisruptionBudget"]
        for obj, template in _pod_templates(objs):
            if obj["kind"] not in ("Deployment", "StatefulSet") or int(obj["spec"].get("replicas", 1)) < 2:
                continue
            labels = (template.get("metadata") or {}).get("labels") or {}
            covering = [b for b in pdbs if _selected(b["spec"]["selector"], labels)]
            assert covering, f"{_name(obj)} ({obj['spec']['replicas']} replicas) has no PodDisruptionBudget"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_objects_match_the_kubernetes_schemas(case):
    import kubernetes_validate

    for _, _, objs, ours in rendered_deployment(*case):
        for obj in [*objs, *ours]:
            checked = obj
            if obj["kind"] == "PodDisruptionBudget" and obj["apiVersion"] == "policy/v1beta1":
                # Offline, Helm assumes Kubernetes 1.20 (.Capabilities.KubeVersion), where the
                # subcharts pick policy/v1beta1; against an ACK 1.33 API server they render policy/v1,
                # whose PDB spec has the same fields.
                checked = {**obj, "apiVersion": "policy/v1"}
            kubernetes_validate.validate(checked, KUBERNETES, strict=True)
