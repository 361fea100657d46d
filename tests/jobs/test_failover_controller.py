"""The WAL pinning controller (milvus_zones/jobs/failover.py).

Everything that talks to etcd runs against a real 3-member etcd cluster (conftest.py). The Kubernetes
API, which cannot run here, is a fake (failover_fakes.py) that enforces the API server's Lease rules.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid

import pytest
from support.failover_fakes import (
    FakeApiServer,
    delete,
    get,
    lose_zone_a,
    put,
    session,
    two_zones,
)

from milvus_zones.jobs.failover import (
    KV,
    PRIMARY_KEY,
    Conflict,
    Etcd,
    EtcdUnavailable,
    KubeApi,
    LeaderElector,
    State,
    WalPinner,
    effective_config,
    fallback_group,
    format_key,
    group_sessions,
    run_round,
    serve,
)

NORMALISED = "streamingprimaryresourcegroup"


@pytest.fixture
def root() -> str:
    return f"mz{uuid.uuid4().hex[:8]}"  # one etcd.rootPath per test: the cluster is shared


def pinner(cluster, root: str, threshold: int = 2) -> WalPinner:
    return WalPinner(Etcd(cluster.endpoints, 2.0), root, ("rga", "rgb"), threshold)


def leader() -> bool:
    return True


# ---- Milvus' rules, restated -------------------------------------------------------------------------


def test_format_key_is_milvus_normalisation():
    assert format_key(PRIMARY_KEY) == NORMALISED
    assert format_key("streaming/primary_Resource.group") == NORMALISED
    assert format_key("knowhere.Foo_Bar") == "knowhere.Foo_Bar"


def test_normalised_spelling_wins_over_every_other_spelling():
    prefix = "r/config/"
    kvs = [KV(prefix + "streaming.primaryResourceGroup", "old", 5), KV(prefix + NORMALISED, "new", 3),
           KV(prefix + "Streaming_PrimaryResourceGroup", "older", 9), KV(prefix + "other", "x", 1)]
    value, spellings = effective_config(kvs, "r", PRIMARY_KEY)
    assert value == "new"
    assert {kv.key for kv in spellings} == {kv.key for kv in kvs[:3]}
    assert effective_config(kvs[:1], "r", PRIMARY_KEY)[0] == "old"  # alone, the dotted one counts
    assert effective_config([], "r", PRIMARY_KEY) == (None, [])


def test_fallback_is_the_group_with_most_sessions_then_highest_server_id():
    assert fallback_group({"rga": (0, 0), "rgb": (2, 4), "rgc": (1, 9)}) == "rgb"
    assert fallback_group({"rgb": (1, 4), "rgc": (1, 9)}) == "rgc"
    assert fallback_group({}) is None
    assert group_sessions([KV("k", json.dumps({"ServerID": 7, "Version": "2.6.16"}), 1), KV("j", "not json", 1),
                           KV("o", json.dumps({"ServerID": 9, "Version": "2.5.16"}), 1)]) == {
        "__default_resource_group": (1, 7)}  # no label: the default group; older than 2.6: not a streaming node


# ---- against the real etcd cluster -------------------------------------------------------------------


def test_etcd_orders_spellings_as_effective_config_assumes(etcd, root):
    put(etcd, f"{root}/config/{NORMALISED}", "rgb")
    put(etcd, f"{root}/config/streaming.primaryResourceGroup", "rga")
    kvs = Etcd(etcd.endpoints, 2).range_prefix(f"{root}/config/")
    assert [kv.key for kv in kvs] == [f"{root}/config/streaming.primaryResourceGroup", f"{root}/config/{NORMALISED}"]
    assert effective_config(kvs, root, PRIMARY_KEY)[0] == "rgb"


def test_zone_loss_pins_the_surviving_group_and_its_return_does_not_move_it_back(etcd, root):
    two_zones(etcd, root)
    p = pinner(etcd, root)
    assert p.step(leader) is None and p.effective == "rga" and p.seen == {"rga", "rgb"}
    lose_zone_a(etcd, root)
    assert p.step(leader) is None  # round 1 of 2: not yet
    assert p.step(leader) == "rgb"
    assert get(etcd, f"{root}/config/{NORMALISED}") == "rgb"
    assert p.effective == "rgb" and p.pins == 1
    two_zones(etcd, root)  # zone A is back: the key stays on the surviving group, no flap
    for _ in range(3):
        assert p.step(leader) is None
    assert get(etcd, f"{root}/config/{NORMALISED}") == "rgb" and p.pins == 1


def test_sessions_that_expire_by_their_etcd_lease_count_as_lost(etcd, root):
    lease = int(Etcd(etcd.endpoints, 2).call("/v3/lease/grant", {"TTL": "2"})["ID"])
    for sid in (1, 2):
        session(root, sid, "rga", lease=lease, cluster=etcd)
    for sid in (3, 4):
        session(root, sid, "rgb", cluster=etcd)
    p = pinner(etcd, root)
    p.step(leader)
    assert p.sessions == {"rga": 2, "rgb": 2}
    deadline = time.monotonic() + 10  # nobody keeps the lease alive: the zone's nodes are gone
    while p.sessions.get("rga") and time.monotonic() < deadline:
        time.sleep(0.5)
        p.step(leader)
    assert p.sessions["rga"] == 0
    p.step(leader)
    assert get(etcd, f"{root}/config/{NORMALISED}") == "rgb"


def test_one_member_down_still_pins(etcd, root):
    two_zones(etcd, root)
    p = pinner(etcd, root)
    p.step(leader)
    etcd.stop(etcd.members[p.etcd.current])  # the member it talks to goes with the zone
    etcd.wait_healthy()  # the two left re-elect a leader if it was that one (election timeout 2.5 s)
    lose_zone_a(etcd, root)
    p.step(leader)
    assert p.step(leader) == "rgb"
    assert p.etcd.failovers >= 1
    assert get(etcd, f"{root}/config/{NORMALISED}") == "rgb"


def test_quorum_lost_writes_nothing_and_retries_cleanly_after_recovery(etcd, root):
    two_zones(etcd, root)
    p = pinner(etcd, root)
    p.step(leader)
    lose_zone_a(etcd, root)
    p.step(leader)  # one round short of the threshold
    etcd.stop(etcd.members[0])
    etcd.stop(etcd.members[1])
    with pytest.raises(EtcdUnavailable):
        p.step(leader)  # the remaining member has no quorum: no read, hence no decision and no write
    etcd.restore()
    assert get(etcd, f"{root}/config/{NORMALISED}") is None
    assert p.step(leader) == "rgb"
    assert get(etcd, f"{root}/config/{NORMALISED}") == "rgb"


def test_both_spellings_present_the_normalised_one_decides_and_the_other_is_removed(etcd, root):
    two_zones(etcd, root)
    put(etcd, f"{root}/config/{NORMALISED}", "rgb")  # an operator's alter: primary is rgb
    put(etcd, f"{root}/config/streaming.primaryResourceGroup", "rga")  # stale dotted key (old controller)
    p = pinner(etcd, root)
    p.step(leader)
    assert p.effective == "rgb"
    lose_zone_a(etcd, root)  # zone A holds the dotted key's group, not the effective primary: nothing to do
    for _ in range(3):
        assert p.step(leader) is None
    two_zones(etcd, root)
    for sid in (3, 4):
        delete(etcd, f"{root}/meta/session/streamingnode-{sid}")  # now the effective primary's zone goes
    p.step(leader)
    assert p.step(leader) == "rga"
    assert get(etcd, f"{root}/config/{NORMALISED}") == "rga"
    assert get(etcd, f"{root}/config/streaming.primaryResourceGroup") is None


def test_a_dotted_key_alone_is_read_as_the_primary_and_replaced_by_the_normalised_one(etcd, root):
    two_zones(etcd, root)
    put(etcd, f"{root}/config/streaming.primaryResourceGroup", "rga")
    p = pinner(etcd, root)
    p.step(leader)
    lose_zone_a(etcd, root)
    p.step(leader)
    assert p.step(leader) == "rgb"
    kvs = Etcd(etcd.endpoints, 2).range_prefix(f"{root}/config/")
    assert [(kv.key, kv.value) for kv in kvs] == [(f"{root}/config/{NORMALISED}", "rgb")]


def test_a_concurrent_writer_is_not_overwritten(etcd, root):
    two_zones(etcd, root)
    p = pinner(etcd, root, threshold=1)
    p.step(leader)
    lose_zone_a(etcd, root)
    _, _, spellings = p.observe()
    put(etcd, f"{root}/config/{NORMALISED}", "rgc")  # someone else wrote after our read
    assert p.write("rgb", spellings) is False
    assert get(etcd, f"{root}/config/{NORMALISED}") == "rgc" and p.effective == "rgc"


def test_a_group_never_seen_alive_is_not_pinned_away(etcd, root):
    session(root, 3, "rgb", cluster=etcd)  # fresh install: only rgb has started yet
    p = pinner(etcd, root, threshold=1)
    for _ in range(3):
        assert p.step(leader) is None
    assert get(etcd, f"{root}/config/{NORMALISED}") is None
    assert "never seen" in p.last_action


def test_only_the_leader_writes(etcd, root):
    two_zones(etcd, root)
    p = pinner(etcd, root, threshold=1)
    p.step(leader)
    lose_zone_a(etcd, root)
    assert p.step(lambda: False) is None
    assert get(etcd, f"{root}/config/{NORMALISED}") is None


def test_no_streaming_node_anywhere_writes_nothing(etcd, root):
    two_zones(etcd, root)
    p = pinner(etcd, root, threshold=1)
    p.step(leader)
    for sid in (1, 2, 3, 4):
        delete(etcd, f"{root}/meta/session/streamingnode-{sid}")
    assert p.step(leader) is None and p.step(leader) is None
    assert get(etcd, f"{root}/config/{NORMALISED}") is None


# ---- the Lease, against a fake API server that enforces resourceVersion --------------------------------


@pytest.fixture
def api():
    server = FakeApiServer()
    yield server
    server.server.shutdown()


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def elector(api, identity, clock, duration=15.0, deadline=10.0) -> LeaderElector:
    return LeaderElector(KubeApi(api.url, 2.0), "ns", "lease", identity, duration, deadline, clock=clock,
                         wall=lambda: 1.7e9 + clock.t)


def test_the_fake_refuses_what_the_api_server_refuses(api):
    kube = KubeApi(api.url, 2.0)
    lease = {"metadata": {"name": "lease"}, "spec": {}}
    kube.create_lease("ns", lease)
    with pytest.raises(Conflict):
        kube.create_lease("ns", {"metadata": {"name": "lease"}, "spec": {}})
    with pytest.raises(urllib.error.HTTPError) as e:
        kube.replace_lease("ns", "lease", {"metadata": {"name": "lease"}, "spec": {}})
    assert e.value.code == 422
    with pytest.raises(Conflict):
        kube.replace_lease("ns", "lease", {"metadata": {"name": "lease", "resourceVersion": "99"}, "spec": {}})


def test_one_leader_and_takeover_only_after_the_lease_expires_on_the_candidates_clock(api):
    clock = Clock()
    a, b = elector(api, "a", clock), elector(api, "b", clock)
    assert a.try_acquire_or_renew() and a.is_leader()
    assert not b.try_acquire_or_renew()
    for _ in range(5):  # a keeps renewing: b sees the record change and keeps waiting
        clock.t += 5
        assert a.try_acquire_or_renew()
        assert not b.try_acquire_or_renew()
    clock.t += 11  # a is gone; its own deadline (10 s) has passed, b's view of the lease (15 s) not yet
    assert not a.is_leader()
    assert not b.try_acquire_or_renew()
    clock.t += 5
    assert b.try_acquire_or_renew() and b.is_leader()
    spec = api.leases[("ns", "lease")]["spec"]
    assert spec["holderIdentity"] == "b" and spec["leaseTransitions"] == 1
    assert not a.try_acquire_or_renew()  # a returns: the lease is b's and fresh
    assert api.holder() == "b"


def test_two_candidates_racing_for_an_expired_lease_one_wins(api):
    clock = Clock()
    a, b, c = elector(api, "a", clock), elector(api, "b", clock), elector(api, "c", clock)
    a.try_acquire_or_renew()
    b.try_acquire_or_renew()
    c.try_acquire_or_renew()
    clock.t += 16  # a died: b and c both see it expired
    raced = []

    def c_first():  # c writes between b's read and b's write
        api.before_write = None
        raced.append(c.try_acquire_or_renew())

    api.before_write = c_first
    assert not b.try_acquire_or_renew()  # b's update carried a stale resourceVersion: 409
    assert raced == [True] and api.holder() == "c"
    assert c.is_leader() and not b.is_leader()


def test_racing_creates_one_wins(api):
    clock = Clock()
    a, b = elector(api, "a", clock), elector(api, "b", clock)

    def b_first():
        api.before_write = None
        assert b.try_acquire_or_renew()

    api.before_write = b_first
    assert not a.try_acquire_or_renew()
    assert api.holder() == "b"


def test_a_leader_cut_off_from_the_api_stops_acting_at_its_renew_deadline(api):
    clock = Clock()
    a = elector(api, "a", clock)
    assert a.try_acquire_or_renew()
    api.down = True
    clock.t += 5
    with pytest.raises(urllib.error.HTTPError):
        a.try_acquire_or_renew()
    assert a.is_leader()  # within its deadline: a transient error does not drop leadership
    clock.t += 5
    assert not a.is_leader()


# ---- one controller round and what an operator sees --------------------------------------------------


def fetch(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_rounds_pin_once_leader_and_publish_state(etcd, root, api):
    two_zones(etcd, root)
    clock = Clock()
    lead, other = elector(api, "pod-a", clock), elector(api, "pod-b", clock)
    p_lead, p_other = pinner(etcd, root), pinner(etcd, root)
    s_lead, s_other = State("pod-a"), State("pod-b")
    server = serve(0, s_lead, p_lead, p_lead.etcd, lead, stale_after=30)
    port = server.server_address[1]
    try:
        assert fetch(port, "/readyz")[0] == 503  # no round yet
        run_round(s_lead, lead, p_lead)
        run_round(s_other, other, p_other)
        assert s_lead.leader and not s_other.leader
        annotations = api.leases[("ns", "lease")]["metadata"]["annotations"]
        assert annotations["milvus-zones.io/seen-groups"] == "rga,rgb"
        lose_zone_a(etcd, root)
        for _ in range(3):
            run_round(s_other, other, p_other)  # the standby observes but never writes
        assert get(etcd, f"{root}/config/{NORMALISED}") is None
        run_round(s_lead, lead, p_lead)
        run_round(s_lead, lead, p_lead)
        assert get(etcd, f"{root}/config/{NORMALISED}") == "rgb"
        annotations = api.leases[("ns", "lease")]["metadata"]["annotations"]
        assert annotations["milvus-zones.io/effective-primary"] == "rgb"
        assert "rga -> rgb" in annotations["milvus-zones.io/last-action"]
        assert fetch(port, "/healthz")[0] == 200 and fetch(port, "/readyz")[0] == 200
        code, metrics = fetch(port, "/metrics")
        assert code == 200
        assert "milvus_zones_failover_leader 1" in metrics
        assert "milvus_zones_failover_pins_total 1" in metrics
        assert 'milvus_zones_failover_effective_primary{group="rgb"} 1' in metrics
        assert 'milvus_zones_failover_group_sessions{group="rga"} 0' in metrics
        status = json.loads(fetch(port, "/status")[1])
        assert status["leader"] and status["effectivePrimary"] == "rgb" and status["pins"] == 1
        etcd.stop(etcd.members[0])
        etcd.stop(etcd.members[1])
        run_round(s_lead, lead, p_lead)  # no quorum: the round fails, counted, nothing written
        assert s_lead.errors["etcd"] == 1
        assert 'milvus_zones_failover_round_errors_total{cause="etcd"} 1' in fetch(port, "/metrics")[1]
        s_lead.last_ok -= 31  # readiness follows etcd reachability, liveness only the loop
        assert fetch(port, "/readyz")[0] == 503 and fetch(port, "/healthz")[0] == 200
    finally:
        server.shutdown()


def test_a_new_leader_inherits_the_groups_seen_from_the_lease(etcd, root, api):
    two_zones(etcd, root)
    clock = Clock()
    first = elector(api, "pod-a", clock)
    run_round(State("pod-a"), first, pinner(etcd, root))
    lose_zone_a(etcd, root)  # pod-a's zone is lost with it; pod-b starts (or restarts) now
    clock.t += 16
    second, p = elector(api, "pod-b", clock), pinner(etcd, root)
    state = State("pod-b")
    run_round(state, second, p)
    assert not state.leader  # first sight of the record: it waits a full lease duration
    clock.t += 16
    run_round(state, second, p)
    run_round(state, second, p)
    assert state.leader and p.seen == {"rga", "rgb"}
    assert get(etcd, f"{root}/config/{NORMALISED}") == "rgb"
