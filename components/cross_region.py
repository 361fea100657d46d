"""cross-region-ha: two regional deployments, routed to each other, replicated, one client endpoint."""

import json
from typing import NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud
from milvus_zones.components.backup import BackupReplication, ReplicationTarget
from milvus_zones.components.deployment import MilvusDeployment
from milvus_zones.components.endpoint import Endpoint
from milvus_zones.components.interconnect import Interconnect, RegionNetwork
from milvus_zones.components.milvus import PASSWORD_SECRET
from milvus_zones.components.script_job import PYMILVUS, ScriptJob
from milvus_zones_policies.model.names import REGION_ROLE_KEY as REGION_ROLE_TAG

from milvus_zones.planning.catalog import JOB_IMAGE
from milvus_zones.planning.plan import CrossRegionPlan
from milvus_zones.planning.spec import SecuritySpec

# The replication Job: wait up to REPLICATION_WAIT_S for each cluster to answer (first install: the
# releases and routes come up), give every call REPLICATION_CALL_TIMEOUT_S (a standby's returns once
# CDC has delivered the topology), and fail the Job as a whole after REPLICATION_DEADLINE_S: room for
# the waits and the four calls of one attempt, so a stuck switchover ends with a message.
REPLICATION_WAIT_S = 1200
REPLICATION_CALL_TIMEOUT_S = 300
REPLICATION_DEADLINE_S = 2 * REPLICATION_WAIT_S + 4 * REPLICATION_CALL_TIMEOUT_S


class CrossRegionDeploymentArgs(TypedDict):
    plan: CrossRegionPlan
    """Both regions' topology plans, the replication, the endpoint and the backups."""
    kubernetes_version: str | None
    """ACK version for both clusters; None for ACK's default."""
    api_server_public: bool
    """Expose the Kubernetes API servers on the internet."""
    root_password: pulumi.Input[str]
    """Milvus root password (both clusters: CDC connects with it), a Pulumi secret."""
    region_providers: NotRequired[dict[str, alicloud.Provider]]
    """Region -> the team's alicloud provider for it (one provider has one region); regions left out get one."""
    security: SecuritySpec
    """Cloud-side security defaults for both regions."""


class CrossRegionDeployment(pulumi.ComponentResource):
    """Each region is a full MilvusDeployment named after its region, so a switchover (a change of
    `primaryRegion`) changes roles, routes and records, never the resources that hold data."""

    client_endpoint: pulumi.Output[str]
    regions: dict[str, MilvusDeployment]

    def __init__(self, name: str, args: CrossRegionDeploymentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("milvus-zones:index:CrossRegionDeployment", name, {}, opts)
        plan = args["plan"]
        rep = plan.replication
        child = pulumi.ResourceOptions(parent=self)

        self.regions = {}
        given = dict(args.get("region_providers") or {})
        unknown = sorted(set(given) - {p.region for p in plan.regions})
        if unknown:
            raise pulumi.RunError(f"{name}: region_providers names {', '.join(unknown)}, which this deployment does "
                                  f"not use (regions: {', '.join(p.region for p in plan.regions)})")
        inherited = self.get_provider("alicloud:index:Provider")
        missing = [p.region for p in plan.regions if p.region not in given]
        if inherited is not None and missing:
            # One provider has one region: inheriting it would build both regions in the same one.
            raise pulumi.RunError(f"{name}: an alicloud provider was given in opts, but cross-region-ha needs one "
                                  f"per region: pass region_providers for {', '.join(missing)}")
        for region_plan in plan.regions:
            peers = [p.vpc_cidr for p in plan.regions if p is not region_plan]
            self.regions[region_plan.region] = MilvusDeployment(
                region_plan.name,
                {
                    "plan": region_plan,
                    "kubernetes_version": args["kubernetes_version"],
                    "api_server_public": args["api_server_public"],
                    "root_password": args["root_password"],
                    "security": args["security"],
                    "peer_cidrs": peers,
                },
                opts=(pulumi.ResourceOptions(parent=self, providers={"alicloud": given[region_plan.region]})
                      if region_plan.region in given else child),
            )

        interconnect = Interconnect(
            f"{name}-cen",
            [
                RegionNetwork(
                    region=p.region,
                    provider=self.regions[p.region].region_provider,
                    vpc_id=self.regions[p.region].vpc_id,
                    vpc_cidr=p.vpc_cidr,
                    attach_vswitch_ids={z: self.regions[p.region].network.node_vswitch_ids[z] for z in p.compute_zones},
                    route_table_ids=self.regions[p.region].network.route_table_ids,
                )
                for p in plan.regions
            ],
            tags={k: v for k, v in plan.primary.tags.items() if k != REGION_ROLE_TAG},
            opts=child,
        )
        endpoint = Endpoint(
            f"{name}-dns",
            plan.endpoint,
            primary=rep.primary,
            load_balancer_dns={r: d.load_balancer_dns for r, d in self.regions.items()},
            vpc_ids={r: d.vpc_id for r, d in self.regions.items()},
            # The first region's provider whoever is primary: a provider change would replace the zone.
            provider=self.regions[plan.regions[0].region].region_provider,
            opts=child,
        )

        primary = self.regions[rep.primary]
        spec = {
            "primary": rep.cluster_ids[rep.primary],
            "standby": rep.cluster_ids[rep.standby],
            "clusters": {rep.cluster_ids[r]: f"http://{host}:19530" for r, host in rep.endpoints.items()},
            "pchannels": rep.pchannels,
            "force_promote": rep.force_promote,
        }
        # Runs in the primary's cluster once both clusters, the routes and the DNS names exist.
        ScriptJob(
            f"{name}-replication",
            {
                "script": "replication.py",
                "namespace": plan.primary.namespace,
                "env": [
                    {"name": "REPLICATION", "value": json.dumps(spec, sort_keys=True)},
                    {"name": "MILVUS_USER", "value": "root"},
                    {"name": "MILVUS_WAIT_SECONDS", "value": str(REPLICATION_WAIT_S)},
                    {"name": "MILVUS_CALL_TIMEOUT_SECONDS", "value": str(REPLICATION_CALL_TIMEOUT_S)},
                    {"name": "MILVUS_PASSWORD",
                     "valueFrom": {"secretKeyRef": {"name": PASSWORD_SECRET, "key": "password"}}},
                ],
                "requirement": PYMILVUS,
                "image": plan.primary.image(JOB_IMAGE).ref(plan.primary.image_registry),
                "deadline_seconds": REPLICATION_DEADLINE_S,
                "node_selector": plan.primary.component("proxy").node_selector,
                "wait_for": [*(d.milvus for d in self.regions.values()), interconnect, endpoint],
            },
            provider=primary.k8s_provider,
            opts=child,
        )

        # Each region's MilvusDeployment has its own backup CronJob (suspended in the standby).
        BackupReplication(
            f"{name}-backup",
            plan.backup,
            targets={r: ReplicationTarget(d.region_provider, d.bucket_name, d.bucket_key_id, d.bucket_key_arn)
                     for r, d in self.regions.items()},
            opts=child,
        )

        self.client_endpoint = endpoint.client_endpoint
        self.register_outputs({"client_endpoint": self.client_endpoint})
