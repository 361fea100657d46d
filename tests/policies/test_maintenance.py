"""node-pool-rolls-one-node-at-a-time: resource policy on cs.NodePool inputs."""

from __future__ import annotations

from support.policytest import check, edited, graph, messages, violated

POLICY = "node-pool-rolls-one-node-at-a-time"


def _pool(change):
    g = graph("ha-compliant")
    (name,) = [r.name for r in g.of_type("alicloud:cs/nodePool:NodePool")][:1]
    return edited(g, name, change)


def test_the_compliant_program_and_this_projects_stacks_roll_one_node_at_a_time():
    assert not messages(check(graph("ha-compliant")), POLICY)


def test_a_pool_without_surge_or_with_two_unavailable_is_reported():
    def change(p):
        p["management"] = {"enable": True, "autoUpgrade": True, "maxUnavailable": 2}
    report = check(_pool(change))
    assert violated(report, level="advisory") >= {POLICY}
    (message,) = messages(report, POLICY)
    assert "autoUpgrade is on" in message and "maxUnavailable is 2" in message and "no surge" in message


def test_an_unmanaged_pool_is_reported():
    report = check(_pool(lambda p: p.pop("management")))
    assert "is not managed" in messages(report, POLICY)[0]
