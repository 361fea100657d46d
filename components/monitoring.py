"""Monitoring of one deployment: PodMonitors for Milvus and the failover controller, a ServiceMonitor
(over a headless Service of etcd's metrics listener) for etcd, and the alert rules.

Prometheus Operator's CRDs (monitoring.coreos.com/v1) must exist in the cluster: Alibaba Cloud
Managed Service for Prometheus (ARMS, the ack-arms-prometheus component) reads ServiceMonitors and
PodMonitors once enabled in its console, and PrometheusRules once their sync is enabled
(docs/operations.md); a self-run Prometheus Operator reads them as they are.
"""


from collections.abc import Sequence
from typing import TypedDict

import pulumi
import pulumi_kubernetes as k8s

from milvus_zones.planning.plan import TopologyPlan
from milvus_zones.rendering import monitoring as mon


class MonitoringArgs(TypedDict):
    plan: TopologyPlan
    """The deployment's plan; its `monitoring` holds the extra labels."""
    k8s_provider: pulumi.ProviderResource
    """Kubernetes provider of the cluster."""
    wait_for: Sequence[pulumi.Resource]
    """The Milvus release(s): the namespace must exist."""


class Monitoring(pulumi.ComponentResource):
    """PodMonitor `<name>-milvus` (every Milvus pod, with its resource group), PodMonitor
    `<name>-failover` (where the mode runs the controller), Service `<etcd>-metrics` with ServiceMonitor
    `<name>-etcd`, PrometheusRule `<name>-alerts`, and with `grafana` a GrafanaDashboard `<name>-milvus`
    (grafana-operator) importing Milvus' own dashboard from its URL at the running image's tag."""

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("milvus-zones:index:Monitoring", name, {}, opts)
        plan = args["plan"]
        assert plan.monitoring is not None
        in_cluster = pulumi.ResourceOptions(parent=self, provider=args["k8s_provider"],
                                            depends_on=list(args["wait_for"]))
        for m in mon.pod_monitors(plan):
            suffix = m["metadata"]["name"].removeprefix(f"{plan.name}-")
            k8s.apiextensions.CustomResource(
                f"{name}-podmonitor-{suffix}", api_version=m["apiVersion"], kind=m["kind"],
                metadata=m["metadata"], spec=m["spec"], opts=in_cluster)
        service = mon.etcd_metrics_service(plan)
        etcd_metrics = k8s.core.v1.Service(f"{name}-etcd-metrics", metadata=service["metadata"],
                                           spec=service["spec"], opts=in_cluster)
        monitor = mon.etcd_service_monitor(plan)
        k8s.apiextensions.CustomResource(
            f"{name}-servicemonitor-etcd", api_version=monitor["apiVersion"], kind=monitor["kind"],
            metadata=monitor["metadata"], spec=monitor["spec"],
            opts=pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(depends_on=[etcd_metrics])))
        dashboard = mon.grafana_dashboard(plan)
        if dashboard is not None:
            k8s.apiextensions.CustomResource(
                f"{name}-grafana-dashboard", api_version=dashboard["apiVersion"], kind=dashboard["kind"],
                metadata=dashboard["metadata"], spec=dashboard["spec"], opts=in_cluster)
        rule = mon.prometheus_rule(plan)
        k8s.apiextensions.CustomResource(
            f"{name}-rules", api_version=rule["apiVersion"], kind=rule["kind"], metadata=rule["metadata"],
            spec=rule["spec"], opts=in_cluster)
        self.register_outputs({})
