"""`failures` and `check` agree: one deployment model, fed by a recorded graph or by pulumi-policy.

For every stack in stacks/ and every hand-written program in tests/programs/, the model is built
twice: by `milvus-zones failures` from the recorded graph (through the model's graph adapter), and
inside the policy analyzer from the PolicyResources pulumi-policy makes of the same graph (what
`milvus-zones check` and `pulumi preview --policy-pack` hand the pack). Both must see the same pools
and zones, the same zones for every workload, the same quorum verdicts and the same RTO figures;
and the RTO policy must report the figures `failures` shows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from milvus_zones_policies._policy import stack_policy
from milvus_zones_policies.model.deployment import Topology, workload
from milvus_zones_policies.model.recovery import fmt_s, report
from pulumi_policy import EnforcementLevel, StackValidationPolicy
from support.policytest import PROGRAMS, REPO, _run, check, external_resources

from milvus_zones.analysis import failures

# Stacks written to be refused (bad settings exit 2 before anything is planned): nothing to agree on.
REFUSED = {("team-embed", "Pulumi.wrong-zone.yaml"), ("team-embed", "Pulumi.pool-wrong-zone.yaml")}
CASES = [(REPO, p) for p in sorted((REPO / "stacks").glob("Pulumi.*.yaml"))] + [
    (d, p) for d in sorted(x for x in PROGRAMS.iterdir() if x.is_dir()) for p in sorted(d.glob("Pulumi.*.yaml"))
    if p.name != "Pulumi.yaml" and (d.name, p.name) not in REFUSED]


def summary(topology: Topology) -> dict:
    """What each reader must agree on, in plain data."""
    deps = []
    for d in topology.deployments:
        rel = d.primary
        work = {}
        if rel is not None:
            for name in ("proxy", "mixCoordinator", "dataNode", "queryNode", "streamingNode"):
                w = rel.component(name, d.pools)
                work[name] = (w.replicas, w.zones, w.relaunch_zones, w.placement.hard_zone_spread)
            for name in ("queryNode", "streamingNode"):
                for w in rel.group_components(name, d.pools).values():
                    work[w.name] = (w.replicas, w.zones, w.relaunch_zones)
            etcd = topology.etcd_of(rel)  # the chart's, or the stack's own StatefulSet/release it names
            if etcd is not None:
                w = workload("etcd", etcd.replicas, etcd.placement(), d.pools)
                work["etcd"] = (etcd.source, etcd.res.urn, etcd.replicas, w.zones, etcd.persistent, etcd.pdb)
            work["wal"] = rel.message_service()
            work["version"] = rel.milvus_version()[0]
        deps.append({"pools": sorted((p.name, p.zone_order, tuple(sorted(p.nodes_by_zone().items())), p.max_size)
                                     for p in d.pools),
                     "regions": sorted(d.regions()), "workloads": work,
                     "controllers": sorted((c.action, c.workload.zones, c.survives_a_zone) for c in d.controllers)})
    r = report(topology)
    scenarios = [(s.zone, s.etcd.get("quorum_kept"), s.etcd.get("in_zone"), s.wal.get("quorum_kept"),
                  s.reads.seconds, s.reads.blocked, s.writes.seconds, s.writes.blocked, s.rpo_s) for s in r.scenarios]
    return {"mode": topology.mode(), "deployments": deps, "scenarios": scenarios, "worst": r.worst()}


def _probe(seen: list) -> StackValidationPolicy:
    """A stack policy like the pack's (the decorator adds the reads' facts, externalResources)."""

    @stack_policy(name="agreement-probe", description="records the pack's view of the model",
                  level=EnforcementLevel.ADVISORY, remediation="", tags=[])
    def probe(args, report_violation, topology):
        seen.append(summary(topology))

    return probe


def _json(x):
    return json.loads(json.dumps(x, default=str))


@pytest.mark.parametrize("program,stack", CASES, ids=[f"{p.name}/{s.name[7:-5]}" for p, s in CASES])
def test_failures_and_check_read_the_same_deployment(program: Path, stack: Path):
    graph = _run(program.resolve(), stack.resolve(), False)
    facts = external_resources(program, stack)
    seen: list = []
    check(graph, policies=[_probe(seen)], external_resources=facts)
    (pack,) = seen
    # What `pulumi preview` hands the pack: no reads, their facts from the pack config.
    assert _json(summary(failures.topology(graph, facts, reads=False))) == _json(pack)


@pytest.mark.parametrize("program,stack", [c for c in CASES if "ha" in c[1].name and "managed" not in str(c[0])],
                         ids=lambda x: x.name)
def test_the_rto_policy_reports_the_figures_failures_shows(tmp_path, program: Path, stack: Path):
    graph = _run(program.resolve(), stack.resolve(), False)
    r = failures.report(graph, with_contributions=False)
    if r.mode not in ("multi-zone-ha", "cross-region-ha"):
        pytest.skip(f"mode {r.mode}: not held to ha-failover-within-rto")
    config = tmp_path / "zero.json"  # a zero budget: every figure the model gives is reported
    config.write_text(json.dumps({"ha-failover-within-rto": {"readRtoSeconds": 0, "writeRtoSeconds": 0}}))
    from milvus_zones_policies.rto import ha_failover_within_rto

    msgs = [v.message for v in check(graph, config, policies=[ha_failover_within_rto],
                                     external_resources=external_resources(program, stack)).violations]
    for s in r.scenarios:
        if s.scope != "zone" or s.etcd.get("quorum_kept") is False:
            continue
        for kind, path in (("reads", s.reads), ("writes", s.writes)):
            if path.seconds:
                assert any(f"after losing {s.zone}, {kind} come back in" in m and f"= {fmt_s(path.seconds)} > 0 s" in m
                           for m in msgs), (s.zone, kind, path.seconds, msgs)
