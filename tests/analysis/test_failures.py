"""The zone-failure model on the project's stacks and on hand-written ones broken on purpose."""

from __future__ import annotations

import json

import pytest
from support.graphs import ZONE_LOSS, graph_of, hand_written
from typer.testing import CliRunner

from milvus_zones.analysis import failures
from milvus_zones.cli import app

MULTI_ZONE = ["multi-zone-basic", "multi-zone-ha"]


@pytest.fixture(scope="module")
def reports():
    return {s: failures.report(graph_of(s)) for s in ["single-zone", *MULTI_ZONE]}


@pytest.mark.parametrize("name", MULTI_ZONE)
def test_every_single_zone_loss_keeps_etcd_quorum_and_loses_no_data(reports, name):
    r = reports[name]
    assert r.zones == ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]
    for s in r.scenarios:
        assert s.etcd["quorum_kept"] is True and s.etcd["members"] == 3 and s.etcd["in_zone"] == 1, s.zone
        assert s.data["lost"] is False and s.wal["durable"] is True, s.zone
        assert s.rpo_s == 0, s.zone


def test_single_zone_has_no_zone_level_recovery(reports):
    r = reports["single-zone"]
    assert not r.zone_recovery
    assert "No zone-level disaster recovery" in r.notes[0] and "seed" in r.notes[0]
    (s,) = r.scenarios
    assert s.etcd["quorum_kept"] is False and s.etcd["in_zone"] == 3
    assert s.reads.seconds is None and s.writes.seconds is None and s.rpo_s is None
    assert "etcd" in s.data["note"]  # all three members' disks are in the one zone


def test_ha_zone_loss_is_built_from_the_verified_timings(reports):
    r = reports["multi-zone-ha"]
    primary = next(s for s in r.scenarios if s.zone == "cn-hangzhou-h")
    steps = [x.what for x in primary.writes.steps]
    # etcd leader lost with the zone: re-election (2 x 2.5 s), then every lease renewed to TTL + election timeout.
    assert [x.seconds for x in primary.writes.steps[:2]] == [5.0, 12.5]
    assert "lessor" in steps[1] and "standby mixCoord" in steps[2] and "WAL falls back from group rgh" in steps[3]
    assert primary.writes.seconds == 5 + (10 + 2.5) + 10 + 10
    # The releases restate the chart's etcd env (helm_values.ETCD_CHART_ENV), so it is read from them.
    assert r.params["etcd.electionTimeout"].value == 2.5 and r.params[
        "etcd.electionTimeout"].source == "config: release milvus etcd.extraEnvVars (ms)"
    assert r.params["milvus.coordActivation"].assumed and r.params["milvus.walRecovery"].assumed
    # Values read from the generated configuration, not defaults.
    assert r.params["milvus.session.ttl"].value == 10 and r.params["milvus.session.ttl"].source.startswith("config:")
    assert {"queryNode[rgh]: 2 of 2", "streamingNode[rgh]: 2 of 2"} <= set(primary.components_gone)
    assert "group rgi" in primary.serves_after


def test_ha_on_its_pinned_milvus_meets_the_targets_and_warns_of_the_flap_back(reports):
    # The stack pins a Milvus with streaming-node groups (2.6.16+): reads move by the health checks alone.
    r = reports["multi-zone-ha"]
    assert r.verdicts() == []
    primary = next(s for s in r.scenarios if s.zone == "cn-hangzhou-h")
    assert primary.reads.seconds == 6 and "load balancer" in primary.reads.steps[0].what
    assert primary.reads_bounded.seconds == primary.writes.seconds  # Bounded reads wait for the WAL
    assert any("moves back to group rgh" in n and "failover-controller.md" in n for n in primary.notes)
    other = next(s for s in r.scenarios if s.zone == "cn-hangzhou-i")
    assert other.writes.seconds == 27.5 and not other.notes  # only the coordinator may move


def test_ha_settings_each_contribute(reports):
    c = {x.setting: x for x in reports["multi-zone-ha"].contributions}
    assert "failover controller: switch-wal" not in c  # it shortens nothing (docs/failover-controller.md)
    assert c["common.session.ttl"].without["rto_writes_s"] - c["common.session.ttl"].with_all["rto_writes_s"] == 5
    assert c["node-failure tolerations"].without == c["node-failure tolerations"].with_all  # spread: no eviction


def test_basic_relaunches_within_its_budget(reports):
    r = reports["multi-zone-basic"]
    assert r.verdicts() == []
    primary = next(s for s in r.scenarios if s.zone == "cn-hangzhou-h")
    steps = [x.what for x in primary.reads.steps]
    assert any("on-call deletes the zone's 4 Node objects" in x for x in steps)  # the autoscaler halts otherwise
    assert any("segments reloaded" in x for x in steps)
    assert 60 < primary.reads.seconds <= 3600
    c = {x.setting: x for x in r.contributions}
    assert "failover controller: fence-zone" not in c  # no automatic fencing: NotReady is no proof of death
    assert c["compute pool autoscaling"].without["rto_reads_s"] is None  # nowhere to relaunch


def test_data_size_moves_the_basic_rto():
    small = failures.report(graph_of("multi-zone-basic"), data_size_gib=10, with_contributions=False).worst()
    large = failures.report(graph_of("multi-zone-basic"), data_size_gib=400, with_contributions=False).worst()
    assert large["rto_reads_s"] - small["rto_reads_s"] == pytest.approx(390 * 1024 / (3 * 100))
    assert large["rto_reads_s"] > small["rto_reads_s"] + 1300  # 390 GiB more at 100 MiB/s x 3 nodes


# ---- broken on purpose (hand-written stacks) ----------------------------------------------------------

def test_hand_written_tuned_ha_misses_only_the_read_target_on_2615():
    assert failures.report(hand_written("ha-tuned")).verdicts() == [
        "reads RTO 37.5 s misses the multi-zone-ha target of 10 s"]


def test_etcd_in_two_zones_loses_quorum():
    r = failures.report(hand_written("ha-etcd-two-zones"))
    lost = [s for s in r.scenarios if s.etcd["quorum_kept"] is False]
    assert lost and all(s.etcd["in_zone"] == 2 for s in lost)
    assert any("RPO" in v for v in r.verdicts())


def test_lrs_bucket_may_lose_data():
    r = failures.report(hand_written("basic-lrs-bucket"))
    assert all(s.data["lost"] and s.rpo_s is None for s in r.scenarios)
    assert any(v.startswith("RPO") for v in r.verdicts())


def test_default_toleration_on_the_coordinators_breaks_the_ha_write_rto():
    r = failures.report(hand_written("ha-default-toleration"))
    primary = next(s for s in r.scenarios if s.zone == "cn-hangzhou-h")
    assert "mixCoordinator: 2 of 2" in primary.components_gone
    evict = next(x for x in primary.writes.steps if "tolerationSeconds" in x.what)
    assert evict.seconds == 300 and evict.params == ("k8s.defaultTolerationSeconds",)
    assert any(v.startswith("writes RTO") for v in r.verdicts())


def test_basic_waits_for_on_call_past_the_autoscaler_gate():
    r = failures.report(hand_written("basic-no-fencing"))
    primary = next(s for s in r.scenarios if s.zone == "cn-hangzhou-h")
    assert primary.reads.blocked is None
    (gate,) = [s for s in primary.reads.steps if "cluster-autoscaler halts with 4 of 6 unready" in s.what]
    assert gate.what.startswith("on-call deletes") and gate.params == ("operator.fence",)


# ---- the command ----------------------------------------------------------------------------------------

@pytest.fixture
def cached(monkeypatch):
    from milvus_zones.engine import offline
    from milvus_zones.engine.offline import read_stack_config

    def run(program, cfg, preview=False):
        if program.resolve() == ZONE_LOSS.resolve():
            return hand_written(cfg.stack)
        return graph_of(cfg.stack)

    monkeypatch.setattr(offline, "run_program", run)
    return read_stack_config


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_cli_formats(cached, fmt):
    result = CliRunner().invoke(app, ["failures", "multi-zone-ha", "--format", fmt])
    assert result.exit_code == 0, result.output
    if fmt == "json":
        data = json.loads(result.output)
        assert data["missedTargets"] == []
        assert len(data["scenarios"]) == 3
        assert data["parameters"]["milvus.session.ttl"]["value"] == 10
    else:
        assert "Lose cn-hangzhou-h" in result.output and "Parameters" in result.output
        assert ("| setting |" in result.output) == (fmt == "markdown")


def test_cli_hand_written_program(cached):
    result = CliRunner().invoke(app, ["failures", str(ZONE_LOSS / "Pulumi.ha-etcd-two-zones.yaml"),
                                      "--program", str(ZONE_LOSS)])
    assert result.exit_code == 0 and "etcd quorum kept: NO" in result.output


def test_cli_bad_stack_exits_2():
    result = CliRunner().invoke(app, ["failures", "no-such-stack"])
    assert result.exit_code == 2 and "unknown stack 'no-such-stack'" in result.output
