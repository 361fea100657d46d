"""The Kubernetes objects the components create, built by pure functions without Pulumi: the
failover controller, the script Jobs, the namespace, Secret and StorageClass, the backup objects, and
the Helm values built once from the plan with the cloud ids added after."""

from __future__ import annotations

import json

import kubernetes_validate
import pytest

from milvus_zones.planning.plan import plan
from milvus_zones.planning.sizing import JOB
from milvus_zones.planning.spec import DeploymentSpec, MessageService, Mode
from milvus_zones.rendering import backup_manifests as bm
from milvus_zones.rendering import failover_manifests as failover
from milvus_zones.rendering import job_manifests as jobs
from milvus_zones.rendering import milvus_manifests as mm
from milvus_zones.rendering.helm_values import (
    ANN_LB_ID,
    ANN_LB_OVERRIDE_LISTENERS,
    ANN_ZONE_MAPS,
    RRSA_ROLE_ANNOTATION,
    etcd_member_endpoints,
    release_template,
    releases,
    resource_group_configs,
    with_cloud_ids,
)

K8S = "1.33.0"  # an ACK-supported minor; kubernetes-validate ships its OpenAPI schema
ZONES = ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]


def _plan(mode: Mode = Mode.MULTI_ZONE_HA, version: str = "2.6", mq: MessageService = MessageService.WOODPECKER, **kw):
    return plan(DeploymentSpec(mode=mode, region="cn-hangzhou", zones=ZONES[:1] if mode is Mode.SINGLE_ZONE else ZONES,
                               milvus_version=version, message_service=mq, compute_node_count=4,
                               bucket_name="mz-test-bucket", **kw))


def _valid(obj: dict) -> None:
    kubernetes_validate.validate(obj, K8S, strict=True)


def _env(container: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container["env"]}


# ---- the failover controller ------------------------------------------------------------------


def test_failover_objects_pass_the_kubernetes_schemas():
    p = _plan()
    fo = p.failover
    assert fo is not None
    cm = failover.config_map(p.namespace)
    for obj in (cm, failover.service_account(fo, p.namespace), failover.role(fo, p.namespace),
                failover.role_binding(p, fo, p.namespace),
                failover.deployment(p, fo, p.name, p.namespace, cm["metadata"]["name"])):
        _valid(obj)


def test_failover_script_name_follows_its_content_and_the_deployment_mounts_it():
    p = _plan()
    cm = failover.config_map(p.namespace)
    assert cm["data"] == {"failover.py": failover.script()}
    assert cm["metadata"]["name"].startswith(f"{failover.NAME}-") and cm["metadata"]["name"] != failover.NAME
    d = failover.deployment(p, p.failover, p.name, p.namespace, cm["metadata"]["name"])
    pod = d["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "job", "configMap": {"name": cm["metadata"]["name"]}}]
    assert pod["containers"][0]["command"] == ["python", "/job/failover.py"]


def test_failover_runs_one_replica_per_quorum_zone_and_reaches_every_etcd_member():
    p = _plan()
    fo = p.failover
    d = failover.deployment(p, fo, p.name, p.namespace, "cm")
    pod = d["spec"]["template"]["spec"]
    assert d["spec"]["replicas"] == fo.replicas
    assert pod["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    assert pod["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "DoNotSchedule"
    assert pod["nodeSelector"] == dict(fo.node_selector)
    assert {"key": fo.toleration.key, "operator": "Equal", "value": fo.toleration.value,
            "effect": fo.toleration.effect} in pod["tolerations"]
    env = _env(pod["containers"][0])
    assert json.loads(env["ETCD_ENDPOINTS"]) == etcd_member_endpoints(p.name, p.namespace, p.etcd.replicas)
    assert json.loads(env["GROUPS"]) == list(fo.groups)
    assert env["ETCD_ROOT_PATH"] == p.name


def test_failover_role_is_its_lease_only():
    p = _plan()
    rules = failover.role(p.failover, p.namespace)["rules"]
    assert {(r["resources"][0], tuple(r.get("resourceNames", ())), tuple(r["verbs"])) for r in rules} == {
        ("leases", (failover.NAME,), ("get", "update")), ("leases", (), ("create",))}
    binding = failover.role_binding(p, p.failover, p.namespace)
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": failover.NAME, "namespace": p.namespace}]


# ---- script Jobs ----------------------------------------------------------------------------


ENV = [{"name": "A", "value": "1"}]


def _script_job(image: str = "python:3.12", **kw) -> dict:
    cm = jobs.script_config_map("replication.py", "milvus", ENV, "pymilvus==2.6.17")
    return jobs.script_job("replication.py", "milvus", ENV, "pymilvus==2.6.17", {"role": "compute"}, image,
                           900, cm["metadata"]["name"])


def test_script_job_passes_the_schema_and_mounts_its_config_map():
    cm = jobs.script_config_map("replication.py", "milvus", ENV, "pymilvus==2.6.17")
    job = _script_job()
    _valid(cm)
    _valid(job)
    assert set(cm["data"]) == {"replication.py", jobs.HELPER}
    assert job["spec"]["activeDeadlineSeconds"] == 900
    pod = job["spec"]["template"]["spec"]
    assert pod["volumes"][0]["configMap"]["name"] == cm["metadata"]["name"]
    command = pod["containers"][0]["command"][2]
    assert "pip install --no-cache-dir" in command and "'pymilvus==2.6.17'" in command
    assert command.endswith("python /job/replication.py")


def test_script_job_is_hardened_and_requests_what_sizing_reserves():
    pod = _script_job()["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    # The scripts reach Milvus over gRPC only (jobs/replication.py, resource_groups.py): no API token.
    assert pod["automountServiceAccountToken"] is False and pod["enableServiceLinks"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}}
    # Everything pip and Python write goes to the emptyDir: the install target, HOME and TMPDIR.
    writable = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
    emptydirs = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    assert {m["name"] for m in container["volumeMounts"] if m["mountPath"] in writable} <= emptydirs
    env = _env(container)
    target = container["command"][2].split("--target ", 1)[1].split()[0]
    for path in (target, env["HOME"], env["TMPDIR"]):
        assert any(path == w or path.startswith(w + "/") for w in writable), path
    assert f"PYTHONPATH={target}" in container["command"][2]
    requests, limits = container["resources"]["requests"], container["resources"]["limits"]
    assert requests == {"cpu": f"{JOB.cpu_m}m", "memory": f"{JOB.memory_mi}Mi"}
    assert limits["memory"] == requests["memory"]


def test_script_job_name_changes_with_its_content_only():
    name = jobs.job_name("replication.py", ENV, "pymilvus==2.6.17")
    assert name.startswith("milvus-zones-replication-")
    assert jobs.job_name("replication.py", list(ENV), "pymilvus==2.6.17") == name
    assert jobs.job_name("replication.py", [{"name": "A", "value": "2"}], "pymilvus==2.6.17") != name
    assert jobs.job_name("replication.py", ENV, "pymilvus==2.6.16") != name
    # The Job's template is immutable: a new pod spec (here the image) is a new Job, the same one is not.
    job = _script_job()["metadata"]["name"]
    assert job.startswith("milvus-zones-replication-") and _script_job()["metadata"]["name"] == job
    assert _script_job(image="python:3.13")["metadata"]["name"] != job


def test_resource_group_job_creates_the_plans_groups_through_the_primary_service():
    p = _plan(version="2.5", mq=MessageService.PULSAR)
    job = jobs.resource_group_job(p, "svc")
    env = _env(job)
    assert json.loads(env["RESOURCE_GROUPS"]) == resource_group_configs(p) != {}
    assert env["MILVUS_URI"] == f"http://svc.{p.namespace}.svc:19530"
    assert job["node_selector"] == p.component("proxy").node_selector


# ---- namespace, Secret, StorageClass, backup objects ----------------------------------------


def test_milvus_objects_pass_the_schemas_and_keep_the_disks():
    p = _plan()
    ns = mm.namespace(p)
    assert ns["metadata"] == {"name": p.namespace, "labels": {mm.RRSA_INJECTION_LABEL: "on"}}
    sc = mm.retain_storage_class()
    assert (sc["reclaimPolicy"], sc["volumeBindingMode"]) == ("Retain", "WaitForFirstConsumer")
    secret = mm.root_password_secret(p.namespace, "s3cret")
    assert secret["stringData"] == {"password": "s3cret"}
    for obj in (ns, sc, secret):
        _valid(obj)


def test_backup_objects_pass_the_schemas_and_assume_the_role_through_rrsa():
    p = _plan()
    sa = bm.service_account(p, "backup-role")
    assert sa["metadata"]["annotations"] == {RRSA_ROLE_ANNOTATION: "backup-role"}
    assert sa["automountServiceAccountToken"] is False
    cron = bm.cronjob(p, "milvus-root-password")
    assert cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["serviceAccountName"] == sa["metadata"]["name"]
    for obj in (sa, bm.config_map(p, "backup: {}"), bm.script_config_map(p), cron):
        _valid(obj)
    # What sizing reserves on the proxies' pool for each of our Job pods, memory limit = request.
    for pod in (cron["spec"]["jobTemplate"]["spec"]["template"]["spec"],
                bm.restore_job(p, "milvus-root-password", "milvus_202612010230")["spec"]["template"]["spec"]):
        assert pod["nodeSelector"] == p.component("proxy").node_selector
        (resources,) = [c["resources"] for c in pod["containers"]]
        assert resources["requests"] == {"cpu": f"{JOB.cpu_m}m", "memory": f"{JOB.memory_mi}Mi"}
        assert resources["limits"]["memory"] == resources["requests"]["memory"]
        # RRSA's token exchange goes to sts-vpc.<region>.aliyuncs.com (credentials-go v1.4.10 reads these).
        (env,) = [{e["name"]: e.get("value") for e in c["env"]} for c in pod["containers"]]
        assert env["ALIBABA_CLOUD_STS_REGION"] == p.region
        assert env["ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"] == "true"


# ---- Helm values: built once, cloud ids added after -----------------------------------------

CTX = mm.release_context(_plan(), "milvus-oss-role", {z: f"vsw-{z[-1]}" for z in ZONES}, None, ())


@pytest.mark.parametrize(("mode", "version", "mq"), [
    (Mode.SINGLE_ZONE, "2.6", MessageService.WOODPECKER),
    (Mode.MULTI_ZONE_BASIC, "2.4", MessageService.KAFKA),
    (Mode.MULTI_ZONE_HA, "2.5", MessageService.PULSAR),  # two releases
    (Mode.MULTI_ZONE_HA, "2.6", MessageService.WOODPECKER),
])
def test_template_names_no_cloud_resource_and_the_ids_complete_it(mode, version, mq):
    p = _plan(mode, version, mq)
    template = release_template(p, mm.release_context(p, "", {}, None, ()))
    text = json.dumps([s.values for s in template])
    assert RRSA_ROLE_ANNOTATION not in text and ANN_ZONE_MAPS not in text and ANN_LB_ID not in text
    before = json.dumps([s.values for s in template], sort_keys=True)
    ids = {z: f"vsw-{z[-1]}" for z in p.compute_zones}
    full = with_cloud_ids(p, template, "milvus-oss-role", ids)
    assert json.dumps([s.values for s in template], sort_keys=True) == before  # the template is not changed
    assert [s.values for s in full] == [s.values for s in releases(p, CTX)]
    assert [(s.name, s.fullname) for s in full] == [(s.name, s.fullname) for s in template]
    creates = [s.values["serviceAccount"] for s in full if s.values["serviceAccount"]["create"]]
    assert [sa["annotations"] for sa in creates] == [{RRSA_ROLE_ANNOTATION: "milvus-oss-role"}]
    service = full[0].values["service"]
    if service["type"] == "LoadBalancer":
        assert service["annotations"][ANN_ZONE_MAPS] == ",".join(f"{z}:{ids[z]}" for z in p.compute_zones)


def test_a_reused_load_balancer_replaces_the_zone_mappings():
    p = _plan()
    template = release_template(p, mm.release_context(p, "", {}, None, ()))
    [spec] = with_cloud_ids(p, template, "role", {z: "vsw" for z in p.compute_zones}, "nlb-123")
    annotations = spec.values["service"]["annotations"]
    assert annotations[ANN_LB_ID] == "nlb-123" and annotations[ANN_LB_OVERRIDE_LISTENERS] == "true"
    assert ANN_ZONE_MAPS not in annotations


def test_a_compute_zone_without_a_vswitch_is_refused_when_the_ids_are_added():
    p = _plan()
    template = release_template(p, mm.release_context(p, "", {}, None, ()))
    with pytest.raises(ValueError, match="cn-hangzhou-i"):
        with_cloud_ids(p, template, "role", {"cn-hangzhou-h": "vsw-h"})
