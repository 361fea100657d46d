"""cross-region-ha: two regions, the zones in each, the replication, the endpoint, and a switchover."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from support.graphs import RELEASE, graph_of, pools, switch_zones, zones_of

from milvus_zones.engine.offline import Graph, run_program
from milvus_zones.engine.stacks import resolve_stack
from milvus_zones.planning.catalog import MILVUS_IMAGES
from milvus_zones.planning.plan import plan_cross_region
from milvus_zones.planning.stackconfig import spec_from_config

PROJECT_DIR = Path(__file__).resolve().parents[2]

STACK = PROJECT_DIR / "stacks" / "Pulumi.cross-region-ha.yaml"
HZ, SH = "cn-hangzhou", "cn-shanghai"


def region_of(g: Graph, r) -> str:
    """The region of a resource, from the alicloud provider it is created with."""
    provider = g.by_urn(r.provider.rsplit("::", 1)[0])
    return provider.inputs["region"]


def cron_region(r) -> str:
    """The region of a backup CronJob, from its name (milvus-<region>-backup-cron)."""
    return next(region for region in (HZ, SH) if r.urn.endswith(f"::milvus-{region}-backup-cron"))


def switched(tmp_path: Path, **changes) -> Graph:
    data = yaml.safe_load(STACK.read_text())
    data["config"].update({f"milvus-zones:{k}": v for k, v in changes.items()})
    path = tmp_path / "Pulumi.cross-region-ha.yaml"  # same stack name: same URNs as the shipped stack
    path.write_text(yaml.safe_dump(data))
    return run_program(PROJECT_DIR, resolve_stack(str(path)))


@pytest.fixture(scope="module")
def g() -> Graph:
    return graph_of("cross-region-ha")


@pytest.fixture(scope="module")
def after_switchover(tmp_path_factory) -> Graph:
    return switched(tmp_path_factory.mktemp("switch"), primaryRegion=SH)


def test_two_regions_each_a_three_zone_ha_deployment(g):
    clusters = g.of_type("alicloud:cs/managedKubernetes:ManagedKubernetes")
    assert sorted(region_of(g, c) for c in clusters) == [HZ, SH]
    for c in clusters:
        assert len(set(switch_zones(g, c.inputs["vswitchIds"]))) == 3
    compute = pools(g, "compute")
    by_region = {}
    for p in compute:
        by_region.setdefault(region_of(g, p), set()).update(switch_zones(g, p.inputs["vswitchIds"]))
    assert by_region == {HZ: {"cn-hangzhou-h", "cn-hangzhou-i"}, SH: {"cn-shanghai-l", "cn-shanghai-m"}}
    assert zones_of(g, "quorum") == {"cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j",
                                     "cn-shanghai-l", "cn-shanghai-m", "cn-shanghai-n"}
    for bucket in g.of_type("alicloud:oss/bucket:Bucket"):
        assert bucket.inputs["redundancyType"] == "ZRS" and bucket.protect


def test_both_clusters_run_cdc_on_a_cdc_capable_image_behind_a_pulumi_nlb(g):
    releases = g.of_type(RELEASE)
    assert len(releases) == 2
    nlbs = {n.id: n for n in g.of_type("alicloud:nlb/loadBalancer:LoadBalancer")}
    for rel in releases:
        v = rel.inputs["values"]
        assert v["cdc"]["enabled"] is True and v["image"]["all"]["tag"] == MILVUS_IMAGES["2.6"].reference_tag
        annotations = v["service"]["annotations"]
        assert annotations["service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id"] in nlbs
        assert len(v["service"]["loadBalancerSourceRanges"]) == 2  # own VPC and the peer's (CDC)
        assert v["labels"]["milvus-zones/mode"] == "cross-region-ha"
    roles = {rel.inputs["values"]["labels"]["milvus-zones/region-role"] for rel in releases}
    assert roles == {"primary", "standby"}


def test_replication_runs_in_the_primary_after_both_clusters_routes_and_names(g):
    (job,) = g.of_type("kubernetes:batch/v1:Job")
    env = {e["name"]: e for e in job.inputs["spec"]["template"]["spec"]["containers"][0]["env"]}
    spec = json.loads(env["REPLICATION"]["value"])
    assert (spec["primary"], spec["standby"]) == ("milvus-cn-hangzhou", "milvus-cn-shanghai")
    assert spec["clusters"] == {"milvus-cn-hangzhou": "http://cn-hangzhou.milvus-zones.internal:19530",
                                "milvus-cn-shanghai": "http://cn-shanghai.milvus-zones.internal:19530"}
    assert spec["force_promote"] is False
    assert "value" not in env["MILVUS_PASSWORD"]
    provider = g.by_urn(job.provider.rsplit("::", 1)[0])
    hz_cluster = next(c for c in g.of_type("alicloud:cs/managedKubernetes:ManagedKubernetes") if region_of(g, c) == HZ)
    assert hz_cluster.urn in provider.property_dependencies["kubeconfig"]
    deps = set(job.dependencies)
    assert {r.urn for r in g.of_type(RELEASE)} <= deps, "both clusters must be installed first"
    for kind in ("alicloud:cen/transitRouterPeerAttachment:TransitRouterPeerAttachment",
                 "alicloud:pvtz/zoneRecord:ZoneRecord", "alicloud:vpc/routeEntry:RouteEntry"):
        assert {r.urn for r in g.of_type(kind)} & deps, f"the Job must wait for {kind}"


def test_replication_job_cannot_hang(g):
    (job,) = g.of_type("kubernetes:batch/v1:Job")
    spec = job.inputs["spec"]
    env = {e["name"]: e.get("value") for e in spec["template"]["spec"]["containers"][0]["env"]}
    wait, call = float(env["MILVUS_WAIT_SECONDS"]), float(env["MILVUS_CALL_TIMEOUT_SECONDS"])
    assert 0 < call <= wait
    # One attempt (both clusters' waits, a read and an update each) fits the Job's deadline.
    assert spec["activeDeadlineSeconds"] >= 2 * wait + 4 * call
    assert 0 < spec["backoffLimit"] <= 6


def test_regions_are_routed_through_cen_and_share_one_client_endpoint(g):
    assert len(g.of_type("alicloud:cen/transitRouter:TransitRouter")) == 2
    (peer,) = g.of_type("alicloud:cen/transitRouterPeerAttachment:TransitRouterPeerAttachment")
    assert peer.inputs["peerTransitRouterRegionId"] == SH
    routes = [r for r in g.of_type("alicloud:vpc/routeEntry:RouteEntry") if r.inputs["nexthopType"] == "Attachment"]
    assert sorted(r.inputs["destinationCidrblock"] for r in routes) == ["10.70.0.0/16"] * 3 + ["10.80.0.0/16"] * 3
    records = {r.inputs["rr"]: r for r in g.of_type("alicloud:pvtz/zoneRecord:ZoneRecord")}
    assert records["milvus"].inputs["value"] == "cn-hangzhou.milvus-zones.internal"
    assert records["milvus"].inputs["ttl"] <= 60
    (attach,) = g.of_type("alicloud:pvtz/zoneAttachment:ZoneAttachment")
    assert sorted(v["regionId"] for v in attach.inputs["vpcs"]) == [HZ, SH]
    assert g.outputs["milvusEndpoint"] == "milvus.milvus-zones.internal:19530"


def test_backups_replicate_to_the_other_region(g):
    crr = {region_of(g, r): r.inputs for r in g.of_type("alicloud:oss/bucketReplication:BucketReplication")}
    assert crr[HZ]["destination"] == {"bucket": "acme-milvus-xr-shanghai", "location": "oss-cn-shanghai"}
    assert crr[SH]["destination"] == {"bucket": "acme-milvus-xr-hangzhou", "location": "oss-cn-hangzhou"}
    assert all(c["prefixSet"] == {"prefixes": ["backup/"]} for c in crr.values())

    # Each region defines the backup CronJob; only the primary's runs, so a switchover replaces nothing.
    crons = {cron_region(c): c.inputs["spec"] for c in g.of_type("kubernetes:batch/v1:CronJob")}
    assert {r: c["suspend"] for r, c in crons.items()} == {HZ: False, SH: True}
    for region, cron in crons.items():
        env = {e["name"]: e.get("value") for e in cron["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["BACKUP_NAME_PREFIX"] == f"milvus_{region.replace('-', '_')}"


def test_switchover_moves_the_running_backup_to_the_new_primary(after_switchover):
    h = after_switchover
    crons = {cron_region(c): c.inputs["spec"]["suspend"] for c in h.of_type("kubernetes:batch/v1:CronJob")}
    assert crons == {HZ: True, SH: False}


def test_switchover_swaps_roles_and_replaces_no_stateful_resource(g, after_switchover):
    h = after_switchover
    (job,) = h.of_type("kubernetes:batch/v1:Job")
    spec = json.loads({e["name"]: e for e in job.inputs["spec"]["template"]["spec"]["containers"][0]["env"]}
                      ["REPLICATION"]["value"])
    assert (spec["primary"], spec["standby"]) == ("milvus-cn-shanghai", "milvus-cn-hangzhou")
    records = {r.inputs["rr"]: r for r in h.of_type("alicloud:pvtz/zoneRecord:ZoneRecord")}
    assert records["milvus"].inputs["value"] == "cn-shanghai.milvus-zones.internal"
    assert h.outputs["primaryRegion"] == SH and h.outputs["standbyRegion"] == HZ
    roles = {r.inputs["values"]["labels"]["milvus-zones/region-role"]: r.name for r in h.of_type(RELEASE)}
    assert roles == {"primary": "milvus-cn-shanghai-milvus-milvus-cn-shanghai",
                     "standby": "milvus-cn-hangzhou-milvus-milvus-cn-hangzhou"}
    stateful = ("alicloud:oss/bucket:Bucket", "alicloud:cs/managedKubernetes:ManagedKubernetes", RELEASE,
                "alicloud:vpc/network:Network", "alicloud:pvtz/zone:Zone", "alicloud:cen/instance:Instance")
    for kind in stateful:
        before = {(r.urn, r.provider) for r in g.of_type(kind)}
        after = {(r.urn, r.provider) for r in h.of_type(kind)}
        assert before == after, f"{kind} would be replaced by a switchover"


def test_failover_promotes_the_standby_alone(tmp_path):
    h = switched(tmp_path, primaryRegion=SH, forcePromote=True)
    (job,) = h.of_type("kubernetes:batch/v1:Job")
    spec = json.loads({e["name"]: e for e in job.inputs["spec"]["template"]["spec"]["containers"][0]["env"]}
                      ["REPLICATION"]["value"])
    assert spec["primary"] == "milvus-cn-shanghai" and spec["force_promote"] is True


@pytest.mark.parametrize("changes, key", [
    ({"milvusVersion": "2.5"}, "milvus-zones:milvusVersion"),
    ({"primaryRegion": "cn-beijing"}, "milvus-zones:primaryRegion"),
    ({"peer": {"region": "cn-hangzhou", "zones": ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"],
               "bucketName": "x-other", "network": {"vpcCidr": "10.70.0.0/16"}}}, "milvus-zones:peer.region"),
    ({"peer": {"region": "cn-shanghai", "zones": ["cn-shanghai-l", "cn-shanghai-m", "cn-shanghai-n"],
               "bucketName": "x-other", "network": {"vpcCidr": "10.70.128.0/17"}}}, "milvus-zones:peer.network.vpcCidr"),
])
def test_bad_cross_region_settings_name_the_key(tmp_path, changes, key):
    from milvus_zones.engine.offline import ProgramError

    with pytest.raises(ProgramError, match=key):
        switched(tmp_path, **changes)


def test_plan_keeps_names_by_region_not_role():
    cfg = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in yaml.safe_load(STACK.read_text())["config"].items()}
    a = plan_cross_region(spec_from_config(cfg))
    b = plan_cross_region(spec_from_config({**cfg, "milvus-zones:primaryRegion": SH}))
    assert [p.name for p in a.regions] == [p.name for p in b.regions] == ["milvus-cn-hangzhou", "milvus-cn-shanghai"]
    assert [p.region_role for p in a.regions] == ["primary", "standby"]
    assert [p.region_role for p in b.regions] == ["standby", "primary"]


def test_switchover_command_edits_the_stack_and_the_plan_then_shows_roles_swapped(tmp_path):
    from typer.testing import CliRunner

    from milvus_zones.cli import app

    stack = tmp_path / "Pulumi.cross-region-ha.yaml"
    stack.write_text(STACK.read_text())
    runner = CliRunner()
    result = runner.invoke(app, ["switchover", str(stack), "--to", SH, "--write"])
    assert result.exit_code == 0, result.output
    assert "roles: primary cn-shanghai, standby cn-hangzhou; no stateful resource replaced" in result.stdout
    assert "Stop writes" in result.stdout and "pulumi up -s cross-region-ha" in result.stdout
    text = stack.read_text()
    assert "milvus-zones:primaryRegion: cn-shanghai" in text and "milvus-zones:forcePromote: false" in text
    assert text.startswith("# Cross-region HA")  # comments kept
    after = run_program(PROJECT_DIR, resolve_stack(str(stack)))
    assert after.outputs["primaryRegion"] == SH and after.outputs["standbyRegion"] == HZ
    again = runner.invoke(app, ["switchover", str(stack), "--to", SH])
    assert again.exit_code == 2 and "already the primary region" in again.stderr


def test_failover_command_lists_engine_urns_to_target_in_the_surviving_region():
    from typer.testing import CliRunner

    from milvus_zones.cli import app

    result = CliRunner().invoke(app, ["switchover", "cross-region-ha", "--to", SH, "--failover"])
    assert result.exit_code == 0, result.output
    targets = [line.split("'")[1] for line in result.stdout.splitlines() if "--target '" in line]
    assert any(t.endswith("ZoneRecord::milvus-dns-client") for t in targets)
    assert any("ScriptJob$kubernetes:batch/v1:Job::milvus-replication-job" in t for t in targets)
    # Engine URNs carry every parent type (not only the nearest, as the SDK's mock monitor does).
    assert all("milvus-zones:index:CrossRegionDeployment$" in t for t in targets)
    assert not any("milvus-cn-hangzhou" in t for t in targets)  # nothing in the lost region


def test_losing_the_primary_region_the_standby_takes_over_with_modeled_rpo_and_rto(g):
    from milvus_zones.analysis import failures

    r = failures.report(g, with_contributions=False)
    regions = {s.zone: s for s in r.scenarios if s.scope == "region"}
    lost_primary, lost_standby = regions["region cn-hangzhou"], regions["region cn-shanghai"]
    assert "standby region, promoted" in lost_primary.serves_after
    assert lost_primary.rpo_s == r.params["cdc.replicationLag"].value > 0
    steps = [p for step in lost_primary.writes.steps for p in step.params]
    assert steps == ["operator.detection", "failover.apply", "dns.ttl"]
    assert r.params["dns.ttl"].value == 30 and r.params["dns.ttl"].source.startswith("config:")
    assert lost_primary.writes.seconds == sum(r.params[k].value for k in steps)
    assert lost_standby.rpo_s == 0 and lost_standby.writes.seconds == 0
    # Each region on its own still survives any one zone without losing data.
    zones = [s for s in r.scenarios if s.scope == "zone"]
    assert len(zones) == 6 and all(s.etcd["quorum_kept"] and s.rpo_s == 0 for s in zones)


TR = "alicloud:cen/transitRouter:TransitRouter"
TABLE = "alicloud:cen/transitRouterRouteTable:TransitRouterRouteTable"
ATTACHMENTS = ("alicloud:cen/transitRouterVpcAttachment:TransitRouterVpcAttachment",
               "alicloud:cen/transitRouterPeerAttachment:TransitRouterPeerAttachment")
LINKS = ("alicloud:cen/transitRouterRouteTableAssociation:TransitRouterRouteTableAssociation",
         "alicloud:cen/transitRouterRouteTablePropagation:TransitRouterRouteTablePropagation")


def test_every_cen_attachment_is_associated_and_propagated_in_each_router_it_joins(g):
    # The attachments' routeTable*Enabled flags are deprecated and never sent (terraform-provider-alicloud
    # #5588, #7614): routing rests on these resources alone.
    tables = {t.urn: t for t in g.of_type(TABLE)}
    router_of_table = {u: t.property_dependencies["transitRouterId"][0] for u, t in tables.items()}
    assert sorted(g.by_urn(r).type for r in router_of_table.values()) == [TR, TR]
    attachments = [a for kind in ATTACHMENTS for a in g.of_type(kind)]
    assert len(attachments) == 3  # a VPC attachment per region and the peer attachment
    for a in attachments:
        assert "routeTableAssociationEnabled" not in a.inputs and "routeTablePropagationEnabled" not in a.inputs
        joins = {u for k in ("transitRouterId", "peerTransitRouterId") for u in a.property_dependencies.get(k, [])}
        assert len(joins) == (2 if "Peer" in a.type else 1)
        for kind in LINKS:
            mine = [x for x in g.of_type(kind) if x.property_dependencies["transitRouterAttachmentId"] == [a.urn]]
            routers = {router_of_table[x.property_dependencies["transitRouterRouteTableId"][0]] for x in mine}
            assert routers == joins, (a.name, kind)
            # Created in the route table's region, with that region's provider.
            for x in mine:
                table = tables[x.property_dependencies["transitRouterRouteTableId"][0]]
                assert region_of(g, x) == region_of(g, table)


def test_routes_to_the_other_region_wait_for_the_route_tables(g):
    routes = [r for r in g.of_type("alicloud:vpc/routeEntry:RouteEntry") if r.inputs["nexthopType"] == "Attachment"]
    links = {x.urn for kind in LINKS for x in g.of_type(kind)}
    assert routes and links
    for r in routes:
        assert links <= set(r.dependencies)
