"""Workloads as production needs them: sized, hardened, isolated by network policy.

The same bar the library's own releases meet (docs/hardening.md), for hand-written programs.
"""

from __future__ import annotations

import json

from ._policy import MANDATORY, releases_or_skip, stack_policy
from .model.names import ANN_HARDENING as HARDENING_ANNOTATION
from .model.values import dig, is_list, is_map, truthy

NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
# The milvus-zones post-renderer's hardening instruction (milvus_zones/hardening.py): a release that
# runs the post-renderer with it gets every rule below applied to every rendered pod.
ALWAYS = ("proxy", "mixCoordinator", "queryNode", "dataNode")  # what a cluster-mode release always runs


def _components(rel) -> list[str]:
    version, _ = rel.milvus_minor()
    names = list(ALWAYS)
    if (version or (2, 6)) >= (2, 6) or truthy(rel.get("streaming", "enabled")):
        names.append("streamingNode")
    if truthy(rel.get("indexNode", "enabled"), default=(version or (2, 6)) < (2, 6)):
        names.append("indexNode")
    if truthy(rel.get("cdc", "enabled")):
        names.append("cdc")
    return names


def _sizing_problem(resources) -> str | None:
    requests, limits = dig(resources, "requests", default={}), dig(resources, "limits", default={})
    missing = [f"{kind}.{r}" for kind, m in (("requests", requests), ("limits", limits)) for r in ("cpu", "memory")
               if not is_map(m) or m.get(r) in (None, "")]
    if missing:
        return "no " + ", ".join(missing)
    if str(requests["memory"]) != str(limits["memory"]):
        return f"memory limit {limits['memory']} differs from its request {requests['memory']}"
    return None


@stack_policy(
    name="workloads-sized",
    description="Every Milvus component and etcd has CPU and memory requests and limits, memory limit = "
                "request: no best-effort pods, no unbounded query-node memory.",
    level=MANDATORY,
    remediation="Set <component>.resources (proxy, mixCoordinator, queryNode, dataNode, streamingNode, "
                "indexNode, cdc) and etcd.resources with requests and limits, memory limit equal to its "
                "request, sized to the node pools (milvus_zones.sizing does this from the plan).",
    tags=["reliability", "resources"],
)
def workloads_sized(args, report, topology):
    releases_or_skip(args, topology)
    for rel in topology.releases:
        if not rel.cluster_mode:
            continue
        for name in _components(rel):
            if int(float(rel.get(name, "replicas", default=1) or 0)) == 0:
                continue  # a release that runs none of this component (Option A's standby)
            problem = _sizing_problem(rel.get(name, "resources", default={}))
            if problem:
                report(f"Milvus release {rel.res.name}: {name} has {problem}; set {name}.resources.", rel.res.urn)
        if rel.etcd_enabled:
            problem = _sizing_problem(rel.get("etcd", "resources", default={}))
            if problem:
                report(f"Milvus release {rel.res.name}: etcd has {problem}; set etcd.resources.", rel.res.urn)


def _post_rendered_hardening(rel) -> bool:
    if not rel.res.props.get("postrender"):
        return False
    raw = dig(rel.get("annotations", default={}), HARDENING_ANNOTATION)
    try:
        rules = json.loads(raw) if isinstance(raw, str) else None
    except json.JSONDecodeError:
        return False
    if not is_map(rules):
        return False
    container = dig(rules, "container", default={})
    return (dig(rules, "automountServiceAccountToken") is False
            and dig(container, "allowPrivilegeEscalation") is False
            and "ALL" in (dig(container, "capabilities", "drop", default=[]) or []))


def _context_problems(pod, container) -> list[str]:
    problems = []
    if not truthy(dig(pod, "runAsNonRoot")) and not truthy(dig(container, "runAsNonRoot")):
        problems.append("runAsNonRoot is not true")
    if dig(container, "allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    drop = dig(container, "capabilities", "drop", default=[]) or []
    if not is_list(drop) or "ALL" not in drop:
        problems.append("capabilities do not drop ALL")
    seccomp = dig(container, "seccompProfile", "type") or dig(pod, "seccompProfile", "type")
    if seccomp not in ("RuntimeDefault", "Localhost"):
        problems.append("no RuntimeDefault seccomp profile")
    return problems


@stack_policy(
    name="workloads-hardened",
    description="Milvus and etcd pods run as non-root, without privilege escalation, with every capability "
                "dropped and the RuntimeDefault seccomp profile.",
    level=MANDATORY,
    remediation="Set securityContext (runAsNonRoot, runAsUser, seccompProfile) and containerSecurityContext "
                "(allowPrivilegeEscalation: false, capabilities.drop: [ALL]) on the release and "
                "etcd.containerSecurityContext alike, or run the milvus-zones post-renderer with its "
                "hardening annotation (charts without these keys, such as 4.2.25, need it).",
    tags=["security", "kubernetes"],
)
def workloads_hardened(args, report, topology):
    releases_or_skip(args, topology)
    for rel in topology.releases:
        if _post_rendered_hardening(rel):
            continue
        pod, container = rel.get("securityContext", default={}), rel.get("containerSecurityContext", default={})
        problems = _context_problems(pod, container)
        for name in _components(rel):
            own_pod, own = rel.get(name, "securityContext", default={}), rel.get(name, "containerSecurityContext",
                                                                                     default={})
            if own_pod or own:  # a component's own context replaces the global one in the chart
                problems += [f"{name}: {p}" for p in _context_problems(own_pod or pod, own or container)]
        if rel.etcd_enabled:
            etcd_pod = rel.get("etcd", "podSecurityContext", default={})
            etcd_container = rel.get("etcd", "containerSecurityContext", default={})
            # bitnami etcd runs as UID 1001 with runAsNonRoot by default: only the rest must be set.
            problems += [f"etcd: {p}" for p in _context_problems({"runAsNonRoot": True, **dict(etcd_pod)},
                                                                   etcd_container)]
        if problems:
            report(f"Milvus release {rel.res.name} runs pods unhardened: {'; '.join(dict.fromkeys(problems))}.",
                   rel.res.urn)


def _default_deny(policy) -> bool:
    spec = dig(policy.props, "spec", default={})
    selector = dig(spec, "podSelector", default={})
    types = dig(spec, "policyTypes", default=[]) or []
    return (not dig(selector, "matchLabels") and not dig(selector, "matchExpressions")
            and "Ingress" in types and not dig(spec, "ingress"))


def _selects(policy, labels: dict) -> bool:
    match = dig(policy.props, "spec", "podSelector", "matchLabels", default={}) or {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def _restricted(policy) -> bool:
    """Every ingress rule names its sources (a rule without `from` admits every pod and address)."""
    rules = dig(policy.props, "spec", "ingress", default=[]) or []
    return all(is_map(r) and dig(r, "from") for r in rules)


@stack_policy(
    name="network-isolated",
    description="Each Milvus namespace denies ingress by default and etcd admits only the sources its "
                "NetworkPolicy names (etcd has no authentication).",
    level=MANDATORY,
    remediation="Create a NetworkPolicy with an empty podSelector and policyTypes [Ingress] in the release's "
                "namespace, and one selecting the etcd pods (app.kubernetes.io/name: etcd) that admits Milvus "
                "pods only; enable Terway's NetworkPolicy support (terway-eniip config NetworkPolicy: true).",
    tags=["security", "network"],
)
def network_isolated(args, report, topology):
    releases_or_skip(args, topology)
    policies = topology.of_type(NETWORK_POLICY)
    for rel in topology.releases:
        namespace = rel.res.props.get("namespace")
        own = [p for p in policies if dig(p.props, "metadata", "namespace") in (namespace, None)]
        if not any(_default_deny(p) for p in own):
            report(f"Milvus release {rel.res.name}: namespace {namespace} has no default-deny NetworkPolicy, so "
                   "every pod of the cluster reaches every Milvus port.", rel.res.urn)
        if rel.etcd_enabled:
            etcd = {"app.kubernetes.io/name": "etcd", "app.kubernetes.io/instance": rel.name}
            guarding = [p for p in own if _selects(p, etcd)]
            if not guarding or not all(_restricted(p) for p in guarding):
                report(f"Milvus release {rel.res.name}: no NetworkPolicy limits who reaches its etcd, which "
                       "has no authentication.", rel.res.urn)
