"""Helm values from the plan: key paths the pinned charts really have, and what the values do."""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from milvus_zones.planning.plan import MODE_TAG, ZONE_LABEL, Role, TopologyPlan, plan
from milvus_zones.planning.spec import DeploymentSpec, MessageService, Mode, SpecError
from milvus_zones.rendering.helm_values import (
    ANN_ZONE_MAPS,
    CHART_FACTS,
    CLUSTER_LABEL,
    ETCD_CHART_ENV,
    KAFKA_CHART_ENV,
    NLB_CLASS,
    ROOT_PASSWORD_ENV,
    RRSA_ROLE_ANNOTATION,
    ReleaseContext,
    ReleaseSpec,
    releases,
    resource_group_configs,
)
from milvus_zones.rendering.postrender import (
    ANN_HARDENING,
    ANN_LB_CLASS,
    ANN_RG_SELECTORS,
    ANN_SERVICE_SELECTOR,
    ANN_WORKLOAD_PATCHES,
)

# CI clones the repository next to shared/.
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "milvus-helm"
needs_reference = pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"chart reference values not at {REFERENCE}")

ZONES = ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]
CTX = ReleaseContext(
    role_name="milvus-oss-role",
    service_account="milvus",
    password_secret="milvus-root-password",
    oss_endpoint="oss-cn-hangzhou-internal.aliyuncs.com",
    vpc_cidr="10.0.0.0/16",
    lb_vswitch_ids={"cn-hangzhou-h": "vsw-h", "cn-hangzhou-i": "vsw-i", "cn-hangzhou-j": "vsw-j"},
)


def _combos() -> Iterator[tuple[Mode, str, MessageService]]:
    for mode, version, mq in itertools.product(Mode, ("2.4", "2.5", "2.6"), MessageService):
        try:
            _spec(mode, version, mq)
        except SpecError:
            continue
        yield mode, version, mq


@functools.cache
def _spec(mode: Mode, version: str, mq: MessageService) -> DeploymentSpec:
    return DeploymentSpec(
        mode=mode,
        region="cn-hangzhou",
        zones=ZONES[:1] if mode is Mode.SINGLE_ZONE else ZONES,
        milvus_version=version,
        message_service=mq,
        compute_node_count=4,
        bucket_name="mz-test-bucket",
    )


@functools.cache
def _build(mode: Mode, version: str, mq: MessageService) -> tuple[TopologyPlan, list[ReleaseSpec]]:
    p = plan(_spec(mode, version, mq))
    return p, releases(p, CTX)


COMBOS = list(_combos())
IDS = [f"{m}-{v}-{q}" for m, v, q in COMBOS]


def test_the_spec_allows_what_the_values_cover():
    # 2 non-HA modes x (2.4, 2.5: pulsar/kafka; 2.6: +woodpecker) + HA x (2.5: 2, 2.6: 3).
    assert len(COMBOS) == 2 * (2 + 2 + 3) + (2 + 3)
    assert not any(m is Mode.MULTI_ZONE_HA and v == "2.4" for m, v, _ in COMBOS)


# ---- every key path exists in the pinned chart or its subchart -------------------------------------

# bitnami etcd 6.3.3 (requirements.yaml of 4.2.25 and 4.2.58) is not in the reference folder. The
# keys below were read from its values.yaml (stored copy: NVIDIA/GenerativeAIExamples,
# deploy/helm/charts/milvus/charts/etcd/values.yaml, Chart.yaml version 6.3.3); it has no
# topologySpreadConstraints, which is why the values use a required podAntiAffinity.
ETCD_6_3_3 = {
    "replicaCount": 1,
    "affinity": {},
    "nodeSelector": {},
    "tolerations": [],
    "persistence": {"enabled": True, "storageClass": "", "size": "8Gi"},
    "pdb": {"create": False, "minAvailable": 1, "maxUnavailable": ""},
}

# Keys the pulsar 3.3.0 templates read but its values.yaml lists only as comments ("# nodeSelector:").
COMMENTED = {
    "pulsar-3.3.0": {
        "zookeeper.nodeSelector",
        "bookkeeper.nodeSelector",
        "broker.nodeSelector",
        "proxy.nodeSelector",
        "autorecovery.nodeSelector",
        "autorecovery.tolerations",
        "zookeeper.volumes.data.storageClassName",
        "bookkeeper.volumes.journal.storageClassName",
        "bookkeeper.volumes.ledgers.storageClassName",
    }
}
# Maps the charts pass through toYaml as they are (Kubernetes validates what is inside them: the
# rendering tests check every rendered object against the real schemas).
FREE_FORM = {"nodeSelector", "annotations", "labels", "extraConfigFiles", "podLabels", "resources", "configData",
             "securityContext", "containerSecurityContext", "podSecurityContext"}
CHART_ARCHIVES = REFERENCE / "charts"


@functools.cache
def _archived_subchart_values(chart: str, sub: str) -> dict | None:
    """values.yaml of a subchart inside the real chart archive (milvus-<chart>.tgz), where it is."""
    import io
    import tarfile

    path = CHART_ARCHIVES / f"milvus-{chart}.tgz"
    if not path.is_file():
        return None
    with tarfile.open(path) as outer:
        member = outer.extractfile(f"milvus/charts/{sub}.tgz")
        if member is None:
            return None
        with tarfile.open(fileobj=io.BytesIO(member.read())) as inner:
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            names = inner.getnames()
            top = next(n for n in names if n.count("/") == 1 and n.endswith("/values.yaml"))
            values = yaml.load(inner.extractfile(top).read(), Loader=loader)
            # Nested subcharts (kafka's zookeeper): their values sit under their name.
            for n in names:
                parts = n.split("/")
                if len(parts) == 4 and parts[1] == "charts" and parts[3] == "values.yaml":
                    values[parts[2]] = _merge(yaml.load(inner.extractfile(n).read(), Loader=loader),
                                              values.get(parts[2]) or {})
            return values


@functools.cache
def _load(path: Path) -> Any:
    # The C loader where PyYAML has it: these files are large and read by several tests.
    return yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        return {**base, **{k: _merge(base.get(k), v) for k, v in over.items()}}
    return over if over is not None else base


@functools.cache
def _reference(chart: str) -> tuple[dict, dict[str, str]]:
    """The chart's values with each enabled subchart's values merged under its alias; alias -> subchart."""
    values = _merge(_load(REFERENCE / chart / "values.yaml"), {})
    deps = _load(REFERENCE / chart / "requirements.yaml")["dependencies"]
    sources: dict[str, str] = {}
    for dep in deps:
        alias = dep.get("alias", dep["name"])
        sub = f"{dep['name']}-{dep['version']}"
        path = REFERENCE / "5.0.19" / "subcharts" / f"{sub}-values.yaml"
        archived = _archived_subchart_values(chart, sub)
        if archived is not None:
            values[alias] = _merge(archived, values.get(alias) or {})
            sources[alias] = sub
        elif path.is_file():
            values[alias] = _merge(_load(path), values.get(alias) or {})
            sources[alias] = sub
        elif sub == "etcd-6.3.3":
            values[alias] = _merge(ETCD_6_3_3, values.get(alias) or {})
            sources[alias] = sub
    return values, sources


def _unknown(values: dict, ref: Any, path: tuple[str, ...] = ()) -> Iterator[str]:
    for key, value in values.items():
        p = (*path, key)
        if not isinstance(ref, dict) or key not in ref:
            yield ".".join(p)
            continue
        r = ref[key]
        if key in FREE_FORM or r is None or r == {}:
            continue  # a free-form map (or a null placeholder): whatever is set below it is data
        if isinstance(value, dict):
            if not isinstance(r, dict):
                yield ".".join(p) + " (a map where the chart has a scalar)"
            else:
                yield from _unknown(value, r, p)


def _commented_ok(chart: str, dotted: str) -> bool:
    _, sources = _reference(chart)
    alias, _, rest = dotted.partition(".")
    sub = sources.get(alias)
    if sub is None or rest not in COMMENTED.get(sub, set()):
        return False
    text = (REFERENCE / "5.0.19" / "subcharts" / f"{sub}-values.yaml").read_text()
    return re.search(rf"^\s*#\s*{re.escape(rest.rsplit('.', 1)[-1])}:", text, re.M) is not None


@needs_reference
@pytest.mark.parametrize("combo", COMBOS, ids=IDS)
def test_every_key_exists_in_the_pinned_chart(combo):
    p, specs = _build(*combo)
    ref, _ = _reference(p.chart.chart_version)
    for spec in specs:
        missing = [k for k in _unknown(spec.values, ref) if not _commented_ok(p.chart.chart_version, k)]
        assert not missing, f"{spec.name}: keys not in chart {p.chart.chart_version}: {missing}"


@needs_reference
def test_key_check_catches_an_invented_key():
    ref, _ = _reference("5.0.19")
    # streamingNode has no topologySpreadConstraints key in 5.0.19 (the brief's warning).
    assert list(_unknown({"streamingNode": {"topologySpreadConstraints": []}}, ref)) == [
        "streamingNode.topologySpreadConstraints"
    ]
    assert list(_unknown({"etcd": {"pdb": {"minAvailabel": 2}}}, ref)) == ["etcd.pdb.minAvailabel"]
    assert not _commented_ok("5.0.19", "pulsarv3.zookeeper.tolerationz")


@needs_reference
def test_chart_facts_match_the_reference():
    for chart, facts in CHART_FACTS.items():
        values = _load(REFERENCE / chart / "values.yaml")
        deps = {d.get("alias", d["name"]): d["version"] for d in _load(REFERENCE / chart / "requirements.yaml")["dependencies"]}
        assert deps["etcd"] == facts.etcd_chart
        assert values[facts.pulsar_key]["enabled"] is True, "the Pulsar the chart enables by default"
        assert ("replicaResourceGroups" in values) == facts.replica_resource_groups
        assert ("topologySpreadConstraints" in values["proxy"]) == facts.component_spread
        assert "topologySpreadConstraints" not in values["streamingNode"]


@needs_reference
def test_etcd_env_restates_the_chart_defaults():
    for chart in CHART_FACTS:
        defaults = _load(REFERENCE / chart / "values.yaml")["etcd"]["extraEnvVars"]
        assert [(e["name"], e["value"]) for e in defaults] == list(ETCD_CHART_ENV)


@needs_reference
def test_kafka_env_restates_the_chart_defaults():
    for chart in CHART_FACTS:
        defaults = _load(REFERENCE / chart / "values.yaml")["kafka"]["extraEnvVars"]
        assert [(e["name"], e["value"]) for e in defaults] == list(KAFKA_CHART_ENV)


# ---- behaviour ------------------------------------------------------------------------------------


def _keys(node: Any, path: str = "") -> Iterator[str]:
    """Dotted path of every mapping key in a values tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield f"{path}.{k}"
            yield from _keys(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _keys(v, f"{path}[{i}]")


def _user_config(spec: ReleaseSpec) -> dict:
    return yaml.safe_load(spec.values["extraConfigFiles"]["user.yaml"])


# Whole-key match: secretKeyRef (a reference, which is the point) must not count as a secret.
SECRET_KEY = re.compile(r"access_?key(_?id)?|secret_?(access_?)?key|\w*password\w*", re.I)


@pytest.mark.parametrize("combo", COMBOS, ids=IDS)
def test_no_credentials_in_values(combo):
    _, specs = _build(*combo)
    for spec in specs:
        for tree in (spec.values, _user_config(spec)):
            keys = [k for k in _keys(tree) if SECRET_KEY.fullmatch(k.rsplit(".", 1)[-1])]
            assert not keys, f"{spec.name}: credential-like keys {keys}"
        text = json.dumps(spec.values)
        assert "defaultRootPassword" not in text
        env = spec.values["mixCoordinator"]["extraEnv"]
        assert env == [{"name": ROOT_PASSWORD_ENV, "valueFrom": {"secretKeyRef": {"name": CTX.password_secret, "key": "password"}}}]


@pytest.mark.parametrize("combo", COMBOS, ids=IDS)
def test_object_storage_rrsa_and_authorization(combo):
    p, specs = _build(*combo)
    for spec in specs:
        v = spec.values
        assert v["minio"] == {"enabled": False}
        s3 = v["externalS3"]
        assert (s3["enabled"], s3["host"], s3["port"], s3["useSSL"]) == (True, CTX.oss_endpoint, 443, True)
        assert (s3["bucketName"], s3["rootPath"], s3["region"]) == (p.bucket.name, p.bucket.root_path, p.region)
        assert (s3["cloudProvider"], s3["useIAM"], s3["useVirtualHost"]) == ("aliyun", True, True)
        assert _user_config(spec)["common"]["security"]["authorizationEnabled"] is True
        assert v["labels"][MODE_TAG] == str(p.mode)
        assert v["cluster"]["enabled"] is True
    first = specs[0].values["serviceAccount"]
    assert first == {"create": True, "name": "milvus", "annotations": {RRSA_ROLE_ANNOTATION: CTX.role_name}}
    for spec in specs[1:]:
        assert spec.values["serviceAccount"] == {"create": False, "name": "milvus"}


@pytest.mark.parametrize("combo", COMBOS, ids=IDS)
def test_etcd_quorum_members_spread_hard(combo):
    p, specs = _build(*combo)
    etcd = specs[0].values["etcd"]
    assert etcd["enabled"] is True and etcd["replicaCount"] == 3
    assert etcd["pdb"] == {"create": True, "minAvailable": 2}
    assert etcd["persistence"] == {"enabled": True, "storageClass": CTX.storage_class, "size": f"{p.etcd.volume_size_gi}Gi"}
    key = ZONE_LABEL if p.mode.multi_zone else "kubernetes.io/hostname"
    members = {"app.kubernetes.io/name": "etcd", "app.kubernetes.io/instance": specs[0].name}
    assert etcd["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == [
        {"labelSelector": {"matchLabels": members}, "topologyKey": key}
    ]
    if p.chart.chart_version == "5.0.19":
        [c] = etcd["topologySpreadConstraints"]
        assert (c["topologyKey"], c["maxSkew"], c["whenUnsatisfiable"]) == (key, 1, "DoNotSchedule")
    else:
        assert "topologySpreadConstraints" not in etcd  # not a key of bitnami etcd 6.3.3
    assert etcd["tolerations"] == [{"key": "milvus-zones/role", "operator": "Equal", "value": "quorum", "effect": "NoSchedule"}]
    for pool in p.pools(Role.QUORUM):
        assert etcd["nodeSelector"].items() <= pool.labels.items()
    for spec in specs[1:]:
        assert spec.values["etcd"] == {"enabled": False}


@pytest.mark.parametrize("combo", COMBOS, ids=IDS)
def test_message_service(combo):
    p, specs = _build(*combo)
    v = specs[0].values
    kind = p.message_service.kind
    key = ZONE_LABEL if p.mode.multi_zone else "kubernetes.io/hostname"
    enabled = {k for k in ("pulsar", "pulsarv3", "kafka") if v[k]["enabled"]}
    patches = json.loads(v.get("annotations", {}).get(ANN_WORKLOAD_PATCHES, "[]"))
    if kind is MessageService.WOODPECKER:
        assert not enabled
        assert v["streaming"]["woodpecker"] == {"embedded": True, "storage": {"type": "minio"}}
        assert _user_config(specs[0])["mq"] == {"type": "woodpecker"}
    elif kind is MessageService.PULSAR and p.chart.chart_version == "4.2.25":
        assert enabled == {"pulsar"}
        members = [x for x in patches if x["kind"] == "StatefulSet"]
        assert {x["matchLabels"]["component"] for x in members} == {"zookeeper", "bookie", "broker", "proxy"}
        for x in members:
            assert x["spreadTopologyKey"] == key and x["nodeSelector"] == p.message_service.node_selector
        # The init Jobs where the quorum pools keep room for them (sizing.PULSAR_INIT_PODS).
        jobs = [x for x in patches if x["kind"] == "Job"]
        assert {x["matchLabels"]["component"] for x in jobs} == {"bookie-init", "pulsar-init"}
        assert all(x["nodeSelector"] == p.message_service.node_selector for x in jobs)
        assert all(v["pulsar"][c]["replicaCount"] == 3 for c in ("bookkeeper", "broker", "proxy"))
    elif kind is MessageService.PULSAR:
        assert enabled == {"pulsarv3"}
        for c in ("zookeeper", "bookkeeper", "broker", "proxy"):
            member = v["pulsarv3"][c]
            assert member["replicaCount"] == 3
            assert member["affinity"] == {"anti_affinity": True, "anti_affinity_topology_key": key, "type": "requiredDuringSchedulingIgnoredDuringExecution"}
            assert member["nodeSelector"] == p.message_service.node_selector
        assert v["pulsarv3"]["affinity"]["anti_affinity"] is True
        assert v["pulsarv3"]["bookkeeper"]["volumes"]["ledgers"]["storageClassName"] == CTX.storage_class
    else:
        assert enabled == {"kafka"}
        kafka = v["kafka"]
        assert kafka["replicaCount"] == 3 and kafka["persistence"]["enabled"] is True
        [term] = kafka["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert term["topologyKey"] == key
        assert {"name": "KAFKA_CFG_MIN_INSYNC_REPLICAS", "value": "2"} in kafka["extraEnvVars"]
        [zk] = patches
        assert zk["matchLabels"]["app.kubernetes.io/name"] == "zookeeper" and zk["spreadTopologyKey"] == key
    if p.chart.chart_version == "5.0.19":
        assert v["streaming"]["enabled"] is True


@pytest.mark.parametrize("combo", COMBOS, ids=IDS)
def test_components_follow_the_plan(combo):
    p, specs = _build(*combo)
    if len(specs) > 1:
        return  # Option A splits components per release: see its own test
    v = specs[0].values
    for c in p.components:
        got = v[c.name]
        assert got["replicas"] == c.replicas and got["nodeSelector"] == c.node_selector
        assert got.get("activeStandby", {}).get("enabled", False) == c.active_standby
        spread = got.get("topologySpreadConstraints")
        if c.zone_spread:
            [s] = spread
            assert (s["topologyKey"], s["whenUnsatisfiable"], s["maxSkew"]) == (ZONE_LABEL, "DoNotSchedule", 1)
        else:
            assert spread is None
        for pool in p.pools(Role.COMPUTE):
            assert got["nodeSelector"].items() <= pool.labels.items()


def _ha(version: str, mq: MessageService) -> tuple[TopologyPlan, list[ReleaseSpec]]:
    return _build(Mode.MULTI_ZONE_HA, version, mq)


@pytest.mark.parametrize("mq", [MessageService.WOODPECKER, MessageService.PULSAR, MessageService.KAFKA])
def test_ha_26_option_b_groups_and_pinning(mq):
    p, [spec] = _ha("2.6", mq)
    v = spec.values
    assert spec.postrender
    assert v["replicaResourceGroups"] == [rg.name for rg in p.resource_groups] == ["rgh", "rgi"]
    assert p.resource_groups[0].zone == p.compute_zones[0], "primary group first"
    assert v["queryNode"]["hpa"] == {"enabled": False}
    mapping = json.loads(v["annotations"][ANN_RG_SELECTORS])
    assert list(mapping) == ["rgh", "rgi"]
    for rg in p.resource_groups:
        pool = p.pool(rg.pool)
        assert pool.zones == (rg.zone,) and mapping[rg.name] == pool.selector
        assert v["queryNode"]["nodeSelector"].items() <= pool.labels.items()
    assert v["queryNode"]["replicas"] == p.resource_groups[0].query_nodes
    assert v["streamingNode"]["replicas"] == p.resource_groups[0].streaming_nodes


@pytest.mark.parametrize("mq", [MessageService.PULSAR, MessageService.KAFKA])
def test_ha_25_option_a_two_releases_one_cluster(mq):
    p, specs = _ha("2.5", mq)
    assert [s.name for s in specs] == ["milvus", "milvus-i"]
    full, standby = (s.values for s in specs)
    assert _user_config(specs[0]) == _user_config(specs[1])
    config = _user_config(specs[0])
    assert config["etcd"]["rootPath"] == config["msgChannel"]["chanNamePrefix"]["cluster"] == p.name
    assert config["queryCoord"] == {"clusterLevelLoadReplicaNumber": 2, "clusterLevelLoadResourceGroups": ["rgh", "rgi"]}
    assert full["externalS3"] == standby["externalS3"]
    assert standby["externalEtcd"] == {"enabled": True, "endpoints": ["milvus-etcd:2379"]}
    assert not any(standby[k]["enabled"] for k in ("pulsar", "pulsarv3", "kafka"))
    if mq is MessageService.PULSAR:
        assert standby["externalPulsar"]["host"] == "milvus-pulsarv3-proxy"
    else:
        assert standby["externalKafka"]["brokerList"] == "milvus-kafka:9092"
    for values, rg in zip((full, standby), p.resource_groups, strict=True):
        pool = p.pool(rg.pool)
        assert values["labels"][CLUSTER_LABEL] == p.name
        assert values["mixCoordinator"]["activeStandby"] == {"enabled": True}
        assert values["queryNode"]["extraEnv"] == [{"name": "MILVUS_SERVER_LABEL_AZ", "value": rg.zone}]
        for c in ("proxy", "mixCoordinator", "dataNode", "indexNode", "queryNode"):
            assert values[c]["nodeSelector"].items() <= pool.labels.items()
            assert values[c]["nodeSelector"].items() >= pool.selector.items()
        assert values["queryNode"]["replicas"] == rg.query_nodes
    for c in p.components:
        assert full[c.name]["replicas"] + standby[c.name]["replicas"] == c.replicas
    selector = json.loads(full["service"]["annotations"][ANN_SERVICE_SELECTOR])
    assert selector == {"app.kubernetes.io/name": "milvus", "component": "proxy", CLUSTER_LABEL: p.name}
    assert standby["service"] == {"type": "ClusterIP"}
    assert specs[0].postrender and specs[1].postrender  # every release is hardened by the post-renderer
    groups = resource_group_configs(p)
    assert groups["rgh"]["node_filter"] == {"node_labels": {"AZ": "cn-hangzhou-h"}}


@pytest.mark.parametrize("combo", COMBOS, ids=IDS)
def test_proxy_service(combo):
    p, specs = _build(*combo)
    service = specs[0].values["service"]
    if p.mode is not Mode.MULTI_ZONE_HA:
        assert service == {"type": "ClusterIP"}
        # The post-renderer runs for every release: it hardens what no chart key reaches.
        assert specs[0].postrender and ANN_HARDENING in specs[0].values["annotations"]
        return
    assert service["type"] == "LoadBalancer"
    assert service["loadBalancerSourceRanges"] == [CTX.vpc_cidr]
    ann = service["annotations"]
    assert ann[ANN_LB_CLASS] == NLB_CLASS
    assert ann["service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type"] == "intranet"
    assert ann[ANN_ZONE_MAPS] == "cn-hangzhou-h:vsw-h,cn-hangzhou-i:vsw-i"


def test_missing_vswitch_for_a_compute_zone_is_an_error():
    p, _ = _ha("2.6", MessageService.WOODPECKER)
    ctx = ReleaseContext(**{**CTX.__dict__, "lb_vswitch_ids": {"cn-hangzhou-h": "vsw-h"}})
    with pytest.raises(ValueError, match="cn-hangzhou-i"):
        releases(p, ctx)


def test_values_are_deterministic():
    for combo in COMBOS:
        p = plan(_spec(*combo))
        assert [s.values for s in releases(p, CTX)] == [s.values for s in _build(*combo)[1]]


def test_fullname_follows_the_chart_rule():
    assert ReleaseSpec("milvus", "milvus", "5.0.19", "r", {}, False).fullname == "milvus"
    assert ReleaseSpec("prod", "milvus", "5.0.19", "r", {}, False).fullname == "prod-milvus"


# Image keys of subcharts whose values are not in the reference folder, read in the chart archives
# (shared/reference/milvus-helm/charts): etcd-6.3.3 values.yaml `image.registry` (4.2.x), and
# kafka-15.5.1's zookeeper subchart values.yaml `image.registry` (rendered by common.images.image).
# tests/rendering renders them with a registry set and checks every image.
IMAGE_KEYS_IN_ARCHIVES = {"etcd.image.registry", "kafka.zookeeper.image", "kafka.zookeeper.image.registry"}


@needs_reference
@pytest.mark.parametrize("combo", COMBOS, ids=IDS)
def test_image_registry_keys_exist_in_the_pinned_chart(combo):
    # imageRegistry moves every image through the chart's (or subchart's) own image keys.
    spec = _spec(*combo).model_copy(update={"image_registry": "registry.example.com/mirror"})
    p = plan(spec)
    ref, _ = _reference(p.chart.chart_version)
    for release in releases(p, CTX):
        missing = [k for k in _unknown(release.values, ref)
                   if not _commented_ok(p.chart.chart_version, k) and k not in IMAGE_KEYS_IN_ARCHIVES]
        assert not missing, f"{release.name}: keys not in chart {p.chart.chart_version}: {missing}"
        assert release.values["image"]["all"]["repository"] == "registry.example.com/mirror/milvusdb/milvus"


@needs_reference
@pytest.mark.parametrize("combo", COMBOS, ids=IDS)
def test_image_digest_keys_exist_in_the_pinned_chart(combo):
    # imageDigests pins every image through the chart's (or subchart's) own `tag` keys.
    spec = _spec(*combo)
    digests = {i.name: "sha256:" + "c" * 64 for i in spec.images}
    p = plan(spec.model_copy(update={"image_digests": digests}))
    ref, _ = _reference(p.chart.chart_version)
    for release in releases(p, CTX):
        missing = [k for k in _unknown(release.values, ref)
                   if not _commented_ok(p.chart.chart_version, k) and k not in IMAGE_KEYS_IN_ARCHIVES]
        assert not missing, f"{release.name}: keys not in chart {p.chart.chart_version}: {missing}"
        assert release.values["image"]["all"]["tag"].endswith("@sha256:" + "c" * 64)
