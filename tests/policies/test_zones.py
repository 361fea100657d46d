"""Zone rules per mode: compute-zone-count, control-plane-multi-zone, metadata-spans-three-zones,
message-service-spans-three-zones, object-storage-zone-redundant."""

from __future__ import annotations

import copy
import json

import pytest
from support.policytest import (
    MANAGED,
    check,
    edited,
    graph,
    messages,
    resource,
    skipped,
    violated,
    without,
)

ZONE_RULES = {"compute-zone-count", "control-plane-multi-zone", "metadata-spans-three-zones",
              "message-service-spans-three-zones", "object-storage-zone-redundant"}


@pytest.mark.parametrize("stack", ["single-compliant", "basic-compliant", "ha-compliant"])
def test_compliant_modes_pass(stack):
    assert not violated(check(graph(stack)), None) & ZONE_RULES


def test_single_zone_skips_the_three_zone_rules():
    assert ZONE_RULES - {"compute-zone-count"} <= skipped(check(graph("single-compliant")))


def _switches(g, names, resource_name, prop="vswitchIds"):
    """A copy of g where `resource_name` lists the Switches `names` in `prop` (ids and dependencies)."""
    urns = [resource(g, n, "Switch").urn for n in names]
    g = edited(g, resource_name, lambda p: p.__setitem__(prop, [f"{n}-id" for n in names]))
    resource(g, resource_name).property_dependencies[prop] = urns
    return g


def _values(g, change, name="milvus"):
    return edited(g, name, lambda p: change(p["values"]), "Release")


# -- compute-zone-count ------------------------------------------------------------------------------

def test_basic_with_compute_in_one_zone_violates():
    report = check(_switches(graph("basic-compliant"), ["node-h"], "compute-hi"))
    assert violated(report) == {"compute-zone-count"}
    assert "multi-zone-basic puts compute in 2 zone(s)" in messages(report, "compute-zone-count")[0]


def test_a_vswitch_outside_the_stack_cannot_be_checked():
    g = edited(graph("basic-compliant"), "compute-hi", lambda p: p["vswitchIds"].append("vsw-preexisting"))
    assert any("not Switch resources of this stack" in m for m in messages(check(g), "compute-zone-count"))


# -- control-plane-multi-zone -----------------------------------------------------------------------

def test_control_plane_in_two_zones_violates():
    report = check(_switches(graph("ha-compliant"), ["node-h", "node-i"], "ack"))
    assert violated(report) == {"control-plane-multi-zone"}
    assert "2 zone(s) (cn-hangzhou-h, cn-hangzhou-i)" in messages(report, "control-plane-multi-zone")[0]


def test_deprecated_worker_vswitch_ids_are_read():
    # pulumi-alicloud 4 still accepts worker_vswitch_ids on cs.ManagedKubernetes (deprecated since 1.241.0).
    assert "workerVswitchIds" in resource(graph("ha-worker-vswitches"), "ack").inputs
    assert not violated(check(graph("ha-worker-vswitches")), None)
    report = check(graph("ha-worker-vswitches-two-zones"))
    assert violated(report) == {"control-plane-multi-zone"}
    assert ("cluster ack has vSwitches (workerVswitchIds) in 2 zone(s) (cn-hangzhou-h, cn-hangzhou-i)"
            in messages(report, "control-plane-multi-zone")[0])


# -- metadata-spans-three-zones ----------------------------------------------------------------------

def test_etcd_in_two_zones_violates():
    report = check(graph("basic-etcd-two-zones"))
    assert violated(report) == {"metadata-spans-three-zones"}
    assert "nodes in 2 zone(s)" in messages(report, "metadata-spans-three-zones")[0]


def test_even_etcd_member_count_violates():
    g = _values(graph("ha-compliant"), lambda v: v["etcd"].__setitem__("replicaCount", 4))
    assert "etcd has 4 member(s)" in messages(check(g), "metadata-spans-three-zones")[0]


def test_soft_zone_spread_violates():
    def soft(v):
        v["etcd"]["topologySpreadConstraints"][0]["whenUnsatisfiable"] = "ScheduleAnyway"

    assert "soft" in messages(check(_values(graph("ha-compliant"), soft)), "metadata-spans-three-zones")[0]


def test_required_zone_anti_affinity_is_a_hard_rule_too():
    def anti_affinity(v):
        v["etcd"].pop("topologySpreadConstraints")
        v["etcd"]["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": "topology.kubernetes.io/zone",
             "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "etcd"}}}]}}

    assert "metadata-spans-three-zones" not in violated(check(_values(graph("ha-compliant"), anti_affinity)))


def test_etcd_that_tolerates_no_quorum_taint_has_no_nodes():
    g = _values(graph("ha-compliant"), lambda v: v["etcd"].pop("tolerations"))
    assert "nodes in 0 zone(s)" in messages(check(g), "metadata-spans-three-zones")[0]


# etcd run on its own in the stack, named by externalEtcd.endpoints (Kubernetes DNS names)

@pytest.mark.parametrize("endpoint,names", [
    ("etcd:2379", [("etcd", "milvus")]),
    ("http://etcd.data:2379", [("etcd", "data"), ("data", "milvus")]),  # svc.ns, or pod.svc via the search path
    ("etcd.data.svc:2379", [("etcd", "data")]),
    ("etcd-0.etcd-headless.data.svc.cluster.local:2379", [("etcd-headless", "data")]),
    ("10.0.3.4:2379", []), ("[fd00::1]:2379", []), ("etcd.example.com:2379", []),
])
def test_endpoints_are_read_as_kubernetes_dns_names(endpoint, names):
    from milvus_zones_policies.model.deployment import _host_candidates

    assert _host_candidates(endpoint, "milvus") == names


@pytest.mark.parametrize("stack", ["ha-etcd-release", "ha-etcd-statefulset"])
def test_etcd_of_the_stack_named_by_external_endpoints_is_judged_like_the_charts(stack):
    g = graph(stack)
    assert resource(g, "milvus", "Release").inputs["values"]["etcd"] == {"enabled": False}
    assert not violated(check(g), None)
    from milvus_zones.analysis import failures

    r = failures.report(g, with_contributions=False)
    assert {s.zone: (s.etcd["members"], s.etcd["quorum_kept"]) for s in r.scenarios} == {
        z: (3, True) for z in ("cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j")}


def test_a_soft_spread_etcd_release_violates_on_the_release():
    report = check(graph("ha-etcd-release-soft-spread"))
    assert violated(report) == {"metadata-spans-three-zones"}
    (v,) = report.mandatory_violations
    assert v.resource_name == "etcd" and "Helm release etcd (chart etcd)" in v.message
    assert "soft" in v.message


def test_an_etcd_statefulset_without_pdb_and_two_members_violates():
    report = check(graph("ha-etcd-statefulset-no-pdb"))
    assert violated(report) == {"metadata-spans-three-zones", "etcd-persistent-with-pdb"}
    assert "etcd has 2 member(s)" in messages(report, "metadata-spans-three-zones")[0]
    assert "StatefulSet etcd (milvus/etcd), Milvus' etcd, has no PodDisruptionBudget" in \
        messages(report, "etcd-persistent-with-pdb")[0]


def test_an_endpoint_that_names_nothing_in_the_stack_stays_external():
    g = edited(graph("ha-etcd-statefulset"), "milvus",
               lambda p: p["values"]["externalEtcd"].__setitem__("endpoints", ["etcd.other.svc:2379"]), "Release")
    assert "outside the stack" in messages(check(g), "metadata-spans-three-zones")[0]
    # An address is never resolved either.
    g = edited(graph("ha-etcd-statefulset"), "milvus",
               lambda p: p["values"]["externalEtcd"].__setitem__("endpoints", ["10.0.3.4:2379"]), "Release")
    assert "outside the stack" in messages(check(g), "metadata-spans-three-zones")[0]


def test_kafka_statefulset_of_the_stack_is_judged_like_the_charts():
    assert not violated(check(graph("ha-kafka-statefulset")), None)
    g = edited(graph("ha-kafka-statefulset"), "kafka", lambda p: p["spec"].__setitem__("replicas", 1), "StatefulSet")
    msgs = messages(check(g), "message-service-spans-three-zones")
    assert any("its message service, StatefulSet kafka (milvus/kafka), has 1 replica(s)" in m for m in msgs)



# Pulsar run on its own in the stack (the apache chart, or its StatefulSets), named by externalPulsar.host

@pytest.mark.parametrize("stack,what", [
    ("ha-pulsar-release", "Helm release pulsar (chart pulsar)"),
    ("ha-pulsar-statefulset", "Pulsar StatefulSets of release pulsar (milvus)"),
])
def test_pulsar_of_the_stack_named_by_external_pulsar_is_judged_like_the_charts(stack, what):
    from milvus_zones_policies.model.deployment import Topology
    from milvus_zones_policies.model.resources import from_graph

    from milvus_zones.analysis import failures

    g = graph(stack)
    assert resource(g, "milvus", "Release").inputs["values"]["pulsarv3"] == {"enabled": False}
    assert not violated(check(g), None)
    topology = Topology(from_graph(g))
    (rel,) = topology.releases
    pulsar = topology.pulsar_of(rel, "externalPulsar")
    assert pulsar is not None and pulsar.what == what
    assert [(p.part, p.replicas, p.at_most_one_per_zone) for p in pulsar.parts] == [
        ("zookeeper", 3, True), ("bookkeeper", 3, True), ("broker", 3, True)]
    r = failures.report(g, with_contributions=False)
    assert {s.zone: (s.wal["members"], s.wal["quorum_kept"], s.wal["durable"]) for s in r.scenarios} == {
        z: (3, True, True) for z in ("cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j")}


def test_a_pulsar_release_held_apart_by_host_violates_on_the_release():
    report = check(graph("ha-pulsar-release-by-host"))
    assert violated(report, None) == {"message-service-spans-three-zones", "ha-failover-within-rto"}
    msgs = messages(report, "message-service-spans-three-zones")
    assert [m.split(" is not held")[0] for m in msgs] == [
        f"Milvus release milvus: its message service, Helm release pulsar (chart pulsar), {p}"
        for p in ("zookeeper", "bookkeeper", "broker")]
    assert {v.resource_name for v in report.violations if v.policy == "message-service-spans-three-zones"} == {"pulsar"}


def test_pulsar_statefulsets_with_two_bookies_violate_on_the_bookies():
    report = check(graph("ha-pulsar-statefulset-two-bookies"))
    assert violated(report, None) == {"message-service-spans-three-zones", "ha-failover-within-rto"}
    (v,) = [v for v in report.violations if v.policy == "message-service-spans-three-zones"]
    assert v.resource_name == "pulsar-bookie"
    assert v.message == ("Milvus release milvus: its message service, Pulsar StatefulSets of release pulsar (milvus), "
                         "bookkeeper (StatefulSet pulsar-bookie) has 2 replica(s); use at least 3.")



def test_pulsar_statefulsets_without_zookeeper_cannot_be_checked():
    msgs = messages(check(without(graph("ha-pulsar-statefulset"), "pulsar-zookeeper")),
                    "message-service-spans-three-zones")
    assert msgs == ["Milvus release milvus: its message service, Pulsar StatefulSets of release pulsar (milvus), has "
                    "no zookeeper StatefulSet (component zookeeper) in the stack, so its zones cannot be checked."]

@pytest.mark.parametrize("host,found", [
    ("pulsar-broker", True), ("pulsar-broker.milvus", True), ("pulsar-proxy.milvus.svc", True),
    ("pulsar-broker.milvus.svc.cluster.local", True), ("pulsar-broker.other.svc", False), ("10.0.3.4", False),
])
def test_external_pulsar_host_is_read_as_a_kubernetes_dns_name(host, found):
    g = edited(graph("ha-pulsar-release"), "milvus",
               lambda p: p["values"]["externalPulsar"].__setitem__("host", host), "Release")
    msgs = messages(check(g), "message-service-spans-three-zones")
    assert msgs == ([] if found else [
        "Milvus release milvus uses externalPulsar, outside the stack, whose zones cannot be checked; run the "
        "message service in the chart, use Woodpecker, or set this policy's allowExternal."])


def test_a_pulsar_release_gets_the_apache_charts_defaults():
    # pulsar 3.3.0 values.yaml: 4 bookies, anti-affinity by host (the broker's preferred only), quorums 1.
    from milvus_zones_policies.model.deployment import Topology
    from milvus_zones_policies.model.resources import from_graph

    def defaults(p):
        p["values"] = {"components": p["values"]["components"]}

    g = edited(graph("ha-pulsar-release"), "pulsar", defaults, "Release")
    topology = Topology(from_graph(g))
    (rel,) = topology.releases
    pulsar = topology.pulsar_of(rel, "externalPulsar")
    assert [(p.part, p.replicas, p.one_per_zone[0]) for p in pulsar.parts] == [
        ("zookeeper", 3, False), ("bookkeeper", 4, False), ("broker", 3, False)]
    assert (pulsar.write_quorum, pulsar.ack_quorum) == (1, 1)
    # Each part: not held one per zone, and without tolerations only the untainted compute pools (2 zones).
    where = "Milvus release milvus: its message service, Helm release pulsar (chart pulsar),"
    heads = [f"{where} {p} " + ("is not held one per zone" if i % 2 == 0 else
                                "can run on nodes in 2 zone(s) (cn-hangzhou-h, cn-hangzhou-i)")
             for p in ("zookeeper", "bookkeeper", "broker") for i in range(2)]
    msgs = messages(check(g), "message-service-spans-three-zones")
    assert len(msgs) == len(heads) and all(m.startswith(h) for m, h in zip(msgs, heads, strict=True))


def test_external_etcd_is_not_verifiable_unless_allowed(tmp_path):
    g = _values(graph("ha-compliant"), lambda v: v.__setitem__("externalEtcd", {
        "enabled": True, "endpoints": ["etcd.example.internal:2379"]}))
    assert "outside the stack" in messages(check(g), "metadata-spans-three-zones")[0]
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"metadata-spans-three-zones": {"allowExternal": True}}))
    assert "metadata-spans-three-zones" not in violated(check(g, config))


# -- message-service-spans-three-zones ---------------------------------------------------------------

def _pulsar(change):
    return _values(graph("basic-compliant"), lambda v: change(v["pulsarv3"]))


def test_pulsar_spread_over_three_zones_passes():
    report = check(graph("basic-compliant"))
    assert "message-service-spans-three-zones" not in violated(report) | skipped(report)


def test_pulsar_anti_affinity_on_hosts_violates():
    def by_host(p):
        p["bookkeeper"] = {**p["bookkeeper"], "affinity": {**p["bookkeeper"]["affinity"],
                                                         "anti_affinity_topology_key": "kubernetes.io/hostname"}}

    msgs = messages(check(_pulsar(by_host)), "message-service-spans-three-zones")
    assert len(msgs) == 1 and "pulsarv3.bookkeeper is not held one per zone" in msgs[0]


def test_more_bookies_than_zones_never_schedule_one_per_zone():
    msgs = messages(check(_pulsar(lambda p: p["bookkeeper"].__setitem__("replicaCount", 4))),
                    "message-service-spans-three-zones")
    assert len(msgs) == 1 and "4 replicas under a one-per-zone rule" in msgs[0]


def test_pulsar_global_anti_affinity_switch_off_violates():
    # The apache chart applies a component's anti-affinity only when the global switch is on too.
    msgs = messages(check(_pulsar(lambda p: p.__setitem__("affinity", {"anti_affinity": False}))),
                    "message-service-spans-three-zones")
    assert len(msgs) == 3 and all("is not held one per zone" in m for m in msgs)


def test_broker_default_replicas_of_the_milvus_chart_are_too_few():
    msgs = messages(check(_pulsar(lambda p: p["broker"].pop("replicaCount"))), "message-service-spans-three-zones")
    assert msgs == ["Milvus release milvus: pulsarv3.broker has 2 replica(s); use at least 3."]


def test_second_release_on_the_first_ones_pulsar_and_etcd_is_judged_there():
    # Two releases forming one Milvus: the second uses the first's etcd and Pulsar as "external".
    g = copy.deepcopy(graph("basic-compliant"))
    first = resource(g, "milvus", "Release")
    second = copy.deepcopy(first)
    second.name, second.urn = "milvus-b", first.urn + "-b"
    for props in (second.inputs_wire, second.outputs_wire):
        props["name"] = "milvus-b"
        props["values"].update({
            "etcd": {"enabled": False}, "externalEtcd": {"enabled": True, "endpoints": ["milvus-etcd:2379"]},
            "pulsarv3": {"enabled": False}, "externalPulsar": {"enabled": True, "host": "milvus-pulsarv3-proxy"}})
    g.resources.append(second)
    assert not violated(check(g)) & ZONE_RULES
    resource(g, "milvus", "Release").inputs_wire["name"] = "other"
    resource(g, "milvus", "Release").outputs_wire["name"] = "other"
    assert {"metadata-spans-three-zones", "message-service-spans-three-zones"} <= violated(check(g))


def _kafka(replicas):
    def change(v):
        v["pulsarv3"] = {"enabled": False}
        spread = {**v["etcd"]["topologySpreadConstraints"][0],
                  "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "kafka"}}}
        v["kafka"] = {"enabled": True, "replicaCount": replicas, "nodeSelector": v["etcd"]["nodeSelector"],
                      "tolerations": v["etcd"]["tolerations"], "topologySpreadConstraints": [spread]}
    return _values(graph("basic-compliant"), change)


def test_kafka_three_brokers_over_zones_passes_and_one_violates():
    assert "message-service-spans-three-zones" not in violated(check(_kafka(3)))
    assert "kafka has 1 replica(s)" in messages(check(_kafka(1)), "message-service-spans-three-zones")[0]


def test_woodpecker_on_an_lrs_bucket_violates():
    msgs = messages(check(graph("basic-lrs-bucket")), "message-service-spans-three-zones")
    assert len(msgs) == 1 and "bucket data, which is not ZRS" in msgs[0]


def test_woodpecker_on_local_disks_violates():
    g = _values(graph("ha-compliant"), lambda v: v["streaming"]["woodpecker"]["storage"].__setitem__("type", "local"))
    assert "local disks" in messages(check(g), "message-service-spans-three-zones")[0]


def test_external_kafka_needs_allow_external(tmp_path):
    g = _values(graph("ha-compliant"), lambda v: v.__setitem__("externalKafka", {"enabled": True,
                                                                                 "brokerList": "kafka:9092"}))
    assert "externalKafka" in messages(check(g), "message-service-spans-three-zones")[0]
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"message-service-spans-three-zones": {"allowExternal": True}}))
    assert "message-service-spans-three-zones" not in violated(check(g, config))


# -- object-storage-zone-redundant -------------------------------------------------------------------

def test_lrs_bucket_in_a_multi_zone_mode_violates():
    report = check(graph("basic-lrs-bucket"))
    assert "object-storage-zone-redundant" in violated(report)
    (v,) = [v for v in report.violations if v.policy == "object-storage-zone-redundant"]
    assert v.resource_name == "data" and "LRS" in v.message


def test_lrs_is_allowed_in_single_zone():
    assert "object-storage-zone-redundant" in skipped(check(graph("single-compliant")))


def test_in_cluster_minio_violates_in_multi_zone():
    def minio(v):
        v["externalS3"]["enabled"] = False
        v["minio"]["enabled"] = True

    report = check(_values(graph("ha-compliant"), minio))
    assert "chart's MinIO" in messages(report, "object-storage-zone-redundant")[0]


def test_managed_instance_needs_multi_az_storage():
    assert "object-storage-zone-redundant" in violated(check(graph("ha-odd-query", MANAGED)))
    assert "object-storage-zone-redundant" not in violated(check(graph("ha", MANAGED)))


def test_cross_region_needs_two_regions():
    # Move the peer's vSwitches into the primary's region: one region left.
    g = graph("xr-compliant")
    for z in "lmn":
        g = edited(g, f"peer-node-{z}", lambda p, z=z: p.__setitem__("zoneId", f"cn-hangzhou-{z}"))
    report = check(g)
    assert violated(report) == {"compute-zone-count", "cross-region-spans-two-regions"}
    assert "in 1 region(s) (cn-hangzhou)" in messages(report, "compute-zone-count")[0]


@pytest.mark.parametrize("version,held,quorums", [("4.7.0", True, (2, 2)), (None, True, (2, 2)),
                                                  ("3.3.0", False, (1, 1))])
def test_a_pulsar_release_reads_the_keys_its_chart_version_has(version, held, quorums):
    # apache/pulsar-helm-chart: <part>.topologySpreadConstraints since 3.6.0, broker quorums 2 since 4.0.0.
    from milvus_zones_policies.model.deployment import Topology
    from milvus_zones_policies.model.resources import from_graph

    def spread(p):
        if version is None:
            p.pop("version", None)
        else:
            p["version"] = version
        p["values"].pop("affinity")
        p["values"]["broker"].pop("configData")
        for part, component in (("zookeeper", "zookeeper"), ("bookkeeper", "bookie"), ("broker", "broker")):
            p["values"][part]["affinity"] = {"anti_affinity": False}
            p["values"][part]["topologySpreadConstraints"] = [{
                "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app": "pulsar", "release": "pulsar", "component": component}}}]

    g = edited(graph("ha-pulsar-release"), "pulsar", spread, "Release")
    topology = Topology(from_graph(g))
    (rel,) = topology.releases
    pulsar = topology.pulsar_of(rel, "externalPulsar")
    assert [p.one_per_zone[0] for p in pulsar.parts] == [held] * 3
    assert (pulsar.write_quorum, pulsar.ack_quorum) == quorums
    msgs = messages(check(g), "message-service-spans-three-zones")
    assert len(msgs) == (0 if held else 3) and all("is not held one per zone" in m for m in msgs)
