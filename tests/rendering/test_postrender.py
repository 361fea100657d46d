"""The Helm post-renderer: pinning per resource group, subchart placement, Service fix-ups, failure modes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from milvus_zones.planning.plan import plan
from milvus_zones.planning.spec import DeploymentSpec
from milvus_zones.rendering.helm_values import ReleaseContext, releases
from milvus_zones.rendering.postrender import (
    ANN_LB_CLASS,
    ANN_RG_SELECTORS,
    ANN_SERVICE_SELECTOR,
    ANN_WORKLOAD_PATCHES,
    PostRenderError,
    load,
    transform,
)

REPO = Path(__file__).resolve().parents[2]
MAPPING = json.dumps({"rga": {"milvus-zones/pool": "compute-h"}, "rgb": {"milvus-zones/pool": "compute-i"}})


def _deployment(name: str, component: str, group: str | None = None, annotations: dict | None = None) -> str:
    """A Deployment shaped like the chart's: shared nodeSelector, global annotations on object and pod."""
    group_label = f"\n    milvus.io/resource-group: {group}" if group else ""
    pod_group_label = f"\n        milvus.io/resource-group: {group}" if group else ""
    ann = yaml.safe_dump({"annotations": annotations or {}}, default_flow_style=False).replace("\n", "\n  ").rstrip()
    pod_ann = yaml.safe_dump({"annotations": annotations or {}}, default_flow_style=False).replace("\n", "\n      ").rstrip()
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: milvus
    app.kubernetes.io/instance: milvus
    component: {component}{group_label}
  {ann}
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: milvus
      app.kubernetes.io/instance: milvus
      component: {component}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: milvus
        app.kubernetes.io/instance: milvus
        component: {component}{pod_group_label}
      {pod_ann}
    spec:
      containers:
      - name: {component}
        image: milvusdb/milvus:v2.6.15
      nodeSelector:
        milvus-zones/role: compute
"""


CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: milvus
data:
  user.yaml: |
    common:
      security:
        authorizationEnabled: true
"""

SERVICE = f"""apiVersion: v1
kind: Service
metadata:
  name: milvus
  labels:
    component: proxy
  annotations:
    service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type: intranet
    {ANN_LB_CLASS}: alibabacloud.com/nlb
spec:
  type: LoadBalancer
  ports:
  - name: milvus
    port: 19530
  selector:
    app.kubernetes.io/name: milvus
    app.kubernetes.io/instance: milvus
    component: proxy
"""

GLOBAL = {ANN_RG_SELECTORS: MAPPING}


def _stream(*docs: str) -> str:
    return "---\n" + "\n---\n".join(d.strip() + "\n" for d in docs)


HA_MANIFESTS = _stream(
    "# Source: milvus/templates/configmap.yaml\n" + CONFIGMAP,
    SERVICE,
    _deployment("milvus-proxy", "proxy", annotations=GLOBAL),
    _deployment("milvus-querynode-rga", "querynode", "rga", GLOBAL),
    _deployment("milvus-querynode-rgb", "querynode", "rgb", GLOBAL),
    _deployment("milvus-streamingnode-rga", "streamingnode", "rga", GLOBAL),
    _deployment("milvus-streamingnode-rgb", "streamingnode", "rgb", GLOBAL),
)


def _by_name(text: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in load(text)}


def test_pins_each_group_to_its_pool_and_keeps_the_rest():
    out = _by_name(transform(HA_MANIFESTS))
    for name, pool in [
        ("milvus-querynode-rga", "compute-h"),
        ("milvus-streamingnode-rga", "compute-h"),
        ("milvus-querynode-rgb", "compute-i"),
        ("milvus-streamingnode-rgb", "compute-i"),
    ]:
        assert out[name]["spec"]["template"]["spec"]["nodeSelector"] == {
            "milvus-zones/role": "compute",
            "milvus-zones/pool": pool,
        }
    assert out["milvus-proxy"]["spec"]["template"]["spec"]["nodeSelector"] == {"milvus-zones/role": "compute"}
    [cm] = [d for d in load(transform(HA_MANIFESTS)) if d["kind"] == "ConfigMap"]
    assert cm["data"]["user.yaml"] == "common:\n  security:\n    authorizationEnabled: true\n"
    assert [d["kind"] for d in load(transform(HA_MANIFESTS))] == [d["kind"] for d in load(HA_MANIFESTS)]


def test_sets_the_load_balancer_class():
    svc = next(d for d in load(transform(HA_MANIFESTS)) if d["kind"] == "Service")
    assert svc["spec"]["loadBalancerClass"] == "alibabacloud.com/nlb"


def test_is_idempotent_and_deterministic():
    once = transform(HA_MANIFESTS)
    assert transform(once) == once
    assert transform(HA_MANIFESTS) == once


def test_is_a_no_op_without_instructions():
    plain = _stream(CONFIGMAP, _deployment("milvus-querynode", "querynode"), SERVICE.replace(f"    {ANN_LB_CLASS}: alibabacloud.com/nlb\n", ""))
    assert transform(plain) == plain
    assert transform("") == ""


def test_a_group_without_a_mapping_fails():
    bad = _stream(
        _deployment("milvus-querynode-rga", "querynode", "rga", GLOBAL),
        _deployment("milvus-querynode-rgb", "querynode", "rgb", GLOBAL),
        _deployment("milvus-querynode-rgc", "querynode", "rgc", GLOBAL),
    )
    with pytest.raises(PostRenderError, match="'rgc'"):
        transform(bad)


def test_groups_without_any_mapping_fail():
    with pytest.raises(PostRenderError, match="no milvus-zones/resource-group-node-selectors"):
        transform(_stream(_deployment("milvus-querynode-rga", "querynode", "rga")))


def test_a_mapping_with_no_grouped_workload_fails():
    # e.g. a chart that ignored replicaResourceGroups and rendered one unpinned querynode Deployment
    with pytest.raises(PostRenderError, match="rga, rgb"):
        transform(_stream(_deployment("milvus-querynode", "querynode", annotations=GLOBAL)))


def test_disagreeing_copies_of_the_mapping_fail():
    other = {ANN_RG_SELECTORS: json.dumps({"rga": {"milvus-zones/pool": "compute-j"}, "rgb": {}})}
    with pytest.raises(PostRenderError, match="differs"):
        transform(_stream(_deployment("a", "querynode", "rga", GLOBAL), _deployment("b", "querynode", "rgb", other)))


def test_lb_class_on_a_cluster_ip_service_fails():
    with pytest.raises(PostRenderError, match="ClusterIP"):
        transform(SERVICE.replace("type: LoadBalancer", "type: ClusterIP"))


def test_replaces_the_service_selector():
    selector = {"app.kubernetes.io/name": "milvus", "component": "proxy", "milvus-zones/cluster": "milvus"}
    svc = SERVICE.replace("  annotations:\n", f"  annotations:\n    {ANN_SERVICE_SELECTOR}: '{json.dumps(selector)}'\n")
    [out] = load(transform(svc))
    assert out["spec"]["selector"] == selector


STATEFULSET = """apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: milvus-pulsar-bookie
  labels:
    app: pulsar
    release: milvus
    component: bookie
spec:
  selector:
    matchLabels:
      app: pulsar
      release: milvus
      component: bookie
  template:
    metadata:
      labels:
        app: pulsar
        release: milvus
        component: bookie
    spec:
      containers:
      - name: bookie
        image: apachepulsar/pulsar:2.9.5
  volumeClaimTemplates:
  - metadata:
      name: journal
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 100Gi
"""

PATCH = {
    "kind": "StatefulSet",
    "matchLabels": {"app": "pulsar", "release": "milvus", "component": "bookie"},
    "nodeSelector": {"milvus-zones/role": "quorum"},
    "tolerations": [{"key": "milvus-zones/role", "operator": "Equal", "value": "quorum", "effect": "NoSchedule"}],
    "spreadTopologyKey": "topology.kubernetes.io/zone",
    "storageClassName": "alicloud-disk-topology-alltype",
}


def test_patches_subchart_statefulsets():
    carrier = _deployment("milvus-proxy", "proxy", annotations={ANN_WORKLOAD_PATCHES: json.dumps([PATCH])})
    text = transform(_stream(carrier, STATEFULSET))
    sts = _by_name(text)["milvus-pulsar-bookie"]
    pod = sts["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == PATCH["nodeSelector"] and pod["tolerations"] == PATCH["tolerations"]
    assert pod["topologySpreadConstraints"] == [
        {
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "pulsar", "component": "bookie", "release": "milvus"}},
        }
    ]
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "alicloud-disk-topology-alltype"
    assert transform(text) == text


def test_a_patch_matching_nothing_fails():
    carrier = _deployment("milvus-proxy", "proxy", annotations={ANN_WORKLOAD_PATCHES: json.dumps([PATCH])})
    with pytest.raises(PostRenderError, match="no StatefulSet labelled"):
        transform(_stream(carrier, STATEFULSET.replace("component: bookie", "component: bookkeeper")))


def test_objects_inside_a_list_are_pinned():
    items = [yaml.safe_load(_deployment(f"q-{g}", "querynode", g, GLOBAL)) for g in ("rga", "rgb")]
    out = load(transform(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items})))
    assert [i["spec"]["template"]["spec"]["nodeSelector"]["milvus-zones/pool"] for i in out[0]["items"]] == [
        "compute-h",
        "compute-i",
    ]


def test_pins_what_helm_values_ask_for():
    """The values' own annotation, on manifests shaped like chart 5.0.19's per-group Deployments."""
    spec = DeploymentSpec(mode="multi-zone-ha", region="cn-hangzhou", zones=["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"],
                          milvus_version="2.6", compute_node_count=4, bucket_name="mz-test-bucket")
    p = plan(spec)
    ctx = ReleaseContext("role", "milvus", "secret", "oss-cn-hangzhou-internal.aliyuncs.com", "10.0.0.0/16",
                         {"cn-hangzhou-h": "vsw-h", "cn-hangzhou-i": "vsw-i"})
    [release] = releases(p, ctx)
    annotations = release.values["annotations"]
    docs = [
        _deployment(f"{release.fullname}-{c}-{g}", c, g, annotations)
        for c in ("querynode", "streamingnode")
        for g in release.values["replicaResourceGroups"]
    ]
    out = _by_name(transform(_stream(*docs)))
    for rg in p.resource_groups:
        for c in ("querynode", "streamingnode"):
            selector = out[f"milvus-{c}-{rg.name}"]["spec"]["template"]["spec"]["nodeSelector"]
            assert selector.items() >= p.pool(rg.pool).selector.items()
            assert selector.items() <= p.pool(rg.pool).labels.items()


def _run(stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "milvus_zones.rendering.postrender"], input=stdin, capture_output=True, text=True, cwd=REPO, timeout=60
    )


def test_runs_as_a_command():
    ok = _run(HA_MANIFESTS)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == transform(HA_MANIFESTS)
    bad = _run(_stream(_deployment("milvus-querynode-rgc", "querynode", "rgc", GLOBAL)))
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.startswith("milvus-zones-postrender: ") and "'rgc'" in bad.stderr


# ---- hardening ------------------------------------------------------------------------------------

def _hardening_stream(container_sc: dict | None = None, pulsar: str = "apachepulsar/pulsar:2.9.5") -> str:
    from milvus_zones.rendering.hardening import directive

    milvus = {"name": "proxy", "image": "milvusdb/milvus:v2.6.15"}
    if container_sc is not None:
        milvus["securityContext"] = container_sc
    docs = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "m-proxy", "annotations": {
            "milvus-zones/hardening": directive()}},
         "spec": {"template": {"metadata": {"labels": {"app": "m"}}, "spec": {"containers": [milvus]}}}},
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "p-init", "labels": {"app": "pulsar", "release": "m"}},
         "spec": {"template": {"spec": {"containers": [{"name": "init", "image": pulsar}]}}}},
    ]
    return yaml.safe_dump_all(docs)


def test_hardening_fills_what_is_unset_and_is_idempotent():
    out = transform(_hardening_stream())
    deployment, job = [d for d in yaml.safe_load_all(out) if d]
    pod = deployment["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert pod["automountServiceAccountToken"] is False
    assert c["securityContext"]["runAsNonRoot"] is True and c["securityContext"]["runAsUser"] == 10001
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert {m["mountPath"] for m in c["volumeMounts"]} == {"/var/lib/milvus", "/tmp"}
    assert all("emptyDir" in v for v in pod["volumes"])
    # Pulsar 2.9.5 (root image): no user forced, the rest applied; the init Job's pod inherits its Job's labels.
    init = job["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    assert "runAsUser" not in init and init["allowPrivilegeEscalation"] is False
    assert job["spec"]["template"]["metadata"]["labels"] == {"app": "pulsar", "release": "m"}
    assert transform(out) == out


def test_hardening_runs_pulsar_3_as_its_image_user():
    out = transform(_hardening_stream(pulsar="docker.io/apachepulsar/pulsar:3.0.7"))
    job = [d for d in yaml.safe_load_all(out) if d][1]
    pod = job["spec"]["template"]["spec"]
    sc = pod["containers"][0]["securityContext"]
    assert (sc["runAsNonRoot"], sc["runAsUser"], sc["runAsGroup"]) == (True, 10000, 0)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert transform(out) == out


def _pulsar_pod(init_resources: dict | None, init_image: str = "apachepulsar/pulsar:3.0.7") -> str:
    from milvus_zones.rendering.hardening import directive

    main = {"name": "bookie", "image": "apachepulsar/pulsar:3.0.7",
            "resources": {"requests": {"cpu": "850m", "memory": "3072Mi"}, "limits": {"cpu": "850m", "memory": "3072Mi"}}}
    init = {"name": "verify", "image": init_image}
    if init_resources is not None:
        init["resources"] = init_resources
    return yaml.safe_dump({"apiVersion": "apps/v1", "kind": "StatefulSet",
                           "metadata": {"name": "p-bookie", "annotations": {"milvus-zones/hardening": directive()}},
                           "spec": {"template": {"spec": {"initContainers": [init], "containers": [main]}}}})


def test_pulsar_init_containers_take_their_pods_size():
    chart_default = {"requests": {"cpu": 0.1, "memory": "256Mi"}}  # pulsar 3.3.0 initContainer.resources
    out = yaml.safe_load(transform(_pulsar_pod(chart_default)))
    pod = out["spec"]["template"]["spec"]
    assert pod["initContainers"][0]["resources"] == pod["containers"][0]["resources"]
    assert transform(yaml.safe_dump(out)) == yaml.safe_dump(out)


def test_init_containers_with_limits_or_of_other_images_keep_their_resources():
    own = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "100m", "memory": "128Mi"}}
    out = yaml.safe_load(transform(_pulsar_pod(own)))
    assert out["spec"]["template"]["spec"]["initContainers"][0]["resources"] == own
    other = yaml.safe_load(transform(_pulsar_pod({"requests": {"cpu": "100m"}}, init_image="busybox:1.36")))
    assert other["spec"]["template"]["spec"]["initContainers"][0]["resources"] == {"requests": {"cpu": "100m"}}


def test_patch_adds_probes_and_tolerations_over_a_null_list():
    probe = {"httpGet": {"path": "/heartbeat", "port": 8000}}
    patches = [{"kind": "StatefulSet", "matchLabels": {"component": "recovery"},
                "probes": {"livenessProbe": probe, "readinessProbe": probe}},
               {"kind": "Job", "matchLabels": {"component": "bookie-init"}, "nodeSelector": {"role": "quorum"},
                "tolerations": [{"key": "role", "operator": "Equal", "value": "quorum", "effect": "NoSchedule"}]}]
    ann = {"milvus-zones/workload-patches": json.dumps(patches)}
    docs = [{"apiVersion": "apps/v1", "kind": "StatefulSet",
             "metadata": {"name": "r", "labels": {"component": "recovery"}, "annotations": ann},
             "spec": {"template": {"spec": {"containers": [{"name": "r", "image": "x",
                                                            "readinessProbe": {"tcpSocket": {"port": 1}}}]}}}},
            {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "b", "labels": {"component": "bookie-init"}},
             "spec": {"template": {"spec": {"tolerations": None, "containers": [{"name": "b", "image": "x"}]}}}}]
    sts, job = [d for d in yaml.safe_load_all(transform(yaml.safe_dump_all(docs))) if d]
    c = sts["spec"]["template"]["spec"]["containers"][0]
    assert c["livenessProbe"] == probe and c["readinessProbe"] == {"tcpSocket": {"port": 1}}  # the chart's kept
    assert job["spec"]["template"]["spec"]["tolerations"] == patches[1]["tolerations"]
    assert job["spec"]["template"]["spec"]["nodeSelector"] == {"role": "quorum"}


def test_hardening_keeps_what_the_chart_set():
    out = transform(_hardening_stream({"runAsUser": 2000, "readOnlyRootFilesystem": False}))
    c = next(d for d in yaml.safe_load_all(out) if d)["spec"]["template"]["spec"]["containers"][0]
    assert c["securityContext"]["runAsUser"] == 2000 and c["securityContext"]["readOnlyRootFilesystem"] is False
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
