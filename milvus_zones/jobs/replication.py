"""Apply the cross-region replication topology to both Milvus clusters (run by a Kubernetes Job).

Milvus 2.6's built-in CDC follows the configuration set by UpdateReplicateConfiguration: the
clusters (id, URI, token, physical channels) and the edges primary -> standby. The primary
broadcasts the change through its WAL; a standby applies it when CDC delivers it, so the call is
made on the primary first, then on the standby, which returns once it has caught up. On an
unplanned failover the lost primary cannot broadcast anything: the new primary is promoted alone
with `force_promote` (milvus design doc 20260202-force_promote_failover).

Environment: REPLICATION (JSON: {primary, standby, clusters: {id: uri}, pchannels, force_promote}),
MILVUS_USER, MILVUS_PASSWORD (the same root password on both clusters), optional MILVUS_WAIT_SECONDS.
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


def pchannels(cluster_id: str, count: int) -> list[str]:
    # Milvus names its physical DML channels <msgChannel.chanNamePrefix.cluster>-rootcoord-dml_<i>.
    return [f"{cluster_id}-rootcoord-dml_{i}" for i in range(count)]


def configuration(spec: dict[str, Any], token: str) -> tuple[list[dict], list[dict]]:
    """(clusters, cross_cluster_topology) as pymilvus' update_replicate_configuration takes them."""
    if spec["force_promote"]:
        members = [spec["primary"]]  # the lost region is left out until it is rebuilt as a standby
    else:
        members = [spec["primary"], spec["standby"]]
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


def apply(spec: dict[str, Any], token: str, connect: Callable[[str], Any]) -> list[str]:
    """Configure the primary, then the standby; returns the cluster ids configured, in order."""
    clusters, topology = configuration(spec, token)
    order = [c["cluster_id"] for c in clusters]
    for cid in order:
        client = connect(spec["clusters"][cid])
        kwargs: dict[str, Any] = {"clusters": clusters, "cross_cluster_topology": topology}
        if spec["force_promote"]:
            kwargs["force_promote"] = True
        client.update_replicate_configuration(**kwargs)
    return order


def main() -> None:
    from pymilvus import MilvusClient

    spec = json.loads(os.environ["REPLICATION"])
    token = f"{os.environ.get('MILVUS_USER', 'root')}:{os.environ['MILVUS_PASSWORD']}"
    wait = float(os.environ.get("MILVUS_WAIT_SECONDS", "1200"))
    order = apply(spec, token, lambda uri: connect_with_retry(uri, token, wait, MilvusClient))
    print(f"replication configured on {', '.join(order)}: "
          f"{spec['primary']} -> {'(alone, force-promoted)' if spec['force_promote'] else spec['standby']}")


if __name__ == "__main__":
    main()
