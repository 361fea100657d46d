"""Create and configure Milvus resource groups (run in-cluster by a Kubernetes Job, Milvus 2.5 HA).

Milvus 2.5 never creates node-filtered resource groups from its config; something must call
`update_resource_groups` once the cluster is up. This script is that something. It is idempotent:
`create_resource_group` accepts an existing group, `update_resource_groups` sets the declared state.

Environment: MILVUS_URI, MILVUS_USER, MILVUS_PASSWORD, RESOURCE_GROUPS (JSON from
milvus_zones.rendering.helm_values.resource_group_configs), optional MILVUS_WAIT_SECONDS.
Standard library plus pymilvus only: the Job installs pymilvus before running it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

try:
    from .retry import connect_with_retry
except ImportError:  # run as /job/resource_groups.py beside retry.py
    from retry import connect_with_retry


def to_config(spec: dict[str, Any]) -> dict[str, Any]:
    """Our JSON -> the fields of pymilvus' ResourceGroupConfig (node labels as key/value pairs)."""
    config: dict[str, Any] = {"requests": spec["requests"], "limits": spec["limits"]}
    labels = spec.get("node_filter", {}).get("node_labels", {})
    if labels:
        config["node_filter"] = {"node_labels": [{"key": k, "value": v} for k, v in sorted(labels.items())]}
    return config


CALL_TIMEOUT_S = 60.0  # every call has a deadline: pymilvus waits as long as the server does without one


def apply(client: Any, groups: dict[str, dict[str, Any]], make_config: Callable[..., Any],
          timeout: float = CALL_TIMEOUT_S) -> list[str]:
    """Create every group, then set all their configs in one call; returns the groups' names."""
    for name in groups:
        client.create_resource_group(name, timeout=timeout)
    client.update_resource_groups({name: make_config(**to_config(spec)) for name, spec in groups.items()},
                                  timeout=timeout)
    return sorted(groups)


def main() -> None:
    from pymilvus import MilvusClient
    from pymilvus.client.types import ResourceGroupConfig

    groups = json.loads(os.environ["RESOURCE_GROUPS"])
    token = f"{os.environ.get('MILVUS_USER', 'root')}:{os.environ['MILVUS_PASSWORD']}"
    client = connect_with_retry(os.environ["MILVUS_URI"], token, float(os.environ.get("MILVUS_WAIT_SECONDS", "900")),
                                MilvusClient, probe="list_resource_groups")
    names = apply(client, groups, ResourceGroupConfig)
    for name in names:
        print(f"resource group {name}: {client.describe_resource_group(name, timeout=CALL_TIMEOUT_S)}")


if __name__ == "__main__":
    main()
