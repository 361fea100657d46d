"""Who reaches what, decided by the rendered NetworkPolicies the way Kubernetes decides it
(tests/rendering/netpol.py), between the pods the real chart renders: the monitoring namespace
reaches exactly the metrics ports, etcd's client port stays Milvus'. Every stack and chart version."""

from __future__ import annotations

import ipaddress

import pytest
from netpol import External, Pod, allowed, pod_of, selects
from render import needs_charts
from test_rendered_workloads import CASES, IDS, _deployment, _pod_templates

from milvus_zones.rendering.helm_values import ETCD_CHART_ENV, ETCD_METRICS_PORT
from milvus_zones.rendering.isolation import FAILOVER_PORT, FAILOVER_SELECTOR, METRICS_PORT

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
