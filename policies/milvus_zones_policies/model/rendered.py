"""Milvus deployed as rendered objects (`helm.v3.Chart`, `helm.v4.Chart`), read back into chart values.

A `kubernetes:helm.sh/v3:Chart` is a component whose rendered objects are its children; a
`kubernetes:helm.sh/v4:Chart` is a remote component whose children are the rendered objects too. Neither
leaves its values where a stack policy can read them (a component's outputs are what it registers:
`resources`), so the pack reads what Milvus will run: the objects the Milvus chart renders, grouped by
`app.kubernetes.io/instance` and namespace, and gives them the shape of a Helm release's values, so every
policy holds them to the rules a `helm.v3.Release` is held to. What is read, and where the chart writes it
(milvus-helm 5.0.19, the same in 4.2.58):

- component Deployments labelled `app.kubernetes.io/name: milvus`, `component: <proxy|mixcoord|querynode|
  datanode|streamingnode|indexnode|...>` (templates/*-deployment.yaml): replicas, nodeSelector,
  tolerations, affinity, topologySpreadConstraints, the pod and container securityContext, resources;
- the pod labels the chart did not add itself (values `labels`: the milvus-zones/mode declaration);
- `image.all.tag` from the milvus container's image; the chart version from `helm.sh/chart`;
- the `<fullname>` ConfigMap: `default.yaml` (templates/config.tpl: `etcd.endpoints`, `minio.*`, `mq.type`,
  `rootCoord.enableActiveStandby`) and `user.yaml` (values `extraConfigFiles`);
- the etcd StatefulSet of the release (bitnami labels `app.kubernetes.io/name: etcd`, same instance): its
  members, placement, volumes, resources and contexts; without one, `externalEtcd` with the endpoints
  default.yaml lists;
- the release's Kafka StatefulSet (bitnami, as the etcd one) as the `kafka` values, and a MinIO workload;
- Pulsar rendered in the chart: the apache subchart (pulsar 3.3.0 as `pulsarv3` in 5.0.19 and 4.2.58, 2.7.8 as
  `pulsar` in 4.2.25) labels its StatefulSets `app: <alias>`, `release: <release>`, `cluster: <release>-<alias>`,
  `component: zookeeper|bookie|broker|proxy|recovery`; they enable the alias, and the model reads the Pulsar from
  those StatefulSets (`Topology.pulsar_of`). Without them, `externalPulsar` with default.yaml's pulsar.address.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pulumi_policy import PolicyResource

from .deployment import pulsar_labels
from .values import dig, is_map, labels_of

CHART_TYPES = frozenset({"kubernetes:helm.sh/v3:Chart", "kubernetes:helm.sh/v4:Chart"})
WORKLOAD_TYPES = frozenset({"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"})
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
# The chart's `component` label -> its values key.
COMPONENT_KEYS = {"proxy": "proxy", "mixcoord": "mixCoordinator", "querynode": "queryNode", "datanode": "dataNode",
                  "streamingnode": "streamingNode", "indexnode": "indexNode", "cdc": "cdc",
                  "rootcoord": "rootCoordinator", "querycoord": "queryCoordinator", "datacoord": "dataCoordinator",
                  "indexcoord": "indexCoordinator", "standalone": "standalone"}
# Labels the chart puts on every pod itself (templates/_helpers.tpl milvus.matchLabels, component).
CHART_LABELS = frozenset({"app.kubernetes.io/name", "app.kubernetes.io/instance", "component", "helm.sh/chart",
                          "app.kubernetes.io/version", "app.kubernetes.io/managed-by", "milvus.io/resource-group"})


def _meta(res: PolicyResource, *path: str, default: Any = None) -> Any:
    return dig(res.props, "metadata", *path, default=default)


def _chart_ancestor(res: PolicyResource) -> PolicyResource | None:
    parent = getattr(res, "parent", None)
    while parent is not None:
        if parent.resource_type in CHART_TYPES:
            return parent
        parent = getattr(parent, "parent", None)
    return None


def _pod(res: PolicyResource) -> dict:
    return dig(res.props, "spec", "template", "spec", default={}) or {}


def _block(res: PolicyResource, plain) -> dict:
    """A workload's pod template as chart values: replicas, scheduling, contexts, resources."""
    pod = plain(_pod(res))
    containers = pod.get("containers") or [{}]
    main = containers[0] if isinstance(containers[0], dict) else {}
    block: dict[str, Any] = {}
    replicas = dig(res.props, "spec", "replicas")
    block["replicas"] = 1 if replicas is None else replicas
    for key in ("nodeSelector", "tolerations", "affinity", "topologySpreadConstraints"):
        if pod.get(key):
            block[key] = pod[key]
    if pod.get("securityContext"):
        block["securityContext"] = pod["securityContext"]
    if main.get("securityContext"):
        block["containerSecurityContext"] = main["securityContext"]
    if main.get("resources"):
        block["resources"] = main["resources"]
    if main.get("env"):
        block["extraEnv"] = main["env"]
    return block


def _image_tag(res: PolicyResource) -> str | None:
    for c in dig(_pod(res), "containers", default=[]) or []:
        image = str(dig(c, "image", default=""))
        name = image.rsplit("/", 1)[-1]
        if name.split(":", 1)[0].split("@", 1)[0] == "milvus" and ":" in name:
            return name.split(":", 1)[1].split("@", 1)[0]
    return None


def rendered_releases(resources: Iterable[PolicyResource], load_yaml, plain) -> list[tuple[PolicyResource, dict]]:
    """(a stand-in for the release, its values) for each Milvus rendered as objects of the stack.

    Objects a `helm.v3.Release` owns are never resources of the stack (the provider renders them
    inside the release), so every object here came from a Chart or was written out by hand."""
    resources = list(resources)
    groups: dict[tuple[str, Any], list[PolicyResource]] = {}
    for r in resources:
        if r.resource_type not in WORKLOAD_TYPES:
            continue
        labels = labels_of(_meta(r, "labels", default={}))
        if labels.get("app.kubernetes.io/name") == "milvus" and labels.get("component") in COMPONENT_KEYS:
            key = (labels.get("app.kubernetes.io/instance", ""), _meta(r, "namespace"))
            groups.setdefault(key, []).append(r)
    out = []
    for (instance, namespace), workloads in groups.items():
        out.append(_release(instance, namespace, workloads, resources, load_yaml, plain))
    return out


def _release(instance: str, namespace: Any, workloads: list[PolicyResource], resources: list[PolicyResource],
             load_yaml, plain) -> tuple[PolicyResource, dict]:
    values: dict[str, Any] = {}
    first = workloads[0]
    chart_label = str(labels_of(_meta(first, "labels", default={})).get("helm.sh/chart", ""))
    version = chart_label.split("-", 1)[1] if chart_label.startswith("milvus-") else None
    extra = {}
    for w in workloads:
        labels = labels_of(_meta(w, "labels", default={}))
        key = COMPONENT_KEYS[labels["component"]]
        block = _block(w, plain)
        values.setdefault(key, {}).update(block)
        pod_labels = labels_of(dig(w.props, "spec", "template", "metadata", "labels", default={}))
        extra.update({k: v for k, v in pod_labels.items() if k not in CHART_LABELS})
        tag = _image_tag(w)
        if tag:
            values["image"] = {"all": {"tag": tag}}
        if labels.get("milvus.io/resource-group"):
            values.setdefault("replicaResourceGroups", []).append(labels["milvus.io/resource-group"])
    if extra:
        values["labels"] = extra
    # Every rendered pod carries its contexts (the chart's global ones where a component sets none): the
    # first component's stand for the global values, each component keeps its own.
    for key in ("securityContext", "containerSecurityContext"):
        found = next((values[c][key] for c in values if is_map(values[c]) and key in values[c]), None)
        if found is not None:
            values[key] = found
    same = [r for r in resources if _meta(r, "namespace") == namespace
            and labels_of(_meta(r, "labels", default={})).get("app.kubernetes.io/instance") == instance]
    config = next((r for r in resources if r.resource_type == CONFIG_MAP and _meta(r, "namespace") == namespace
                   and is_map(dig(r.props, "data")) and "default.yaml" in dig(r.props, "data")
                   and _meta(r, "name") in (instance, f"{instance}-milvus")), None)
    default: dict = {}
    if config is not None:
        data = dig(config.props, "data")
        try:
            parsed = load_yaml(str(data["default.yaml"]))
        except Exception:  # a config the chart did not render: read nothing from it
            parsed = None
        default = parsed if isinstance(parsed, dict) else {}
        if "user.yaml" in data:
            values["extraConfigFiles"] = {"user.yaml": str(data["user.yaml"])}
    if dig(default, "rootCoord", "enableActiveStandby") is True and "mixCoordinator" in values:
        values["mixCoordinator"]["activeStandby"] = {"enabled": True}
    # etcd: the release's own StatefulSet, or the endpoints Milvus is configured with.
    etcd = next((r for r in same if r.resource_type == "kubernetes:apps/v1:StatefulSet"
                 and labels_of(_meta(r, "labels", default={})).get("app.kubernetes.io/name") == "etcd"), None)
    if etcd is not None:
        block = _block(etcd, plain)
        block["replicaCount"] = block.pop("replicas")
        if "containerSecurityContext" in block:
            block["containerSecurityContext"] = {"enabled": True, **block["containerSecurityContext"]}
        if "securityContext" in block:
            block["podSecurityContext"] = {"enabled": True, **block.pop("securityContext")}
        block["extraEnvVars"] = block.pop("extraEnv", [])
        block["persistence"] = {"enabled": bool(dig(etcd.props, "spec", "volumeClaimTemplates"))}
        block["enabled"] = True
        values["etcd"] = block
    else:
        values["etcd"] = {"enabled": False}
        values["externalEtcd"] = {"enabled": True, "endpoints": list(dig(default, "etcd", "endpoints", default=[]))}
    apps = {labels_of(_meta(r, "labels", default={})).get("app") or labels_of(_meta(r, "labels", default={})).get(
        "app.kubernetes.io/name") for r in same if r.resource_type in WORKLOAD_TYPES}
    in_chart_minio = "minio" in apps
    values["minio"] = {"enabled": in_chart_minio}
    minio = dig(default, "minio", default={}) or {}
    if not in_chart_minio:
        values["externalS3"] = {"enabled": True, "bucketName": minio.get("bucketName"),
                                "cloudProvider": minio.get("cloudProvider"), "useIAM": minio.get("useIAM")}
    mq = str(dig(default, "mq", "type", default="")).lower()
    for key in ("pulsar", "pulsarv3", "kafka"):
        values[key] = {"enabled": False}
    kafka = next((r for r in same if r.resource_type == "kubernetes:apps/v1:StatefulSet"
                  and labels_of(_meta(r, "labels", default={})).get("app.kubernetes.io/name") == "kafka"), None)
    if mq == "kafka" and kafka is not None:  # the chart's bitnami Kafka: its brokers as the kafka values
        block = _block(kafka, plain)
        block["replicaCount"] = block.pop("replicas")
        values["kafka"] = {"enabled": True, **block}
    elif mq == "kafka":
        values["externalKafka"] = {"enabled": True, "brokerList": dig(default, "kafka", "brokerList")}
    elif mq == "pulsar":
        # The apache subchart labels its objects `app: <pulsarv3|pulsar>` (its alias), `release: <release>`
        # (templates/_helpers.tpl pulsar.standardLabels), not app.kubernetes.io/instance.
        subchart = {app for r in resources if (found := pulsar_labels(r)) is not None
                    for app, release, ns, _ in [found] if release == instance and ns == namespace}
        alias = next((k for k in ("pulsarv3", "pulsar") if k in subchart), None)
        if alias is not None:
            values[alias] = {"enabled": True}
        else:  # config.tpl: pulsar.address/port are externalPulsar.host/port
            values["externalPulsar"] = {"enabled": True, "host": dig(default, "pulsar", "address", default=""),
                                        "port": dig(default, "pulsar", "port")}
    elif mq == "woodpecker" or (not mq and "streamingNode" in values):  # 2.6 with no mq.type: Woodpecker
        values["streaming"] = {"enabled": True, "woodpecker": {
            "storage": {"type": str(dig(default, "woodpecker", "storage", "type", default="minio"))}}}
    if "cdc" in values:
        values["cdc"]["enabled"] = True
    owner = _chart_ancestor(first)
    anchor = owner or first
    props = {"name": instance, "chart": "milvus", "version": version, "namespace": namespace}
    stand_in = PolicyResource(anchor.resource_type, props, anchor.urn, anchor.name, anchor.opts, first.provider,
                              getattr(anchor, "parent", None), list(first.dependencies), {})
    return stand_in, values
