"""Apply the cross-region replication topology to both Milvus clusters (run by a Kubernetes Job).

Milvus 2.6's built-in CDC follows the configuration set by UpdateReplicateConfiguration: the
clusters (id, URI, token, physical channels) and the edges primary -> standby. What the server does
with the call (internal/streamingcoord/server/service/assignment.go, Milvus v2.6.16):
- a configuration equal to the cluster's current one is a success, on any cluster;
- on the primary (a cluster no edge of its current configuration targets) it is validated and
  broadcast through the WAL, so CDC carries it to the standbys;
- on a standby it blocks until the same configuration has arrived through CDC from the primary
  (waitUntilPrimaryChangeOrConfigurationSame): called before the primary, it waits forever;
- `force_promote` is for a standby alone, with a configuration of only itself and no edges; on a
  cluster that is already primary it fails ("force promote can only be used on secondary clusters").

So a planned switchover calls the CURRENT primary first, then the other cluster (web-content
v2.6.x/site/en/userGuide/tools/milvus-cdc/cdc_switchover.md: "Send the request to the current
primary first, and then send it to the standby"); an unplanned failover force-promotes the new
primary alone, never touching the lost region (cdc_failover.md). The current roles are read from
each cluster (GetReplicateConfiguration, forwarded by the proxy from Milvus 2.6.17), so a re-run
skips what is already done and succeeds once both clusters hold the target configuration. Every
call carries a deadline (pymilvus has none unless `timeout=` is passed).

Environment: REPLICATION (JSON: {primary, standby, clusters: {id: uri}, pchannels, force_promote}),
MILVUS_USER, MILVUS_PASSWORD (the same root password on both clusters), optional
MILVUS_WAIT_SECONDS (how long to wait for a cluster to answer at all) and MILVUS_CALL_TIMEOUT_SECONDS.
Standard library plus pymilvus only: the Job installs pymilvus before running it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

try:
    from .retry import connect_with_retry
except ImportError:  # run as /job/replication.py beside retry.py
    from retry import connect_with_retry

CALL_TIMEOUT_S = 300.0  # a standby's call returns once CDC has delivered the new topology to it


def pchannels(cluster_id: str, count: int) -> list[str]:
    # Milvus names its physical DML channels <msgChannel.chanNamePrefix.cluster>-rootcoord-dml_<i>.
    return [f"{cluster_id}-rootcoord-dml_{i}" for i in range(count)]


def configuration(spec: dict[str, Any], token: str) -> tuple[list[dict], list[dict]]:
    """(clusters, cross_cluster_topology) as pymilvus' update_replicate_configuration takes them."""
    # A failover leaves the lost region out until it is rebuilt as a standby.
    members = [spec["primary"]] if spec["force_promote"] else [spec["primary"], spec["standby"]]
    clusters = [
        {
            "cluster_id": cid,
            "connection_param": {"uri": spec["clusters"][cid], "token": token},
            "pchannels": pchannels(cid, spec["pchannels"]),
        }
        for cid in members
    ]
    topology = [] if spec["force_promote"] else [
        {"source_cluster_id": spec["primary"], "target_cluster_id": spec["standby"]}
    ]
    return clusters, topology


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name)


def normalise(config: Any) -> tuple[tuple, tuple]:
    """A configuration (pymilvus' ReplicateConfiguration message, or the dicts we send) without tokens.

    Milvus compares configurations whole (proto.Equal); tokens are left out here because a server
    need not echo them, and the URIs, channels and edges are what decide the topology.
    """
    if config is None:
        return (), ()
    clusters = tuple(sorted(
        (_field(c, "cluster_id"), _field(_field(c, "connection_param"), "uri"), tuple(_field(c, "pchannels")))
        for c in _field(config, "clusters") or ()
    ))
    edges = tuple(sorted(
        (_field(e, "source_cluster_id"), _field(e, "target_cluster_id"))
        for e in _field(config, "cross_cluster_topology") or ()
    ))
    return clusters, edges


def is_primary(config: tuple[tuple, tuple], cluster_id: str) -> bool:
    """Milvus' rule (pkg/util/replicateutil/config_helper.go): secondary iff an edge targets it."""
    return all(target != cluster_id for _, target in config[1])


def steps(spec: dict[str, Any], current: dict[str, tuple[tuple, tuple]], target: tuple[tuple, tuple]) -> list[tuple[str, bool]]:
    """The calls still needed, in order: (cluster id, force_promote). Pure: decided from what each cluster reports."""
    if spec["force_promote"]:
        cid = spec["primary"]
        if current[cid] == target:
            return []  # promoted by an earlier run
        if is_primary(current[cid], cid):
            # Milvus refuses force-promote on a primary; a primary takes the configuration directly.
            return [(cid, False)]
        return [(cid, True)]
    pending = [cid for cid in (spec["primary"], spec["standby"]) if current[cid] != target]
    # Mid-switchover (the old primary already configured, so a standby of the new topology) the other
    # cluster may report itself a standby too: its call returns once CDC delivers what was broadcast.
    primaries = [cid for cid in pending if is_primary(current[cid], cid)]
    # The current primary first: a standby only waits for the configuration to arrive through CDC.
    return [(cid, False) for cid in primaries] + [(cid, False) for cid in pending if cid not in primaries]


def apply(spec: dict[str, Any], token: str, connect: Callable[[str], Any],
          timeout: float = CALL_TIMEOUT_S) -> list[tuple[str, str]]:
    """Bring the clusters to the target configuration; returns (cluster id, action) in the order done."""
    clusters, topology = configuration(spec, token)
    target = normalise({"clusters": clusters, "cross_cluster_topology": topology})
    # A failover never reaches out to the lost region: only the new primary is contacted.
    members = [spec["primary"]] if spec["force_promote"] else [spec["primary"], spec["standby"]]
    clients = {cid: connect(spec["clusters"][cid]) for cid in members}
    current = {cid: normalise(c.get_replicate_configuration(timeout=timeout)) for cid, c in clients.items()}
    done: list[tuple[str, str]] = [(cid, "already configured") for cid in members if current[cid] == target]
    for cid, force in steps(spec, current, target):
        kwargs: dict[str, Any] = {"clusters": clusters, "cross_cluster_topology": topology, "timeout": timeout}
        if force:
            kwargs["force_promote"] = True
        clients[cid].update_replicate_configuration(**kwargs)
        done.append((cid, "force-promoted" if force else "configured"))
    return done


def main() -> None:
    from pymilvus import MilvusClient

    spec = json.loads(os.environ["REPLICATION"])
    token = f"{os.environ.get('MILVUS_USER', 'root')}:{os.environ['MILVUS_PASSWORD']}"
    wait = float(os.environ.get("MILVUS_WAIT_SECONDS", "1200"))
    timeout = float(os.environ.get("MILVUS_CALL_TIMEOUT_SECONDS", str(CALL_TIMEOUT_S)))
    done = apply(spec, token, lambda uri: connect_with_retry(uri, token, wait, MilvusClient), timeout)
    for cid, action in done:
        print(f"{cid}: {action}")
    print(f"replication: {spec['primary']} -> {'(alone, force-promoted)' if spec['force_promote'] else spec['standby']}")


if __name__ == "__main__":
    main()
