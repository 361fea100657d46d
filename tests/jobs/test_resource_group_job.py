"""The in-cluster script that creates Milvus 2.5's zone resource groups, against a fake client."""

import pytest

from milvus_zones.jobs import resource_groups as job
from milvus_zones.jobs.retry import connect_with_retry
from milvus_zones.planning.plan import plan
from milvus_zones.planning.spec import DeploymentSpec
from milvus_zones.rendering.helm_values import resource_group_configs


class FakeClient:
    def __init__(self, fail_times=0):
        self.calls = []
        self.fail_times = fail_times

    def list_resource_groups(self, timeout=None):
        assert timeout is not None, "a probe without a deadline can hang the Job"
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("connection refused")
        return ["__default_resource_group"]

    def create_resource_group(self, name, timeout=None):
        assert timeout is not None, "every call carries a deadline"
        self.calls.append(("create", name))

    def update_resource_groups(self, configs, timeout=None):
        assert timeout is not None, "every call carries a deadline"
        self.calls.append(("update", configs))


def ha25_groups():
    spec = DeploymentSpec(mode="multi-zone-ha", region="cn-hangzhou", zones=["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"],
                          bucket_name="acme-milvus", compute_node_count=4, milvus_version="2.5")
    return resource_group_configs(plan(spec))


def test_each_zone_group_takes_exactly_its_zones_query_nodes():
    client = FakeClient()
    names = job.apply(client, ha25_groups(), dict)
    assert names == ["rgh", "rgi"]
    assert client.calls[:2] == [("create", "rgh"), ("create", "rgi")]
    kind, configs = client.calls[2]
    assert kind == "update"
    assert configs["rgh"] == {
        "requests": {"node_num": 2},
        "limits": {"node_num": 2},
        "node_filter": {"node_labels": [{"key": "AZ", "value": "cn-hangzhou-h"}]},
    }
    assert configs["rgi"]["node_filter"]["node_labels"] == [{"key": "AZ", "value": "cn-hangzhou-i"}]


def test_waits_for_milvus_then_gives_up_with_a_message():
    client = FakeClient(fail_times=2)
    naps = []
    assert connect_with_retry("http://m:19530", "root:x", 60, lambda **kw: client, probe="list_resource_groups",
                              sleep=naps.append) is client
    assert naps == [5, 5]
    with pytest.raises(SystemExit, match="did not answer within 0 s"):
        connect_with_retry("http://m:19530", "root:x", 0, lambda **kw: FakeClient(fail_times=99),
                           probe="list_resource_groups", sleep=naps.append)


def test_scripts_run_as_plain_files_beside_their_helper(tmp_path):
    """In the Job the scripts are /job/<name>.py with retry.py beside them, not a package."""
    import subprocess
    import sys
    from importlib import resources

    jobs = resources.files("milvus_zones.jobs")
    for name in ("resource_groups.py", "replication.py", "retry.py"):
        (tmp_path / name).write_text(jobs.joinpath(name).read_text())
    for name in ("resource_groups", "replication"):
        proc = subprocess.run([sys.executable, "-c", f"import {name}; print({name}.connect_with_retry.__module__)"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "retry"
