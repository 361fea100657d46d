"""The in-cluster script that sets Milvus CDC's replication topology, against a fake that keeps Milvus' rules.

The fake follows internal/streamingcoord/server/service/assignment.go (Milvus v2.6.16):
- a configuration equal to the current one succeeds on any cluster;
- a primary (no edge of its own configuration targets it) validates and broadcasts; CDC then carries
  the new configuration to the clusters it was replicating to;
- a standby blocks until the configuration reaches it from the primary: here, with a deadline, a
  DEADLINE_EXCEEDED error, and without one a test failure (the real call would never return);
- force_promote on a primary fails; on a standby it needs a configuration of itself alone, no edges.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from milvus_zones.jobs import replication as job

HZ, SH = "milvus-cn-hangzhou", "milvus-cn-shanghai"
URIS = {HZ: "http://cn-hangzhou.milvus-zones.internal:19530", SH: "http://cn-shanghai.milvus-zones.internal:19530"}
SPEC = {"primary": HZ, "standby": SH, "clusters": URIS, "pchannels": 2, "force_promote": False}


class MilvusError(Exception):
    pass


class FakeMilvus:
    """One cluster's replicate configuration and the CDC link between clusters."""

    def __init__(self, cluster_id: str, world: dict[str, FakeMilvus], log: list, in_flight: dict[str, dict]):
        self.id, self.world, self.log, self.in_flight = cluster_id, world, log, in_flight
        self.config: dict = {"clusters": [], "cross_cluster_topology": []}  # a fresh cluster: primary, alone
        self.reachable = True

    # -- Milvus' rules ---------------------------------------------------------------------------
    def _primary(self) -> bool:
        return all(e["target_cluster_id"] != self.id for e in self.config["cross_cluster_topology"])

    def _check(self, timeout):
        if timeout is None:
            pytest.fail(f"call to {self.id} without timeout=: pymilvus would wait forever")
        if not self.reachable:
            raise MilvusError(f"{self.id}: unavailable")

    def get_replicate_configuration(self, timeout=None):
        self._check(timeout)
        # As pymilvus returns it: a protobuf message, read by attribute.
        return SimpleNamespace(
            clusters=[SimpleNamespace(cluster_id=c["cluster_id"], pchannels=list(c["pchannels"]),
                                      connection_param=SimpleNamespace(**c["connection_param"]))
                      for c in self.config["clusters"]],
            cross_cluster_topology=[SimpleNamespace(**e) for e in self.config["cross_cluster_topology"]],
        )

    def update_replicate_configuration(self, clusters, cross_cluster_topology=None, force_promote=False,
                                       timeout=None):
        self._check(timeout)
        new = {"clusters": clusters, "cross_cluster_topology": cross_cluster_topology or []}
        self.log.append((self.id, "force" if force_promote else "update"))
        if force_promote:
            if self._primary():
                raise MilvusError("force promote can only be used on secondary clusters, current cluster is primary")
            if [c["cluster_id"] for c in clusters] != [self.id] or new["cross_cluster_topology"]:
                raise MilvusError("force promote requires configuration with only the current cluster, no topology")
            self.config = new
            return
        if new == self.config:
            return  # errReplicateConfigurationSame: an idempotent success
        if not self._primary():
            # waitUntilPrimaryChangeOrConfigurationSame: only CDC from the primary can end the wait.
            if self.id in self.in_flight:
                self.config = self.in_flight.pop(self.id)  # broadcast earlier, delivered while we wait
                if self.config == new:
                    return
            raise MilvusError(f"{self.id}: DEADLINE_EXCEEDED waiting for the configuration to arrive through CDC")
        mine = [c for c in clusters if c["cluster_id"] == self.id]
        if not mine or mine[0]["pchannels"] != job.pchannels(self.id, 2):
            raise MilvusError(f"{self.id}: configuration does not hold this cluster's channels")
        old_targets = [e["target_cluster_id"] for e in self.config["cross_cluster_topology"]
                       if e["source_cluster_id"] == self.id]
        self.config = new
        for cid in old_targets:  # the broadcast reaches the standbys through CDC, later if they are down
            if self.world[cid].reachable:
                self.world[cid].config = new
            else:
                self.in_flight[cid] = new


@pytest.fixture
def world():
    log: list = []
    clusters: dict[str, FakeMilvus] = {}
    in_flight: dict[str, dict] = {}
    for cid in (HZ, SH):
        clusters[cid] = FakeMilvus(cid, clusters, log, in_flight)
    return SimpleNamespace(clusters=clusters, log=log, connect=lambda uri: clusters[{v: k for k, v in URIS.items()}[uri]])


def run(world, **spec):
    return job.apply({**SPEC, **spec}, "root:pw", world.connect, timeout=5)


def roles(world) -> dict[str, str]:
    return {cid: "primary" if c._primary() else "standby" for cid, c in world.clusters.items()}


def test_first_setup_makes_the_primary_the_source_of_the_standby(world):
    assert run(world) == [(HZ, "configured"), (SH, "configured")]
    assert roles(world) == {HZ: "primary", SH: "standby"}
    config = world.clusters[SH].config
    assert config == world.clusters[HZ].config
    assert config["cross_cluster_topology"] == [{"source_cluster_id": HZ, "target_cluster_id": SH}]
    assert config["clusters"][1]["connection_param"] == {"uri": URIS[SH], "token": "root:pw"}
    assert config["clusters"][0]["pchannels"] == [f"{HZ}-rootcoord-dml_0", f"{HZ}-rootcoord-dml_1"]


def test_planned_switchover_calls_the_current_primary_first(world):
    run(world)
    world.log.clear()
    # Shanghai becomes primary: Hangzhou, still primary, must take the new topology first.
    assert run(world, primary=SH, standby=HZ) == [(HZ, "configured"), (SH, "configured")]
    assert [cid for cid, _ in world.log] == [HZ, SH]
    assert roles(world) == {HZ: "standby", SH: "primary"}
    assert world.clusters[HZ].config == world.clusters[SH].config


def test_calling_the_new_primary_first_is_what_the_fake_refuses(world):
    # The order the old Job used: the standby first, which Milvus makes wait for CDC forever.
    run(world)
    clusters, topology = job.configuration({**SPEC, "primary": SH, "standby": HZ}, "root:pw")
    with pytest.raises(MilvusError, match="DEADLINE_EXCEEDED"):
        world.clusters[SH].update_replicate_configuration(clusters, topology, timeout=5)


def test_switchover_rerun_is_a_success_and_changes_nothing(world):
    run(world)
    run(world, primary=SH, standby=HZ)
    world.log.clear()
    assert run(world, primary=SH, standby=HZ) == [(SH, "already configured"), (HZ, "already configured")]
    assert world.log == []


def test_rerun_after_a_crash_between_the_two_calls_completes(world):
    run(world)
    # Hangzhou took the new topology, but CDC has not delivered it to Shanghai yet (the Job died).
    clusters, topology = job.configuration({**SPEC, "primary": SH, "standby": HZ}, "root:pw")
    world.clusters[SH].reachable = False
    world.clusters[HZ].update_replicate_configuration(clusters, topology, timeout=5)
    world.clusters[SH].reachable = True
    # Both now call themselves standbys: Hangzhou of Shanghai, Shanghai (not yet reached) of Hangzhou.
    assert roles(world) == {HZ: "standby", SH: "standby"}
    assert run(world, primary=SH, standby=HZ) == [(HZ, "already configured"), (SH, "configured")]
    assert roles(world) == {HZ: "standby", SH: "primary"}


def test_failover_force_promotes_the_standby_alone(world):
    run(world)
    world.clusters[HZ].reachable = False  # the primary region is lost
    world.log.clear()
    assert run(world, primary=SH, standby=HZ, force_promote=True) == [(SH, "force-promoted")]
    assert world.log == [(SH, "force")]
    assert world.clusters[SH].config["cross_cluster_topology"] == []
    assert [c["cluster_id"] for c in world.clusters[SH].config["clusters"]] == [SH]


def test_failover_rerun_does_not_force_promote_a_primary(world):
    run(world)
    world.clusters[HZ].reachable = False
    run(world, primary=SH, standby=HZ, force_promote=True)
    world.log.clear()
    # Milvus would refuse a second force-promote: the re-run sees the target and does nothing.
    assert run(world, primary=SH, standby=HZ, force_promote=True) == [(SH, "already configured")]
    assert world.log == []


def test_failover_onto_a_cluster_that_is_already_primary_uses_a_plain_update(world):
    run(world)  # Hangzhou primary
    world.clusters[SH].reachable = False
    assert run(world, primary=HZ, standby=SH, force_promote=True) == [(HZ, "configured")]
    assert world.log[-1] == (HZ, "update")
    assert world.clusters[HZ].config["cross_cluster_topology"] == []


def test_planned_switchover_with_the_primary_unreachable_fails_within_the_deadline(world):
    run(world)
    world.clusters[HZ].reachable = False
    with pytest.raises(MilvusError, match="unavailable"):
        run(world, primary=SH, standby=HZ)
    assert roles(world) == {HZ: "primary", SH: "standby"}  # nothing changed on the standby


def test_steps_order_primaries_first():
    target = job.normalise({"clusters": [], "cross_cluster_topology": [
        {"source_cluster_id": SH, "target_cluster_id": HZ}]})
    old = ((), ((HZ, SH),))
    assert job.steps({**SPEC, "primary": SH, "standby": HZ}, {HZ: old, SH: old}, target) == [(HZ, False), (SH, False)]
