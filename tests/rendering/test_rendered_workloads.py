"""The generated values rendered with the real chart archives, post-rendered, and checked as deployed:
requests and limits inside the pools, security contexts, network policies, disruption budgets and
the real Kubernetes schemas. Every stack and every pinned chart version (4.2.25, 4.2.58, 5.0.19)."""

from __future__ import annotations

import dataclasses
import ipaddress
from pathlib import Path
from typing import Any

import pytest
from support.netpol import External, Pod, allowed, pod_of, selects
from support.render import _ctx, _stack_plans, needs_charts, render, rendered_deployment

from milvus_zones.planning.catalog import INSTANCE_TYPES
from milvus_zones.planning.plan import Role
from milvus_zones.planning.sizing import JOB, JOB_CPU_LIMIT_M, allocatable
from milvus_zones.planning.spec import MessageService, Mode
from milvus_zones.rendering import backup_manifests as bm
from milvus_zones.rendering.hardening import MILVUS_WRITABLE
from milvus_zones.rendering.helm_values import ETCD_CHART_ENV, ETCD_METRICS_PORT, releases
from milvus_zones.rendering.isolation import (
    CLIENT_PORT,
    FAILOVER_PORT,
    FAILOVER_SELECTOR,
    JOB_SELECTOR,
    METRICS_PORT,
    network_policies,
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


PULSAR_CASES = [("stack", "existing-cluster"), *(("variant", v) for v in VARIANTS if v[2] is MessageService.PULSAR)]


def _quantities(resources: dict) -> dict:
    return {side: (_cpu_m(q["cpu"]), _mem_mi(q["memory"])) for side, q in resources.items()}


@pytest.mark.parametrize("case", PULSAR_CASES, ids=[f"{k}-{v}" for k, v in PULSAR_CASES])
def test_pulsar_pods_are_sized_non_root_and_probed(case):
    """Pulsar's pods as rendered: limits on every container of the v3 subchart (init containers and
    the init Jobs included), the 3.x image as UID 10000 (2.9.5 keeps its root user), the init Jobs on
    the quorum pools with the Jobs' size, and probes on autorecovery that reach its HTTP server."""
    seen = set()
    for p, _, objs, _ in rendered_deployment(*case):
        configs = {o["metadata"]["name"]: o.get("data") or {} for o in objs if o["kind"] == "ConfigMap"}
        for obj, template in _pod_templates(objs):
            spec = template["spec"]
            containers = [*(spec.get("initContainers") or []), *spec["containers"]]
            pulsar = [c for c in containers if "apachepulsar/pulsar:" in c["image"]]
            if not pulsar:
                continue
            v3 = all(c["image"].split(":")[-1].startswith("3.") for c in pulsar)
            main = spec["containers"][0]
            for c in pulsar:
                where = f"{_name(obj)}/{c['name']}"
                sc = c.get("securityContext") or {}
                if v3:
                    assert sc.get("runAsNonRoot") is True and sc.get("runAsUser") == 10000 \
                        and sc.get("runAsGroup") == 0, where
                    limits = (c.get("resources") or {}).get("limits") or {}
                    assert {"cpu", "memory"} <= limits.keys(), f"{where} has no limits: {c.get('resources')}"
                else:
                    assert "runAsUser" not in sc and "runAsNonRoot" not in sc, where  # 2.9.5 runs as root
                if c in (spec.get("initContainers") or []) and (main.get("resources") or {}).get("limits"):
                    # The pod's own size: adds nothing to what the pod requests.
                    assert _quantities(c["resources"]) == _quantities(main["resources"]), where
            if not v3:
                continue
            component = obj["metadata"]["labels"].get("component")
            seen.add(component)
            if obj["kind"] == "Job":
                r = _quantities(main["resources"])
                assert r["requests"] == (JOB.cpu_m, JOB.memory_mi), _name(obj)
                assert r["limits"] == (JOB_CPU_LIMIT_M, JOB.memory_mi), _name(obj)
                selector = spec.get("nodeSelector") or {}
                pools = [pool for pool in p.node_pools if selector and selector.items() <= pool.labels.items()]
                assert pools and all(pool.role is Role.QUORUM for pool in pools), (_name(obj), selector)
                taint = p.message_service.toleration
                assert any(t.get("key") == taint.key and t.get("value") == taint.value
                           for t in spec.get("tolerations") or []), _name(obj)
            if component == "recovery":
                config = configs[main["envFrom"][0]["configMapRef"]["name"]]
                assert config.get("httpServerEnabled") == "true", config
                for probe in ("livenessProbe", "readinessProbe"):
                    get = main[probe]["httpGet"]
                    assert get["path"] == "/heartbeat" and str(get["port"]) == config["httpServerPort"], probe
    if case[0] == "stack" or case[1][1] != "2.4":
        assert {"bookie-init", "pulsar-init", "recovery", "bookie", "broker", "proxy", "zookeeper"} <= seen, seen


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


# ---- who reaches what: the rendered NetworkPolicies evaluated the way Kubernetes decides
# (support/netpol.py) between the pods the real chart renders and our own workloads' pods.

def _host(cidr: str, index: int) -> str:
    return str(ipaddress.ip_network(cidr)[index])


def _pods(p, objs):
    """(milvus pods, etcd pods) of the rendered release(s), with pod IPs from the VPC (Terway)."""
    milvus, etcd = [], []
    for i, (obj, template) in enumerate(_pod_templates(objs)):
        pod = pod_of(template, p.namespace, _host(p.vpc_cidr, 1000 + i))
        name = pod.labels.get("app.kubernetes.io/name")
        if name == "milvus":
            milvus.append((obj, pod))
        elif name == "etcd":
            etcd.append((obj, pod))
    return milvus, etcd


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_etcd_members_run_the_metrics_listener_and_keep_the_chart_timing(case):
    for _, _, objs, _ in rendered_deployment(*case):
        sets = [o for o in objs if o["kind"] == "StatefulSet"
                and o["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/name") == "etcd"]
        assert sets, "no etcd StatefulSet rendered"
        for s in sets:
            (container,) = [c for c in s["spec"]["template"]["spec"]["containers"] if c["name"] == "etcd"]
            env = {e["name"]: e.get("value") for e in container["env"]}
            assert env["ETCD_LISTEN_METRICS_URLS"] == f"http://0.0.0.0:{ETCD_METRICS_PORT}"
            assert {k: env.get(k) for k, _ in ETCD_CHART_ENV} == dict(ETCD_CHART_ENV)
            # The chart's client listener is untouched, and no config file would make etcd ignore the env.
            assert env["ETCD_LISTEN_CLIENT_URLS"] == "http://0.0.0.0:2379"
            assert not any(m["mountPath"].startswith("/opt/bitnami/etcd/conf") for m in container.get("volumeMounts") or [])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_monitoring_reaches_exactly_the_metrics_ports(case):
    for p, _, objs, ours in rendered_deployment(*case):
        policies = [m for m in ours if m["kind"] == "NetworkPolicy"]
        milvus, etcd = _pods(p, objs)
        scraper = Pod(p.access.monitoring_namespace, {"app.kubernetes.io/name": "prometheus"}, _host(p.vpc_cidr, 900))
        stranger = Pod("apps", {"app": "web"}, _host(p.vpc_cidr, 901))
        assert etcd and milvus
        for obj, member in etcd:
            assert allowed(policies, scraper, member, ETCD_METRICS_PORT), obj["metadata"]["name"]
            for port in (2379, 2380):
                assert not allowed(policies, scraper, member, port), (obj["metadata"]["name"], port)
            assert not allowed(policies, stranger, member, ETCD_METRICS_PORT)
            assert not allowed(policies, stranger, member, 2379)
            # Milvus keeps its etcd, the members their peers.
            assert all(allowed(policies, m, member, 2379) for _, m in milvus)
            assert all(allowed(policies, other, member, 2380) for _, other in etcd)
        for obj, pod in milvus:
            assert allowed(policies, scraper, pod, METRICS_PORT), obj["metadata"]["name"]
            assert not allowed(policies, stranger, pod, METRICS_PORT), obj["metadata"]["name"]
        controllers = [m for m in policies if selects(m["spec"]["podSelector"], FAILOVER_SELECTOR)
                       and m["spec"]["podSelector"]]
        controller = Pod(p.namespace, dict(FAILOVER_SELECTOR), _host(p.vpc_cidr, 902))
        if p.failover is not None:
            assert controllers
            assert allowed(policies, scraper, controller, FAILOVER_PORT)
            assert not allowed(policies, scraper, controller, METRICS_PORT)
            assert not allowed(policies, stranger, controller, FAILOVER_PORT)
            assert all(allowed(policies, controller, member, 2379) for _, member in etcd)
        else:
            assert not controllers
        # An address outside the cluster never reaches etcd.
        assert not any(allowed(policies, External("203.0.113.7"), m, ETCD_METRICS_PORT) for _, m in etcd)


OSS = External("100.118.28.10")  # an Alibaba service address outside the VPC (the OSS internal endpoint's kind)
DNS_POD = Pod("kube-system", {"k8s-app": "kube-dns"}, "10.0.250.2")
NODE_LOCAL_DNS = External("169.254.20.10")


def _ours(p, specs, peer_cidrs=()):
    return network_policies(p, specs, peer_cidrs)


def _workload_pods(p):
    """The pods of our own workloads, from the manifests the components create."""
    out = {"controller": Pod(p.namespace, dict(FAILOVER_SELECTOR), _host(p.vpc_cidr, 902)),
           "job": Pod(p.namespace, dict(JOB_SELECTOR), _host(p.vpc_cidr, 903))}
    if p.backup is not None:
        cron = bm.cronjob_spec(p, "pw")["jobTemplate"]["spec"]["template"]
        restore = bm.restore_job(p, "pw", "milvus_202612010230")["spec"]["template"]
        out["backup"] = pod_of(cron, p.namespace, _host(p.vpc_cidr, 904))
        out["restore"] = pod_of(restore, p.namespace, _host(p.vpc_cidr, 905))
    return out


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_egress_allows_what_each_workload_needs_and_nothing_else(case):
    for p, _, objs, ours in rendered_deployment(*case):
        policies = [m for m in ours if m["kind"] == "NetworkPolicy"]
        milvus, etcd = _pods(p, objs)
        ours_pods = _workload_pods(p)
        other_ns = Pod("apps", {"app": "web"}, _host(p.vpc_cidr, 906))
        node = External(_host(p.vpc_cidr, 5))
        proxy = next(pod for obj, pod in milvus if obj["metadata"]["name"].endswith("-proxy"))
        for _, m in milvus:
            assert allowed(policies, m, etcd[0][1], 2379)
            assert allowed(policies, m, proxy, CLIENT_PORT)
            assert allowed(policies, m, OSS, 443)  # OSS internal endpoint, STS (RRSA)
            assert allowed(policies, m, DNS_POD, 53, "UDP") and allowed(policies, m, NODE_LOCAL_DNS, 53, "TCP")
            assert not allowed(policies, m, OSS, 80)
            assert not allowed(policies, m, other_ns, 443)  # HTTPS excludes the VPC: no pod, no node
            assert not allowed(policies, m, node, 22)
        for _, member in etcd:
            assert allowed(policies, member, etcd[-1][1], 2380)
            assert allowed(policies, member, DNS_POD, 53, "UDP")
            assert not allowed(policies, member, OSS, 443)
            assert not allowed(policies, member, proxy, CLIENT_PORT)
        api_vip = External(str(ipaddress.ip_network(p.service_cidr)[1]))
        controller = ours_pods["controller"]
        if p.failover is not None:
            assert allowed(policies, controller, etcd[0][1], 2379)
            assert allowed(policies, controller, api_vip, 443) and allowed(policies, controller, node, 6443)
        assert not allowed(policies, controller, OSS, 443)
        assert not allowed(policies, controller, proxy, CLIENT_PORT)
        for name in ("backup", "restore"):
            if name in ours_pods:
                pod = ours_pods[name]
                assert allowed(policies, pod, proxy, CLIENT_PORT) and allowed(policies, pod, proxy, METRICS_PORT)
                assert allowed(policies, pod, OSS, 443)
                assert not allowed(policies, pod, etcd[0][1], 2379), name
        job = ours_pods["job"]
        assert allowed(policies, job, proxy, CLIENT_PORT) and allowed(policies, job, OSS, 443)  # PyPI, then Milvus
        assert not allowed(policies, job, etcd[0][1], 2379)


def test_each_egress_rule_is_a_setting():
    (p,) = _stack_plans("multi-zone-ha")
    specs = releases(p, _ctx(p))
    objs = [o for s in specs for o in render(s.version, s.values, s.name, p.namespace)]
    milvus, etcd = _pods(p, objs)
    m = milvus[0][1]
    controller = _workload_pods(p)["controller"]
    node = External(_host(p.vpc_cidr, 5))

    def with_(**flags):
        return [x for x in _ours(dataclasses.replace(p, access=dataclasses.replace(p.access, **flags)), specs)
                if x["kind"] == "NetworkPolicy"]

    default = with_()
    assert allowed(default, m, OSS, 443) and allowed(default, m, DNS_POD, 53, "UDP")
    assert not allowed(with_(egress_cloud_apis=False), m, OSS, 443)
    assert allowed(with_(egress_cloud_apis=False), m, etcd[0][1], 2379)  # the internal rules stay
    assert not allowed(with_(egress_dns=False), m, DNS_POD, 53, "UDP")
    assert allowed(default, controller, node, 6443) and not allowed(with_(egress_api_server=False), controller, node, 6443)
    unrestricted = with_(egress_restricted=False)
    assert not any("Egress" in x["spec"]["policyTypes"] for x in unrestricted)
    assert allowed(unrestricted, etcd[0][1], OSS, 443)  # egress open again, ingress unchanged
    assert not allowed(unrestricted, Pod("apps", {"app": "web"}, _host(p.vpc_cidr, 906)), etcd[0][1], 2379)


INTERNET = External("8.8.8.8")
ALIBABA_SERVICES = "100.64.0.0/10"  # Alibaba's service range, where OSS docs put the internal VIP CIDRs


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cloud_api_cidrs_narrow_milvus_and_the_backup_https_but_not_the_script_jobs(case):
    for p, specs, objs, ours in rendered_deployment(*case):
        milvus, _ = _pods(p, objs)
        wide = [m for m in ours if m["kind"] == "NetworkPolicy"]
        narrowed_plan = dataclasses.replace(p, access=dataclasses.replace(
            p.access, egress_cloud_api_cidrs=(ALIBABA_SERVICES,)))
        narrow = [x for x in _ours(narrowed_plan, specs) if x["kind"] == "NetworkPolicy"]
        pods = _workload_pods(p)
        backups = [pods[n] for n in ("backup", "restore") if n in pods]
        for _, m in milvus:
            # The default stays wide: Milvus 2.6 calls STS at sts.aliyuncs.com (docs/hardening.md#egress).
            assert allowed(wide, m, INTERNET, 443)
            assert allowed(narrow, m, OSS, 443) and not allowed(narrow, m, INTERNET, 443)
            assert allowed(narrow, m, milvus[-1][1], CLIENT_PORT)  # the internal rules stay
        for pod in backups:
            assert allowed(wide, pod, INTERNET, 443)
            assert allowed(narrow, pod, OSS, 443) and not allowed(narrow, pod, INTERNET, 443)
        job = pods["job"]  # pip install pymilvus from PyPI
        assert allowed(narrow, job, INTERNET, 443) and allowed(narrow, job, OSS, 443)


def test_a_cloud_api_block_containing_the_cluster_still_excludes_it():
    plan, specs, objs, _ = rendered_deployment("stack", "multi-zone-ha")[0]
    milvus, _ = _pods(plan, objs)
    wide = dataclasses.replace(plan, access=dataclasses.replace(plan.access, egress_cloud_api_cidrs=("0.0.0.0/1",)))
    policies = [x for x in _ours(wide, specs) if x["kind"] == "NetworkPolicy"]
    other_ns = Pod("apps", {"app": "web"}, _host(plan.vpc_cidr, 906))
    service_ip = External(str(ipaddress.ip_network(plan.service_cidr)[10]))
    m = milvus[0][1]
    import kubernetes_validate

    for x in policies:
        kubernetes_validate.validate(x, KUBERNETES, strict=True)
        # The API server refuses an `except` outside its `cidr`.
        for rule in x["spec"].get("egress", []):
            for peer in rule.get("to", []):
                block = peer.get("ipBlock")
                if block:
                    outer = ipaddress.ip_network(block["cidr"])
                    assert all(ipaddress.ip_network(e).subnet_of(outer) for e in block.get("except", [])), block
    assert allowed(policies, m, External("8.8.8.8"), 443)
    assert not allowed(policies, m, other_ns, 443) and not allowed(policies, m, service_ip, 443)
    assert not allowed(policies, m, External("203.0.113.7"), 443)  # outside 0.0.0.0/1: the list is the whole rule


def test_cross_region_cdc_reaches_the_other_regions_proxies():
    plan, specs, objs, _ = rendered_deployment("stack", "cross-region-ha")[0]
    peer = "10.1.0.0/16"
    policies = [x for x in _ours(plan, specs, (peer,)) if x["kind"] == "NetworkPolicy"]
    milvus, _ = _pods(plan, objs)
    remote_proxy = External("10.1.3.4")
    assert allowed(policies, milvus[0][1], remote_proxy, CLIENT_PORT)
    assert not allowed(policies, milvus[0][1], remote_proxy, 2379)

