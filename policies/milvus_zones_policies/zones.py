"""Zone rules of each mode (the seed's table): where compute, metadata, the message service, object
storage and the Kubernetes control plane live."""

from __future__ import annotations

from pulumi_policy import PolicyConfigSchema

from ._policy import MANDATORY, mode_or_skip, releases_or_skip, stack_policy
from .mode import instance_mode
from .model.deployment import (
    CROSS_REGION_HA,
    HARD_AFFINITY,
    MULTI_ZONE_BASIC,
    MULTI_ZONE_HA,
    MULTI_ZONE_MODES,
    PULSAR_COMPONENTS,
    PULSAR_PARTS,
    SINGLE_ZONE,
    MilvusRelease,
    Placement,
    Pulsar,
    Topology,
    cluster_zones,
    hard_zone_spread,
)
from .model.external import HINT as EXTERNAL_HINT
from .model.values import as_int, dig, region_of_zone, truthy

EXPECTED_COMPUTE_ZONES = {SINGLE_ZONE: 1, MULTI_ZONE_BASIC: 2, MULTI_ZONE_HA: 2}  # per region in cross-region-ha
CROSS_REGION_MIN_REGIONS, CROSS_REGION_MIN_ZONES = 2, 3
QUORUM_ZONES = 3

_ALLOW_EXTERNAL = PolicyConfigSchema(
    properties={
        "allowExternal": {
            "type": "boolean",
            "default": False,
            "description": "Accept a service outside the stack (external endpoints) as zone-redundant "
                           "without checking it.",
        },
    },
)


def _zones(zs) -> str:
    return ", ".join(sorted(zs)) or "none"


def quorum_zones(placement: Placement, pools) -> tuple[set[str], list[str]]:
    """Distinct zones where pods with this placement surely find a node, and unresolved pools."""
    zones: set[str] = set()
    problems: list[str] = []
    for pool in pools:
        allowed = placement.zones_in(pool, pool.zones)
        if not allowed:
            continue
        zones |= set(allowed & pool.quorum_zones())
        problems += [f"node pool {pool.res.name}: {p}" for p in pool.zone_problems]
    return zones, problems


@stack_policy(
    name="compute-zone-count",
    description="Compute nodes sit in as many zones as the mode says: single-zone 1, multi-zone-basic 2 "
                "(primary, and the secondary it relaunches in), multi-zone-ha 2.",
    level=MANDATORY,
    remediation="Put the node pools that host Milvus (those matching the query nodes' nodeSelector) on "
                "vSwitches of exactly the mode's number of zones.",
    tags=["zones", "compute"],
)
def compute_zone_count(args, report, topology):
    if not topology.releases and not topology.pools:
        args.not_applicable("no self-hosted Milvus deployment in the stack")
    stack_mode = mode_or_skip(args, topology)
    all_zones: set[str] = set()
    cross_region = False
    for dep in topology.deployments:
        mode = dep.mode(stack_mode)
        if mode is None:
            continue  # its declarations disagree: mode-consistent says so
        want = EXPECTED_COMPUTE_ZONES[mode]
        pools = sorted(dep.compute_pools(), key=lambda p: p.res.name)
        if not pools:
            report(f"{dep.name}: no node pool can host the Milvus query nodes (none matches their nodeSelector "
                   f"and tolerations); {mode} needs compute in {want} zone(s). For a pre-existing pool, {EXTERNAL_HINT} "
                   "(externalResources.nodePools).",
                   dep.cluster.urn if dep.cluster is not None else None)
            continue
        zones = {z for p in pools for z in p.zones}
        if (dep.top_mode or stack_mode) == CROSS_REGION_HA:
            cross_region = True
            all_zones |= zones
        for p in pools:
            for problem in p.zone_problems:
                report(f"compute pool {p.res.name}: {problem}.", p.res.urn)
        if len(zones) != want:
            names = ", ".join(p.res.name for p in pools)
            report(f"{mode} puts compute in {want} zone(s); the compute pools ({names}) are in "
                   f"{len(zones)}: {_zones(zones)}.", pools[0].res.urn)
    if cross_region:
        regions = {region_of_zone(z) for z in all_zones}
        if len(regions) < CROSS_REGION_MIN_REGIONS or len(all_zones) < CROSS_REGION_MIN_ZONES:
            report(f"cross-region-ha puts compute in at least {CROSS_REGION_MIN_REGIONS} regions and "
                   f"{CROSS_REGION_MIN_ZONES} zones; the compute pools are in {len(regions)} region(s) "
                   f"({_zones(regions)}) and {len(all_zones)} zone(s).")


@stack_policy(
    name="control-plane-multi-zone",
    description="In the multi-zone modes the ACK cluster's vSwitches span at least three zones, so the "
                "control plane's endpoint and system components survive a zone.",
    level=MANDATORY,
    remediation="List vSwitches of three distinct zones in the cluster's vswitchIds (the deprecated "
                "workerVswitchIds is read too).",
    tags=["zones", "kubernetes"],
    peers={"ack-cluster-node-multi-zone": "partial: single-zone stacks are exempt (one zone by design); the "
                                          "zones are counted from vswitchIds, or the deprecated "
                                          "workerVswitchIds the provider still accepts",
           "acs-cluster-node-multi-zone": "partial: as ack-cluster-node-multi-zone (the same check in InfraGuard)"},
)
def control_plane_multi_zone(args, report, topology):
    if not topology.clusters:
        args.not_applicable("no ACK cluster in the stack")
    stack_mode = mode_or_skip(args, topology, multi_zone_only=True)
    for c in topology.clusters:
        dep = topology.deployment_of(c)
        if (dep.mode(stack_mode) if dep is not None else stack_mode) not in MULTI_ZONE_MODES:
            continue
        zones, problems, prop = cluster_zones(c)
        if not zones:
            literal = dig(c.props, "zoneIds", default=[]) or []
            zones = {str(z) for z in literal}
        for problem in problems:
            report(f"cluster {c.name}: {problem}.", c.urn)
        if len(zones) < QUORUM_ZONES:
            report(f"cluster {c.name} has vSwitches ({prop}) in {len(zones)} zone(s) ({_zones(zones)}); the multi-zone "
                   f"modes need {QUORUM_ZONES}.", c.urn)


def _host(endpoint: str) -> str:
    """'http://milvus-etcd.milvus.svc:2379' -> 'milvus-etcd' (the Service name)."""
    return endpoint.split("://", 1)[-1].split(":", 1)[0].split(".", 1)[0]


def _served_by(rel: MilvusRelease, topology: Topology, endpoints, runs) -> MilvusRelease | None:
    """The other release of the stack whose in-chart service an external endpoint names (two releases
    forming one Milvus share the first one's etcd and message service); it is judged there."""
    hosts = [_host(str(e)) for e in (endpoints if isinstance(endpoints, list) else str(endpoints or "").split(","))]
    for other in topology.releases:
        if other is not rel and runs(other) and any(h.startswith(other.name + "-") for h in hosts):
            return other
    return None


@stack_policy(
    name="metadata-spans-three-zones",
    description="In the multi-zone modes etcd (Milvus metadata) has an odd number of at least 3 members, "
                "one per zone under a hard scheduling rule, on nodes in 3 distinct zones.",
    level=MANDATORY,
    remediation="Set etcd.replicaCount to 3 (or 5), etcd.topologySpreadConstraints on "
                "topology.kubernetes.io/zone with maxSkew 1 and whenUnsatisfiable DoNotSchedule, and an "
                "etcd.nodeSelector (and tolerations) matching node pools in three different zones.",
    tags=["zones", "metadata", "etcd"],
    config_schema=_ALLOW_EXTERNAL,
)
def metadata_spans_three_zones(args, report, topology):
    releases_or_skip(args, topology)
    stack_mode = mode_or_skip(args, topology, multi_zone_only=True)
    allow_external = truthy(args.get_config().get("allowExternal"))
    for dep, rel in ((d, r) for d in topology.deployments if d.mode(stack_mode) in MULTI_ZONE_MODES
                     for r in d.releases):
        where = f"Milvus release {rel.res.name}"
        etcd = topology.etcd_of(rel)
        if etcd is None:
            endpoints = list(rel.get("externalEtcd", "endpoints", default=[]) or [])
            if allow_external or _served_by(rel, topology, endpoints, lambda o: o.etcd_enabled):
                continue
            report(f"{where} uses an etcd outside the stack, whose zones cannot be checked; run etcd in the "
                   "chart (etcd.enabled), as a StatefulSet or Helm release of this stack that "
                   "externalEtcd.endpoints name (<service>.<namespace>.svc:2379), or set this policy's "
                   "allowExternal.", rel.res.urn)
            continue
        if etcd.source != "chart":
            where = f"{where}: its etcd, {etcd.what},"
            urn, key = etcd.res.urn, "replicas" if etcd.source == "statefulset" else "replicaCount"
        else:
            urn, key = rel.res.urn, "etcd.replicaCount"
        replicas = etcd.replicas
        if replicas < QUORUM_ZONES or replicas % 2 == 0:
            report(f"{where}: etcd has {replicas} member(s); use an odd count of at least 3 ({key}).", urn)
        ok, why = hard_zone_spread(etcd.block)
        if not ok:
            report(f"{where}: etcd members are not held one per zone: {why}.", urn)
        zones, problems = quorum_zones(etcd.placement(), dep.pools)
        for problem in problems:
            report(f"{where}: etcd {problem}.", urn)
        if len(zones) < QUORUM_ZONES:
            report(f"{where}: the node pools etcd can run on (by its nodeSelector and tolerations) have nodes "
                   f"in {len(zones)} zone(s) ({_zones(zones)}); etcd needs nodes in {QUORUM_ZONES} distinct zones.",
                   urn)


def _pulsar(rel: MilvusRelease, pulsar: Pulsar, pools, report) -> None:
    """Each quorum part of a Pulsar (the chart's, or one of the stack's own): 3 replicas or more, held one per
    zone, on nodes in 3 zones, and no more replicas than zones under a one-per-zone anti-affinity."""
    if pulsar.source == "statefulset":  # a part written elsewhere (or not at all) has zones nobody can check
        for name in PULSAR_PARTS:
            if pulsar.part(name) is None:
                report(f"Milvus release {rel.res.name}: its message service, {pulsar.what}, has no {name} "
                       f"StatefulSet (component {PULSAR_COMPONENTS[name]}) in the stack, so its zones cannot be "
                       "checked.", pulsar.res.urn)
    for part in pulsar.parts:
        if pulsar.source == "chart":
            where = f"Milvus release {rel.res.name}: {pulsar.key}.{part.part}"
        else:
            where = f"Milvus release {rel.res.name}: its message service, {pulsar.what}, {part.part}"
            if pulsar.source == "statefulset":
                where += f" (StatefulSet {part.res.name})"
        urn = part.res.urn
        ok, why = part.one_per_zone
        if not ok and pulsar.source == "statefulset":
            report(f"{where} is not held one per zone: {why}.", urn)
        elif not ok:
            prefix = f"{pulsar.key}." if pulsar.key else ""
            report(f"{where} is not held one per zone: set affinity.anti_affinity true (and the global "
                   f"{prefix}affinity.anti_affinity), anti_affinity_topology_key topology.kubernetes.io/zone and "
                   f"type {HARD_AFFINITY}.", urn)
        zones, problems = quorum_zones(part.placement(), pools)
        for problem in problems:
            report(f"{where}: {problem}.", urn)
        if len(zones) < QUORUM_ZONES:
            report(f"{where} can run on nodes in {len(zones)} zone(s) ({_zones(zones)}); it needs "
                   f"{QUORUM_ZONES} (nodeSelector and tolerations).", urn)
        if part.replicas < QUORUM_ZONES:
            report(f"{where} has {part.replicas} replica(s); use at least {QUORUM_ZONES}.", urn)
        elif part.at_most_one_per_zone and part.replicas > len(zones) >= 1:
            report(f"{where} has {part.replicas} replicas under a one-per-zone rule but nodes in {len(zones)} "
                   "zones: the extra replicas never schedule; set replicaCount to the zone count.", urn)


def _spread_statefulset(rel: MilvusRelease, key: str, default_replicas: int, pools, report) -> None:
    block = rel.get(key, default={})
    where = f"Milvus release {rel.res.name}: {key}"
    replicas = as_int(dig(block, "replicaCount")) or default_replicas
    if replicas < QUORUM_ZONES:
        report(f"{where} has {replicas} replica(s); use at least {QUORUM_ZONES}.", rel.res.urn)
    ok, why = hard_zone_spread(block)
    if not ok:
        report(f"{where} is not spread over zones: {why}.", rel.res.urn)
    zones, problems = quorum_zones(Placement.from_values(block), pools)
    for problem in problems:
        report(f"{where}: {problem}.", rel.res.urn)
    if len(zones) < QUORUM_ZONES:
        report(f"{where} can run on nodes in {len(zones)} zone(s) ({_zones(zones)}); it needs {QUORUM_ZONES}.",
               rel.res.urn)


def _spread_quorum(where: str, q, pools, report) -> None:
    """A message service the stack runs on its own (StatefulSet or bitnami release): 3 members or more,
    held one per zone, on nodes in 3 zones."""
    if q.replicas < QUORUM_ZONES:
        report(f"{where} has {q.replicas} replica(s); use at least {QUORUM_ZONES}.", q.res.urn)
    ok, why = hard_zone_spread(q.block)
    if not ok:
        report(f"{where} is not spread over zones: {why}.", q.res.urn)
    zones, problems = quorum_zones(q.placement(), pools)
    for problem in problems:
        report(f"{where}: {problem}.", q.res.urn)
    if len(zones) < QUORUM_ZONES:
        report(f"{where} can run on nodes in {len(zones)} zone(s) ({_zones(zones)}); it needs {QUORUM_ZONES}.",
               q.res.urn)


@stack_policy(
    name="message-service-spans-three-zones",
    description="In the multi-zone modes the message service (WAL) survives a zone: Pulsar or Kafka members "
                "spread one per zone over nodes in 3 zones, or Woodpecker storing its log in a ZRS bucket.",
    level=MANDATORY,
    remediation="On Milvus 2.6 use Woodpecker with storage type minio on an external ZRS OSS bucket; with "
                "Pulsar (pulsarv3) give zookeeper, bookkeeper and broker 3 replicas, zone anti-affinity "
                "(required) and a nodeSelector matching pools in 3 zones; with Kafka, 3 brokers under a zone "
                "topologySpreadConstraint.",
    tags=["zones", "message-service"],
    config_schema=_ALLOW_EXTERNAL,
)
def message_service_spans_three_zones(args, report, topology):
    releases_or_skip(args, topology)
    stack_mode = mode_or_skip(args, topology, multi_zone_only=True)
    allow_external = truthy(args.get_config().get("allowExternal"))
    for dep, rel in ((d, r) for d in topology.deployments if d.mode(stack_mode) in MULTI_ZONE_MODES
                     for r in d.releases):
        where = f"Milvus release {rel.res.name}"
        for svc in rel.message_services():
            pulsar = topology.pulsar_of(rel, svc)
            if pulsar is not None:  # the chart's Pulsar, or the apache chart / StatefulSets externalPulsar names
                _pulsar(rel, pulsar, dep.pools, report)
            elif svc == "kafka":
                _spread_statefulset(rel, "kafka", 1, dep.pools, report)
            elif svc in ("externalKafka", "externalPulsar"):
                endpoint = (rel.get("externalKafka", "brokerList") if svc == "externalKafka"
                            else [rel.get("externalPulsar", "host", default="")])
                own = topology.quorum_at(endpoint, rel.res.props.get("namespace"))
                if own is not None:
                    _spread_quorum(f"{where}: its message service, {own.what},", own, dep.pools, report)
                    continue
                if svc == "externalKafka":
                    served = _served_by(rel, topology, rel.get("externalKafka", "brokerList"),
                                        lambda o: "kafka" in o.message_services())
                else:
                    served = _served_by(rel, topology, [rel.get("externalPulsar", "host", default="")],
                                        lambda o: {"pulsar", "pulsarv3"} & set(o.message_services()))
                if not allow_external and served is None:
                    report(f"{where} uses {svc}, outside the stack, whose zones cannot be checked; run the "
                           "message service in the chart, use Woodpecker, or set this policy's allowExternal.",
                           rel.res.urn)
            elif svc == "woodpecker":
                storage = rel.woodpecker_storage()
                if storage == "service":
                    _spread_statefulset(rel, "woodpecker", 4, dep.pools, report)
                elif storage != "minio":
                    report(f"{where}: Woodpecker stores its log on {storage} disks, in one zone each; set "
                           "streaming.woodpecker.storage.type to minio (the object storage).", rel.res.urn)
                    continue
                if not rel.uses_external_object_storage:
                    report(f"{where}: Woodpecker's log goes to the in-cluster MinIO, not to a zone-redundant "
                           "bucket; set externalS3 to a ZRS OSS bucket and minio.enabled false.", rel.res.urn)
                    continue
                bucket = topology.bucket_of(rel)
                if bucket is None:
                    if not allow_external:
                        report(f"{where}: Woodpecker's bucket ({rel.bucket_name}) is not an OSS bucket of this "
                               "stack, so its redundancy cannot be checked.", rel.res.urn)
                elif str(dig(bucket.props, "redundancyType", default="LRS")).upper() != "ZRS":
                    report(f"{where}: Woodpecker's log is in bucket {bucket.name}, which is not ZRS; set its "
                           "redundancyType to ZRS.", rel.res.urn)
            else:
                report(f"{where} has no replicated message service ({svc}); enable pulsarv3, kafka or "
                       "(Milvus 2.6) Woodpecker on object storage.", rel.res.urn)


@stack_policy(
    name="object-storage-zone-redundant",
    description="In the multi-zone modes Milvus data lives in zone-redundant object storage: OSS buckets "
                "are ZRS and Milvus uses them rather than an in-cluster MinIO.",
    level=MANDATORY,
    remediation="Set the bucket's redundancyType to ZRS (a new bucket: OSS cannot convert in place), point "
                "externalS3 at it with minio.enabled false; for a MilvusInstance set isMultiAzStorage true.",
    tags=["zones", "storage"],
    peers={"oss-zrs-enabled": "partial: single-zone stacks may keep LRS (the seed allows it there)"},
)
def object_storage_zone_redundant(args, report, topology):
    ran = False
    for inst in topology.instances:
        if instance_mode(inst.props) in MULTI_ZONE_MODES:
            ran = True
            if not truthy(dig(inst.props, "isMultiAzStorage")):
                report(f"MilvusInstance {inst.name} is multi-zone without multi-zone storage; set "
                       "isMultiAzStorage true.", inst.urn)
    if not topology.buckets and not topology.releases:
        if not ran:
            args.not_applicable("no object storage or Milvus release in the stack")
        return
    stack_mode = mode_or_skip(args, topology, multi_zone_only=True)

    def held(res) -> bool:
        dep = topology.deployment_of(res)
        return (dep.mode(stack_mode) if dep is not None else stack_mode) in MULTI_ZONE_MODES

    for b in (b for b in topology.buckets if held(b)):
        redundancy = str(dig(b.props, "redundancyType", default="LRS"))
        if redundancy.upper() != "ZRS":
            report(f"bucket {b.name} is {redundancy} (LRS is the default), which a zone failure can make "
                   "unavailable; the multi-zone modes need redundancyType ZRS.", b.urn)
    for rel in (r for d in topology.deployments if d.mode(stack_mode) in MULTI_ZONE_MODES for r in d.releases):
        if not rel.uses_external_object_storage:
            report(f"Milvus release {rel.res.name} stores data in the chart's MinIO, on disks in single zones; "
                   "set externalS3 to a ZRS OSS bucket and minio.enabled false.", rel.res.urn)
