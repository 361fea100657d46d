"""Milvus release settings: authorization on, etcd durable and protected from voluntary eviction."""

from __future__ import annotations

import yaml

from ._policy import MANDATORY, releases_or_skip, stack_policy
from .model.deployment import CONFIG_MAP, PDB_TYPES
from .model.values import dig, is_map, truthy

AUTH_ENV = "COMMON_SECURITY_AUTHORIZATIONENABLED"


def _config_map_auth(topology, name: str) -> bool | None:
    """authorizationEnabled in the milvus.yaml of a ConfigMap of this stack named `name` (None: not found)."""
    for cm in topology.of_type(CONFIG_MAP):
        if dig(cm.props, "metadata", "name") == name:
            text = dig(cm.props, "data", "milvus.yaml")
            try:
                doc = yaml.safe_load(text) if isinstance(text, str) else None
            except yaml.YAMLError:
                doc = None
            return truthy(dig(doc, "common", "security", "authorizationEnabled")) if is_map(doc) else False
    return None


def _env_auth(rel) -> bool:
    for env in rel.get("proxy", "extraEnv", default=[]) or []:
        if is_map(env) and env.get("name") == AUTH_ENV and truthy(env.get("value")):
            return True
    return False


@stack_policy(
    name="milvus-authorization-enabled",
    description="Milvus requires authentication and authorization (common.security.authorizationEnabled).",
    level=MANDATORY,
    remediation="Set common.security.authorizationEnabled: true in the release's extraConfigFiles user.yaml "
                "and keep the root password in a Kubernetes Secret.",
    tags=["security", "milvus"],
)
def milvus_authorization_enabled(args, report, topology):
    releases_or_skip(args, topology)
    for rel in topology.releases:
        custom = rel.get("customConfigMap")
        if custom:
            found = _config_map_auth(topology, str(custom))
            if found is None:
                report(f"Milvus release {rel.res.name} reads its whole config from ConfigMap {custom}, which is "
                       "not in this stack, so authorization cannot be checked; manage the ConfigMap in the stack "
                       "or use extraConfigFiles.", rel.res.urn)
            elif not found:
                report(f"Milvus release {rel.res.name}: ConfigMap {custom} leaves authorization off; set "
                       "common.security.authorizationEnabled: true in its milvus.yaml.", rel.res.urn)
            continue
        if truthy(dig(rel.user_yaml(), "common", "security", "authorizationEnabled")) or _env_auth(rel):
            continue
        report(f"Milvus release {rel.res.name} leaves authorization off, so anyone who reaches the proxy "
               "reads and writes every collection; set common.security.authorizationEnabled: true in "
               "extraConfigFiles user.yaml.", rel.res.urn)


def _selects_etcd(pdb, rel) -> bool:
    """A PodDisruptionBudget of the stack that selects the release's etcd pods (bitnami labels)."""
    labels = dig(pdb.props, "spec", "selector", "matchLabels", default={}) or {}
    if not is_map(labels) or labels.get("app.kubernetes.io/name") not in ("etcd", rel.get("etcd", "name")):
        return False
    instance = labels.get("app.kubernetes.io/instance")
    namespace = dig(pdb.props, "metadata", "namespace")
    rel_ns = rel.res.props.get("namespace")
    return (instance in (None, rel.name)) and (namespace is None or rel_ns is None or namespace == rel_ns)


@stack_policy(
    name="etcd-persistent-with-pdb",
    description="etcd keeps its data on persistent volumes and has a PodDisruptionBudget, so node drains "
                "and upgrades never take quorum away or lose metadata.",
    level=MANDATORY,
    remediation="Keep etcd.persistence.enabled true and set etcd.pdb.create true (the chart's default is "
                "false), or manage a policy/v1 PodDisruptionBudget selecting app.kubernetes.io/name=etcd.",
    tags=["data-safety", "metadata", "etcd"],
)
def etcd_persistent_with_pdb(args, report, topology):
    releases = [r for r in topology.releases if r.etcd_enabled]
    own = {q.res.urn: q for r in topology.releases if not r.etcd_enabled
           if (q := topology.etcd_of(r)) is not None}
    if not releases and not own:
        args.not_applicable("no Milvus release runs its own etcd, or one of the stack's")
    for q in own.values():  # etcd run on its own in the stack, named by externalEtcd.endpoints
        if not q.persistent:
            report(f"{q.what}, Milvus' etcd, keeps no persistent volumes: a restart loses the metadata; "
                   + ("give it volumeClaimTemplates." if q.source == "statefulset" else "set persistence.enabled true."),
                   q.res.urn)
        if not q.pdb:
            report(f"{q.what}, Milvus' etcd, has no PodDisruptionBudget: a drain can evict two members at once "
                   "and stop Milvus; add a policy/v1 PodDisruptionBudget selecting its pods"
                   + ("." if q.source == "statefulset" else " (or set pdb.create true)."), q.res.urn)
    pdbs = topology.of_type(*PDB_TYPES)
    for rel in releases:
        if not truthy(rel.get("etcd", "persistence", "enabled"), default=True):
            report(f"Milvus release {rel.res.name} runs etcd without persistent volumes: a restart loses the "
                   "metadata; set etcd.persistence.enabled true.", rel.res.urn)
        if not truthy(rel.get("etcd", "pdb", "create")) and not any(_selects_etcd(p, rel) for p in pdbs):
            report(f"Milvus release {rel.res.name} has no PodDisruptionBudget for etcd: a drain can evict two "
                   "members at once and stop Milvus; set etcd.pdb.create true.", rel.res.urn)


