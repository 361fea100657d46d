"""Prometheus Operator objects for one deployment: PodMonitors and the alert rules. Pure.

Metric names, each checked at its source:
- Milvus v2.6.16 (bigsheeper/milvus adf8243f), pkg/metrics: `milvus_wal_info{node_id, channel_name,
  term, wal_name}` = 1 on the streaming node that holds a WAL channel (streaming_service_metrics.go
  WALInfo, namespace "milvus", subsystem "wal"; set and deleted in
  internal/streamingnode/server/wal/metricsutil/wal_write.go). Every Milvus pod serves /metrics on
  the container port `metrics` (9091) in the chart's Deployments.
- etcd: `etcd_server_has_leader`, `etcd_server_leader_changes_seen_total`, read from etcd's
  metrics-only listener (helm_values.ETCD_METRICS_PORT, 2381: the NetworkPolicies keep monitoring
  off the client port 2379); tests/unit/test_etcd_metrics.py reads them there from a real etcd.
  Neither etcd subchart (bitnami 6.3.3, 8.12.0) has a key for an extra container port, and
  prometheus-operator keeps a PodMonitor target only when the pod declares the port
  (v0.93.0 pkg/prometheus/promcfg.go: `port`, `portNumber` and `targetPort` all filter on
  `__meta_kubernetes_pod_container_port_*`), so etcd is scraped through a headless Service of ours on
  2381 (Endpoints take a numeric targetPort whether or not the container declares it) and a
  ServiceMonitor, which labels every series with its `pod` (promcfg.go generateServiceMonitorConfig).
- The failover controller (milvus_zones/jobs/failover.py): `milvus_zones_failover_*` on its port
  `http` (8080).
- kube-state-metrics v2.20.0 docs/metrics/workload: `kube_statefulset_status_replicas_ready`,
  `kube_deployment_status_replicas_available`, `kube_deployment_spec_replicas`,
  `kube_cronjob_status_last_successful_time`, `kube_cronjob_created`, `kube_cronjob_spec_suspend`,
  `kube_job_status_start_time`, `kube_job_failed{condition}`, `kube_job_owner{owner_kind,owner_name}`,
  `kube_pod_status_unschedulable` (all STABLE).

PodMonitors rather than the chart's ServiceMonitor (`metrics.serviceMonitor.enabled`): a PodMonitor
can copy the pod label `milvus.io/resource-group` onto every series (`podTargetLabels`, sanitised to
`milvus_io_resource_group`), which is what tells in which zone's group a WAL channel sits.
"""

from __future__ import annotations

from milvus_zones.planning.plan import TopologyPlan
from milvus_zones.rendering.backup_manifests import BACKUP_DEADLINE_S
from milvus_zones.rendering.backup_manifests import NAME as BACKUP_NAME
from milvus_zones.rendering.helm_values import (
    CHART_FACTS,
    ETCD_METRICS_PORT,
    ReleaseContext,
    ReleaseSpec,
    etcd_statefulset,
    releases,
)
from milvus_zones.rendering.isolation import FAILOVER_SELECTOR

RG_POD_LABEL = "milvus.io/resource-group"
RG_SERIES_LABEL = "milvus_io_resource_group"  # what prometheus-operator makes of RG_POD_LABEL
RUNBOOK = "docs/operations.md"
FAILOVER_DEPLOYMENT = "milvus-zones-failover"  # components/milvus.py FAILOVER_NAME


def release_shape(plan: TopologyPlan) -> list[ReleaseSpec]:
    """The releases (names and values) without cloud ids: names depend on the plan only."""
    ctx = ReleaseContext("", "milvus", "", "", plan.vpc_cidr, {z: "" for z in plan.compute_zones})
    return releases(plan, ctx)


def query_deployments(plan: TopologyPlan) -> dict[str, tuple[str, str]]:
    """Resource group -> (zone, name of its query-node Deployment); one entry per zone's replica.

    Chart >= 5.0.17 (replicaResourceGroups): `<fullname>-querynode-<rg>` (querynode-deployment.yaml);
    2.5 (one release per zone): `<release fullname>-querynode`.
    """
    shape = release_shape(plan)
    if not plan.resource_groups:
        return {}
    if CHART_FACTS[plan.chart.chart_version].replica_resource_groups:
        return {rg.name: (rg.zone, f"{shape[0].fullname}-querynode-{rg.name}") for rg in plan.resource_groups}
    return {rg.name: (rg.zone, f"{spec.fullname}-querynode") for rg, spec in zip(plan.resource_groups, shape,
                                                                                  strict=True)}


def _runbook(base: str, anchor: str) -> str:
    return f"{base}#{anchor}"


def pod_monitors(plan: TopologyPlan) -> list[dict]:
    assert plan.monitoring is not None
    labels = dict(plan.monitoring.labels)
    shape = release_shape(plan)
    milvus = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {"name": f"{plan.name}-milvus", "namespace": plan.namespace, "labels": labels},
        "spec": {
            "selector": {"matchExpressions": [
                {"key": "app.kubernetes.io/name", "operator": "In", "values": ["milvus"]},
                {"key": "app.kubernetes.io/instance", "operator": "In", "values": [s.name for s in shape]},
            ]},
            "namespaceSelector": {"matchNames": [plan.namespace]},
            "podTargetLabels": ["component", RG_POD_LABEL],
            "podMetricsEndpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s"}],
        },
    }
    monitors = [milvus]
    if plan.failover is not None:
        monitors.append({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PodMonitor",
            "metadata": {"name": f"{plan.name}-failover", "namespace": plan.namespace, "labels": labels},
            "spec": {
                "selector": {"matchLabels": dict(FAILOVER_SELECTOR)},
                "namespaceSelector": {"matchNames": [plan.namespace]},
                "podMetricsEndpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
            },
        })
    return monitors


def _etcd_members(plan: TopologyPlan) -> dict[str, str]:
    # bitnami etcd: pods labelled with the subchart's name and the (primary) release.
    return {"app.kubernetes.io/name": "etcd", "app.kubernetes.io/instance": release_shape(plan)[0].name}


ETCD_METRICS_SERVICE_LABEL = "milvus-zones/metrics"


def etcd_metrics_service(plan: TopologyPlan) -> dict:
    """Headless Service over the etcd members' metrics listener, for the ServiceMonitor.

    publishNotReadyAddresses: a member that runs but fails its readiness probe (no leader) is still
    scraped, as a PodMonitor would, so `etcd_server_has_leader` 0 is seen rather than missing."""
    members = _etcd_members(plan)
    name = f"{etcd_statefulset(members['app.kubernetes.io/instance'])}-metrics"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": plan.namespace,
                     "labels": {"app.kubernetes.io/managed-by": "milvus-zones", ETCD_METRICS_SERVICE_LABEL: name}},
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,
            "selector": members,
            "ports": [{"name": "metrics", "port": ETCD_METRICS_PORT, "targetPort": ETCD_METRICS_PORT,
                       "protocol": "TCP"}],
        },
    }


def etcd_service_monitor(plan: TopologyPlan) -> dict:
    assert plan.monitoring is not None
    service = etcd_metrics_service(plan)
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": f"{plan.name}-etcd", "namespace": plan.namespace, "labels": dict(plan.monitoring.labels)},
        "spec": {
            "selector": {"matchLabels": {ETCD_METRICS_SERVICE_LABEL: service["metadata"]["name"]}},
            "namespaceSelector": {"matchNames": [plan.namespace]},
            "endpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s"}],
        },
    }


def _alert(name: str, expr: str, for_: str, severity: str, summary: str, anchor: str, base: str,
           **labels: str) -> dict:
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity, **labels},
        "annotations": {"summary": summary, "runbook_url": _runbook(base, anchor)},
    }


def rule_groups(plan: TopologyPlan, runbook_base: str = RUNBOOK) -> list[dict]:
    """Alert rules for what the mode promises, every one with a runbook anchor in docs/operations.md."""
    ns = plan.namespace
    shape = release_shape(plan)
    etcd_set = etcd_statefulset(shape[0].name)  # also its pods' name prefix
    etcd_pods = f'namespace="{ns}", pod=~"{etcd_set}-[0-9]+"'
    quorum = plan.etcd.replicas // 2 + 1
    etcd = [
        _alert("MilvusEtcdMemberDown",
               f'kube_statefulset_status_replicas_ready{{namespace="{ns}", statefulset="{etcd_set}"}} '
               f"< {plan.etcd.replicas}",
               "2m", "warning", f"etcd of {plan.name}: a member is not ready; one more loss stops Milvus",
               "etcd-member-down", runbook_base),
        _alert("MilvusEtcdQuorumLost",
               f"(sum(etcd_server_has_leader{{{etcd_pods}}}) or vector(0)) < {quorum}",
               "1m", "critical", f"etcd of {plan.name}: fewer than {quorum} members see a leader; Milvus stops",
               "etcd-quorum-lost", runbook_base, namespace=ns),
        _alert("MilvusEtcdLeaderFlapping",
               f"increase(etcd_server_leader_changes_seen_total{{{etcd_pods}}}[15m]) > 3",
               "5m", "warning", f"etcd of {plan.name}: leader changed more than 3 times in 15 min",
               "etcd-leader-flapping", runbook_base),
    ]

    milvus: list[dict] = []
    deployments = query_deployments(plan)
    for rg, (zone, deployment) in deployments.items():
        ksm = f'namespace="{ns}", deployment="{deployment}"'
        milvus.append(_alert(
            "MilvusZoneQueryReplicaDown", f"kube_deployment_status_replicas_available{{{ksm}}} < 1", "1m",
            "critical", f"{plan.name}: no query node of group {rg} ({zone}) is available: that zone's replica is gone",
            "zone-query-replica-down", runbook_base, resource_group=rg, zone=zone))
        milvus.append(_alert(
            "MilvusZoneQueryReplicaDegraded",
            f"kube_deployment_status_replicas_available{{{ksm}}} < kube_deployment_spec_replicas{{{ksm}}}", "10m",
            "warning", f"{plan.name}: group {rg} ({zone}) runs fewer query nodes than planned",
            "zone-query-replica-down", runbook_base, resource_group=rg, zone=zone))
    if not deployments:
        ksm = f'namespace="{ns}", deployment="{shape[0].fullname}-querynode"'
        milvus.append(_alert(
            "MilvusQueryNodesDegraded",
            f"kube_deployment_status_replicas_available{{{ksm}}} < kube_deployment_spec_replicas{{{ksm}}}", "10m",
            "warning", f"{plan.name}: fewer query nodes available than planned", "zone-query-replica-down",
            runbook_base))
    if plan.resource_groups and CHART_FACTS[plan.chart.chart_version].streaming:
        primary = plan.resource_groups[0].name
        milvus.append(_alert(
            "MilvusWalOffPrimaryGroup",
            f'count(milvus_wal_info{{namespace="{ns}", {RG_SERIES_LABEL}!="{primary}"}}) > 0', "5m", "warning",
            f"{plan.name}: WAL channels run outside the planned primary group {primary}",
            "wal-off-primary-group", runbook_base, namespace=ns))
    if plan.failover is not None:
        ksm = f'namespace="{ns}", deployment="{FAILOVER_DEPLOYMENT}"'
        milvus.append(_alert(
            "MilvusZoneFailoverControllerDown", f"kube_deployment_status_replicas_available{{{ksm}}} < 1", "5m",
            "warning", f"{plan.name}: the zone failover controller has no available replica",
            "failover-controller-down", runbook_base))

    pods = [_alert(
        "MilvusPodsUnschedulable", f'max by (namespace, pod) (kube_pod_status_unschedulable{{namespace="{ns}"}}) == 1',
        "10m", "warning", "{{ $labels.pod }} cannot be scheduled (capacity, zone or selector)",
        "pods-pending-capacity", runbook_base)]

    groups = [
        {"name": f"{plan.name}.etcd", "rules": etcd},
        {"name": f"{plan.name}.milvus", "rules": milvus},
        {"name": f"{plan.name}.capacity", "rules": pods},
    ]
    if plan.backup is not None:
        groups.append({"name": f"{plan.name}.backup", "rules": _backup_rules(plan, runbook_base)})
    return groups


def _backup_rules(plan: TopologyPlan, base: str) -> list[dict]:
    assert plan.backup is not None
    ns = plan.namespace
    cron = f'namespace="{ns}", cronjob="{BACKUP_NAME}"'
    jobs = f'namespace="{ns}", owner_kind="CronJob", owner_name="{BACKUP_NAME}"'
    active = f"unless on (namespace) (kube_cronjob_spec_suspend{{{cron}}} == 1)"  # a standby region's
    # Late: no success for one interval plus the run's deadline and an hour (the CronJob's
    # startingDeadlineSeconds); a CronJob that never succeeded counts from its creation.
    late_after = plan.backup.interval_s + BACKUP_DEADLINE_S + 3600
    failed = (f'max by (namespace) (kube_job_status_start_time{{namespace="{ns}"}} '
              f'* on (namespace, job_name) group_left () (kube_job_failed{{namespace="{ns}", condition="true"}} == 1) '
              f"* on (namespace, job_name) group_left () kube_job_owner{{{jobs}}})")
    last_ok = f"max by (namespace) (kube_cronjob_status_last_successful_time{{{cron}}})"
    return [
        _alert("MilvusBackupFailed",
               f"({failed} > on (namespace) ({last_ok} or on (namespace) max by (namespace) "
               f"(kube_cronjob_created{{{cron}}}))) {active}",
               "0m", "warning", f"{plan.name}: the last backup Job failed (no newer success)",
               "backup-failed", base),
        _alert("MilvusBackupLate",
               f"(time() - ({last_ok} or on (namespace) max by (namespace) (kube_cronjob_created{{{cron}}})) "
               f"> {late_after}) {active}",
               "0m", "critical", f"{plan.name}: no successful backup for more than {late_after // 3600} h "
                                 f"(schedule {plan.backup.schedule} UTC)",
               "backup-late", base),
    ]


# Milvus' own dashboard, by reference (never copied here): deployments/monitor/grafana/milvus-dashboard.json
# in milvus-io/milvus at the tag of the image the deployment runs (path read on the 2.6 and 2.5
# branches of the bigsheeper/milvus mirror, 5b99e980 and the 2.5 head; the mirror carries no tags).
# It selects its data source through a `datasource` template variable (type prometheus) and the
# namespace through label_values(go_info, namespace): no __inputs to map.
DASHBOARD_PATH = "deployments/monitor/grafana/milvus-dashboard.json"


def dashboard_url(plan: TopologyPlan) -> str:
    return f"https://raw.githubusercontent.com/milvus-io/milvus/{plan.milvus_image.tag}/{DASHBOARD_PATH}"


def grafana_dashboard(plan: TopologyPlan) -> dict | None:
    """A grafana-operator GrafanaDashboard that imports Milvus' dashboard from its URL.

    Fields as grafana-operator v5.24.0 defines them (api/v1beta1/grafanadashboard_types.go
    GrafanaDashboardSpec, common.go GrafanaCommonSpec, content.go GrafanaContentSpec; group
    grafana.integreatly.org, version v1beta1): `instanceSelector` (a LabelSelector, required),
    `allowCrossNamespaceImport` (the Grafana usually runs in another namespace), `folder`, `url`
    (pattern ^https?://.+$), `resyncPeriod`."""
    assert plan.monitoring is not None
    if plan.monitoring.grafana_labels is None:
        return None
    return {
        "apiVersion": "grafana.integreatly.org/v1beta1",
        "kind": "GrafanaDashboard",
        "metadata": {"name": f"{plan.name}-milvus", "namespace": plan.namespace, "labels": dict(plan.monitoring.labels)},
        "spec": {
            "instanceSelector": {"matchLabels": dict(plan.monitoring.grafana_labels)},
            "allowCrossNamespaceImport": True,
            "folder": plan.monitoring.grafana_folder,
            "url": dashboard_url(plan),
            "resyncPeriod": "24h",
        },
    }


def prometheus_rule(plan: TopologyPlan, runbook_base: str = RUNBOOK) -> dict:
    assert plan.monitoring is not None
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": f"{plan.name}-alerts", "namespace": plan.namespace,
                     "labels": dict(plan.monitoring.labels)},
        "spec": {"groups": rule_groups(plan, runbook_base)},
    }


def runbook_anchors(groups: list[dict]) -> set[str]:
    return {r["annotations"]["runbook_url"].rsplit("#", 1)[1] for g in groups for r in g["rules"]}


