"""The WAL pinning controller as the program deploys it: the Kubernetes objects, and the script run with their env."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
import uuid

import kubernetes_validate
import pytest
from support.failover_fakes import FakeApiServer, free_port, get, lose_zone_a, two_zones
from support.graphs import graph_of  # one program run per stack and worker

NORMALISED = "streamingprimaryresourcegroup"
K8S = "1.33"  # kubernetes-validate schema version; ACK's current line


@pytest.fixture(scope="module")
def ha():
    return graph_of("multi-zone-ha")


def controller(graph):
    (dep,) = [r for r in graph.of_type("kubernetes:apps/v1:Deployment") if r.name.endswith("-failover")]
    return dep


def test_objects_pass_the_kubernetes_schemas(ha):
    for r in ha.resources:
        if "-failover" in r.name and r.type.startswith("kubernetes:"):
            obj = json.loads(json.dumps(r.inputs))
            if r.type == "kubernetes:apps/v1:Deployment":
                volume = obj["spec"]["template"]["spec"]["volumes"][0]["configMap"]
                volume["name"] = volume.get("name") or "resolved-at-deploy"  # an output of the ConfigMap
            kubernetes_validate.validate(obj, K8S, strict=True)


def test_pod_is_hardened_probed_and_sized(ha):
    pod = controller(ha).inputs["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert c["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "privileged": False, "capabilities": {"drop": ["ALL"]}}
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert set(c["resources"]["requests"]) == set(c["resources"]["limits"]) == {"cpu", "memory"}
    assert pod["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "DoNotSchedule"


def test_rbac_is_its_lease_only(ha):
    (role,) = [r for r in ha.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role") if "-failover" in r.name]
    assert role.inputs["rules"] == [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": ["milvus-zones-failover"],
         "verbs": ["get", "update"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
    ]
    assert not [r for r in ha.resources if "-failover" in r.name and "ClusterRole" in r.type]


def test_env_names_every_etcd_member(ha):
    env = {e["name"]: e.get("value") for e in controller(ha).inputs["spec"]["template"]["spec"]["containers"][0]["env"]}
    endpoints = json.loads(env["ETCD_ENDPOINTS"])
    (release,) = ha.of_type("kubernetes:helm.sh/v3:Release")
    assert len(endpoints) == release.inputs["values"]["etcd"]["replicaCount"] == 3
    assert endpoints[0].startswith("http://milvus-etcd-0.milvus-etcd-headless.milvus.svc.cluster.local:2379")
    assert json.loads(env["GROUPS"]) == release.inputs["values"]["replicaResourceGroups"]  # the chart's primary first


def test_basic_mode_deploys_no_fencing():
    g = graph_of("multi-zone-basic")
    assert not [r for r in g.resources if "-failover" in r.name]


def test_the_deployed_script_runs_on_the_bare_interpreter_with_its_env(ha, etcd, tmp_path):
    """python -I -S (no site-packages): the image's stdlib is all it has."""
    dep = controller(ha)
    spec = dep.inputs["spec"]["template"]["spec"]
    (cm,) = [r for r in ha.of_type("kubernetes:core/v1:ConfigMap") if r.name.endswith("-failover-script")]
    script = tmp_path / "failover.py"
    script.write_text(cm.inputs["data"]["failover.py"])
    root = f"mz{uuid.uuid4().hex[:8]}"
    env = {e["name"]: e["value"] for e in spec["containers"][0]["env"] if "value" in e}
    api = FakeApiServer()
    port = free_port()
    env.update(ETCD_ENDPOINTS=json.dumps(etcd.endpoints), ETCD_ROOT_PATH=root, KUBERNETES_API=api.url,
               POD_NAME="pod-a", HTTP_PORT=str(port))
    groups = tuple(json.loads(env["GROUPS"]))
    two_zones(etcd, root, groups)
    proc = subprocess.Popen([sys.executable, "-I", "-S", str(script)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        status = wait_for(port, lambda s: s["leader"] and s["seenGroups"] == sorted(groups))
        assert status["effectivePrimary"] == groups[0]
        lose_zone_a(etcd, root)
        status = wait_for(port, lambda s: s["pins"] == 1)
        assert status["effectivePrimary"] == groups[1] == get(etcd, f"{root}/config/{NORMALISED}")
        assert api.holder(env["NAMESPACE"], env["LEASE_NAME"]) == "pod-a"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        api.server.shutdown()
    events = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
    assert events[:2] == ["started", "leader_acquired"] and "pin_written" in events


def wait_for(port: int, ok, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    status: dict = {}
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as resp:
                status = json.loads(resp.read())
            if ok(status):
                return status
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"controller never reached the expected state; last status {status}")
