"""Helm post-renderer: applies the placement the Milvus chart cannot express through its values.

Helm runs it as `milvus-zones-postrender` with the rendered manifests on stdin and reads the result
from stdout. pulumi-kubernetes' `helm.v3.Release(postrender=...)` passes a command path and no
arguments, so every instruction travels inside the manifests, written there by
`milvus_zones.rendering.helm_values` through keys the chart renders:

- `milvus-zones/resource-group-node-selectors` (chart-global `annotations`, rendered on every Milvus
  workload): JSON {group: nodeSelector}. Each Deployment/StatefulSet labelled
  `milvus.io/resource-group: <group>` (chart 5.0.17+ `replicaResourceGroups`) gets that selector merged
  into its pod nodeSelector, which pins one full query replica to one zone's node pool.
- `milvus-zones/workload-patches` (same place): JSON list of patches for subchart StatefulSets (or
  Jobs) whose values have no verified key for what they need (Pulsar v2, Kafka's ZooKeeper, Pulsar
  v3's init Jobs and autorecovery): nodeSelector, tolerations, a DoNotSchedule topology spread built
  from the workload's own selector, the StorageClass of its volume claims, and probes for
  containers that have none.
- `milvus-zones/hardening` (same place): JSON {pod, container, automountServiceAccountToken, images}
  (`milvus_zones.rendering.hardening`). Every pod template of the stream gets the pod and container security
  defaults and the token setting wherever the chart left them unset, and each container the rules
  of its image, matched on repository and optionally tag prefix (user, read-only root filesystem,
  emptyDirs on the paths the image writes to; `init_resources`: an init container without limits
  takes the resources of its pod's container).
- On a Service (the chart's `service.annotations`): `milvus-zones/load-balancer-class` sets
  `spec.loadBalancerClass` (ACK creates an NLB only with it, and the chart has no key for it);
  `milvus-zones/service-selector` (JSON) replaces `spec.selector`, so one Service can front the
  proxies of two releases.

Deterministic (document order kept, keys sorted inside what it writes), idempotent (a second pass
changes nothing and echoes its input byte for byte), a no-op on manifests without instructions, and
loud: an instruction that matches nothing, a labelled group without a selector, or copies of an
instruction that disagree end the run with exit code 1 and a message on stderr.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterator
from typing import Any

import yaml

# The annotations it reads are defined once, in the policy pack's model (part of this distribution).
from milvus_zones_policies.model.names import (
    ANN_HARDENING,
    ANN_LB_CLASS,
    ANN_RG_SELECTORS,
    ANN_SERVICE_SELECTOR,
    ANN_WORKLOAD_PATCHES,
)

RG_LABEL = "milvus.io/resource-group"

WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet"})


class PostRenderError(Exception):
    """A manifest stream the post-renderer must refuse rather than pass on half-pinned."""


# ---- YAML in and out ----------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    # Keep multi-line strings (config files in ConfigMaps) readable as literal blocks.
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_presenter)


def load(text: str) -> list[Any]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def dump(docs: list[Any]) -> str:
    return yaml.dump_all(docs, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1_000_000)


def _objects(docs: list[Any]) -> Iterator[dict]:
    """Every Kubernetes object, including the items of `kind: *List` documents."""
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        if str(doc.get("kind", "")).endswith("List") and isinstance(doc.get("items"), list):
            yield from (i for i in doc["items"] if isinstance(i, dict))
        else:
            yield doc


def _name(obj: dict) -> str:
    return f"{obj.get('kind', '?')}/{(obj.get('metadata') or {}).get('name', '?')}"


def _annotation_sources(obj: dict) -> Iterator[dict]:
    yield (obj.get("metadata") or {}).get("annotations") or {}
    template = (obj.get("spec") or {}).get("template") or {}
    yield (template.get("metadata") or {}).get("annotations") or {}


def _directive(objs: list[dict], key: str) -> Any | None:
    """The JSON value of a stream-wide instruction; every copy must say the same."""
    found: dict[str, Any] = {}
    for obj in objs:
        for source in _annotation_sources(obj):
            raw = source.get(key)
            if raw is None:
                continue
            try:
                value = json.loads(raw)
            except (TypeError, json.JSONDecodeError) as e:
                raise PostRenderError(f"{_name(obj)}: annotation {key} is not valid JSON: {e}") from e
            found.setdefault(json.dumps(value, sort_keys=True), value)
    if len(found) > 1:
        raise PostRenderError(f"annotation {key} differs between objects; refusing to guess which one holds")
    return next(iter(found.values()), None)


# ---- the transformations ------------------------------------------------------------------------


def _pod_spec(obj: dict) -> dict:
    return obj.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {})


def _group_of(obj: dict) -> str | None:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    template_labels = (((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
    groups = {g for g in (labels.get(RG_LABEL), template_labels.get(RG_LABEL)) if g is not None}
    if len(groups) > 1:
        raise PostRenderError(f"{_name(obj)}: {RG_LABEL} differs between the object and its pod template")
    return next(iter(groups), None)


def _pin_resource_groups(objs: list[dict]) -> None:
    mapping = _directive(objs, ANN_RG_SELECTORS)
    grouped = [(o, g) for o in objs if o.get("kind") in WORKLOAD_KINDS and (g := _group_of(o)) is not None]
    if mapping is None:
        if grouped:
            names = ", ".join(f"{_name(o)} ({g})" for o, g in grouped)
            raise PostRenderError(f"workloads labelled {RG_LABEL} but no {ANN_RG_SELECTORS} annotation anywhere: {names}")
        return
    if not isinstance(mapping, dict) or not all(
        isinstance(s, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in s.items())
        for s in mapping.values()
    ):
        raise PostRenderError(f"{ANN_RG_SELECTORS} must be a JSON object of group -> {{label: value}}")
    seen: set[str] = set()
    for obj, group in grouped:
        if group not in mapping:
            raise PostRenderError(
                f"{_name(obj)} is in resource group {group!r}, which has no node selector in {ANN_RG_SELECTORS} "
                f"(groups with one: {', '.join(sorted(mapping)) or 'none'})"
            )
        spec = _pod_spec(obj)
        spec["nodeSelector"] = {**(spec.get("nodeSelector") or {}), **mapping[group]}
        seen.add(group)
    unused = sorted(set(mapping) - seen)
    if unused:
        # The chart did not render per-group workloads (e.g. a chart without replicaResourceGroups):
        # the query replicas would run unpinned, so stop here.
        raise PostRenderError(f"no workload labelled {RG_LABEL} for group(s) {', '.join(unused)}")


def _matches(obj: dict, patch: dict) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return obj.get("kind") == patch.get("kind", "StatefulSet") and all(
        labels.get(k) == v for k, v in (patch.get("matchLabels") or {}).items()
    )


def _apply_patch(obj: dict, patch: dict) -> None:
    spec = _pod_spec(obj)
    if patch.get("nodeSelector"):
        spec["nodeSelector"] = {**(spec.get("nodeSelector") or {}), **patch["nodeSelector"]}
    for toleration in patch.get("tolerations") or []:
        # A template may render an empty `tolerations:` (null): Pulsar 3.3.0's bookie-init Job.
        current = spec["tolerations"] = spec.get("tolerations") or []
        if toleration not in current:
            current.append(toleration)
    key = patch.get("spreadTopologyKey")
    if key:
        selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels")
        if not selector:
            raise PostRenderError(f"{_name(obj)} has no spec.selector.matchLabels to spread on")
        constraint = {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": dict(sorted(selector.items()))},
        }
        others = [c for c in spec.get("topologySpreadConstraints") or [] if c.get("topologyKey") != key]
        spec["topologySpreadConstraints"] = [*others, constraint]
    for probe, definition in (patch.get("probes") or {}).items():
        for c in spec.get("containers") or []:
            c.setdefault(probe, copy.deepcopy(definition))
    storage_class = patch.get("storageClassName")
    if storage_class:
        for claim in (obj.get("spec") or {}).get("volumeClaimTemplates") or []:
            claim.setdefault("spec", {})["storageClassName"] = storage_class


def _patch_workloads(objs: list[dict]) -> None:
    patches = _directive(objs, ANN_WORKLOAD_PATCHES)
    if patches is None:
        return
    if not isinstance(patches, list) or not all(isinstance(p, dict) and p.get("matchLabels") for p in patches):
        raise PostRenderError(f"{ANN_WORKLOAD_PATCHES} must be a JSON list of objects with matchLabels")
    for patch in patches:
        targets = [o for o in objs if _matches(o, patch)]
        if not targets:
            raise PostRenderError(
                f"{ANN_WORKLOAD_PATCHES}: no {patch.get('kind', 'StatefulSet')} labelled {patch['matchLabels']}; "
                "the subchart's labels are not what the values expected"
            )
        for obj in targets:
            _apply_patch(obj, patch)


def _pod_specs(obj: dict) -> list[dict]:
    spec = obj.get("spec") or {}
    kind = obj.get("kind")
    if kind == "Pod":
        return [spec]
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    elif kind not in WORKLOAD_KINDS | {"DaemonSet", "Job", "ReplicaSet"}:
        return []
    template = (spec.get("template") or {}).get("spec")
    return [template] if isinstance(template, dict) else []


def _repository(image: str) -> str:
    """'docker.io/milvusdb/etcd:3.5.18-r1' -> 'milvusdb/etcd' (registry and tag/digest dropped)."""
    ref = image.split("@", 1)[0]
    name = ref.rsplit(":", 1)[0] if ":" in ref.rsplit("/", 1)[-1] else ref
    parts = name.split("/")
    if len(parts) > 2 or (len(parts) == 2 and ("." in parts[0] or ":" in parts[0])):
        parts = parts[1:]
    return "/".join(parts)


def _tag(image: str) -> str:
    """'apachepulsar/pulsar:3.0.7' -> '3.0.7'; '' without a tag."""
    last = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else ""


def _image_rules(rules: list[dict], image: str) -> list[dict]:
    """The rules for an image: its repository, and one of the rule's tag prefixes when it names any."""
    repo, tag = _repository(image), _tag(image)
    return [r for r in rules if r.get("repository") == repo
            and (not r.get("tag_prefixes") or any(tag.startswith(p) for p in r["tag_prefixes"]))]


def _size_init_containers(spec: dict, rules: list[dict]) -> None:
    """Init containers without limits whose image asks for it take the resources of the pod's container.

    They run before the pod's containers, so the pod requests the larger of the two (Kubernetes docs,
    "Init Containers", resource sharing): a copy of the container's size adds nothing to the pod's.
    """
    sized = [c for c in spec.get("containers") or [] if ((c.get("resources") or {}).get("limits"))]
    if not sized:
        return
    for c in spec.get("initContainers") or []:
        if (c.get("resources") or {}).get("limits"):
            continue
        if any(r.get("init_resources") for r in _image_rules(rules, str(c.get("image", "")))):
            c["resources"] = copy.deepcopy(sized[0]["resources"])


def writable_volume_name(path: str) -> str:
    """Name of the emptyDir that makes `path` writable under a read-only root filesystem."""
    return "mz" + path.replace("/", "-")


def _set_defaults(target: dict, defaults: dict) -> None:
    for key, value in defaults.items():
        target.setdefault(key, copy.deepcopy(value))


# Labels a pod template of a Job inherits from its Job when the chart gives it none (Pulsar 2.7.8's
# init Jobs): NetworkPolicies can then admit it to the members it initialises.
INHERITED_LABELS = ("app", "release", "component", "app.kubernetes.io/name", "app.kubernetes.io/instance")


def _label_job_pods(obj: dict) -> None:
    if obj.get("kind") != "Job":
        return
    template = obj.setdefault("spec", {}).setdefault("template", {})
    meta = template.setdefault("metadata", {})
    if meta.get("labels"):
        return
    own = (obj.get("metadata") or {}).get("labels") or {}
    inherited = {k: own[k] for k in INHERITED_LABELS if k in own}
    if inherited:
        meta["labels"] = inherited


def _harden(objs: list[dict]) -> None:
    rules = _directive(objs, ANN_HARDENING)
    if rules is None:
        return
    for obj in objs:
        _label_job_pods(obj)
    if not isinstance(rules, dict) or not isinstance(rules.get("images"), list):
        raise PostRenderError(f"{ANN_HARDENING} must be a JSON object with pod, container and images")
    image_rules = rules["images"]
    for obj in objs:
        for spec in _pod_specs(obj):
            if "automountServiceAccountToken" in rules:
                spec.setdefault("automountServiceAccountToken", rules["automountServiceAccountToken"])
            pod_sc = spec.setdefault("securityContext", {})
            _size_init_containers(spec, image_rules)
            containers = [c for key in ("initContainers", "containers") for c in spec.get(key) or []]
            for c in containers:
                matched = _image_rules(image_rules, str(c.get("image", "")))
                for rule in matched:
                    _set_defaults(pod_sc, rule.get("pod") or {})
                sc = c.setdefault("securityContext", {})
                _set_defaults(sc, rules.get("container") or {})
                for rule in matched:
                    _set_defaults(sc, rule.get("container") or {})
                for path in (p for rule in matched for p in rule.get("writable") or []):
                    mounts = c.setdefault("volumeMounts", [])
                    if any(m.get("mountPath") == path for m in mounts):
                        continue
                    name = writable_volume_name(path)
                    volumes = spec.setdefault("volumes", [])
                    if not any(v.get("name") == name for v in volumes):
                        volumes.append({"name": name, "emptyDir": {}})
                    mounts.append({"name": name, "mountPath": path})
            _set_defaults(pod_sc, rules.get("pod") or {})


def _patch_services(objs: list[dict]) -> None:
    for obj in objs:
        if obj.get("kind") != "Service":
            continue
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        if ANN_LB_CLASS not in annotations and ANN_SERVICE_SELECTOR not in annotations:
            continue
        spec = obj.setdefault("spec", {})
        lb_class = annotations.get(ANN_LB_CLASS)
        if lb_class is not None:
            if spec.get("type") != "LoadBalancer":
                raise PostRenderError(f"{_name(obj)} asks for {ANN_LB_CLASS} but is of type {spec.get('type')}")
            spec["loadBalancerClass"] = lb_class
        raw = annotations.get(ANN_SERVICE_SELECTOR)
        if raw is not None:
            try:
                selector = json.loads(raw)
            except json.JSONDecodeError as e:
                raise PostRenderError(f"{_name(obj)}: {ANN_SERVICE_SELECTOR} is not valid JSON: {e}") from e
            if not isinstance(selector, dict) or not selector:
                raise PostRenderError(f"{_name(obj)}: {ANN_SERVICE_SELECTOR} must be a non-empty JSON object")
            spec["selector"] = dict(sorted(selector.items()))


def transform(text: str) -> str:
    """The post-rendered manifests; the input itself when nothing needs changing."""
    try:
        docs = load(text)
    except yaml.YAMLError as e:
        raise PostRenderError(f"input is not YAML: {e}") from e
    before = copy.deepcopy(docs)
    objs = list(_objects(docs))
    _pin_resource_groups(objs)
    _patch_workloads(objs)
    _patch_services(objs)
    _harden(objs)
    return text if docs == before else dump(docs)


def main() -> None:
    text = sys.stdin.read()
    try:
        out = transform(text)
    except PostRenderError as e:
        print(f"milvus-zones-postrender: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    sys.stdout.write(out)


if __name__ == "__main__":
    main()
