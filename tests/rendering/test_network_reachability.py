"""Who reaches what, decided by the rendered NetworkPolicies the way Kubernetes decides it
(tests/rendering/netpol.py), between the pods the real chart renders: the monitoring namespace
reaches exactly the metrics ports, etcd's client port stays Milvus'. Every stack and chart version."""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest
from netpol import External, Pod, allowed, pod_of, selects
from render import needs_charts, render
from test_rendered_workloads import CASES, IDS, _ctx, _deployment, _pod_templates, _stack_plans

from milvus_zones.rendering import backup_manifests as bm
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
    for _, _, objs, _ in _deployment(*case):
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
    for p, _, objs, ours in _deployment(*case):
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
    for p, _, objs, ours in _deployment(*case):
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


def test_cross_region_cdc_reaches_the_other_regions_proxies():
    plan, specs, objs, _ = _deployment("stack", "cross-region-ha")[0]
    peer = "10.1.0.0/16"
    policies = [x for x in _ours(plan, specs, (peer,)) if x["kind"] == "NetworkPolicy"]
    milvus, _ = _pods(plan, objs)
    remote_proxy = External("10.1.3.4")
    assert allowed(policies, milvus[0][1], remote_proxy, CLIENT_PORT)
    assert not allowed(policies, milvus[0][1], remote_proxy, 2379)
