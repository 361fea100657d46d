"""The in-cluster script that sets Milvus CDC's replication topology, against fake clients."""

from milvus_zones.jobs import replication as job

SPEC = {
    "primary": "milvus-cn-hangzhou",
    "standby": "milvus-cn-shanghai",
    "clusters": {"milvus-cn-hangzhou": "http://cn-hangzhou.milvus-zones.internal:19530",
                 "milvus-cn-shanghai": "http://cn-shanghai.milvus-zones.internal:19530"},
    "pchannels": 2,
    "force_promote": False,
}


class Fake:
    def __init__(self, uri, log):
        self.uri, self.log = uri, log

    def update_replicate_configuration(self, **kwargs):
        self.log.append((self.uri, kwargs))


def test_primary_first_then_standby_with_the_same_topology():
    log = []
    order = job.apply(SPEC, "root:pw", lambda uri: Fake(uri, log))
    assert order == ["milvus-cn-hangzhou", "milvus-cn-shanghai"]
    assert [uri for uri, _ in log] == [SPEC["clusters"][c] for c in order]
    (_, first), (_, second) = log
    assert first == second
    assert first["cross_cluster_topology"] == [{"source_cluster_id": "milvus-cn-hangzhou",
                                                "target_cluster_id": "milvus-cn-shanghai"}]
    assert first["clusters"][0]["pchannels"] == ["milvus-cn-hangzhou-rootcoord-dml_0", "milvus-cn-hangzhou-rootcoord-dml_1"]
    assert first["clusters"][1]["connection_param"] == {"uri": SPEC["clusters"]["milvus-cn-shanghai"], "token": "root:pw"}
    assert "force_promote" not in first


def test_failover_promotes_the_new_primary_alone_without_calling_the_lost_region():
    log = []
    spec = {**SPEC, "primary": "milvus-cn-shanghai", "standby": "milvus-cn-hangzhou", "force_promote": True}
    order = job.apply(spec, "root:pw", lambda uri: Fake(uri, log))
    assert order == ["milvus-cn-shanghai"]
    ((uri, kwargs),) = log
    assert uri == SPEC["clusters"]["milvus-cn-shanghai"]
    assert kwargs["force_promote"] is True and kwargs["cross_cluster_topology"] == []
    assert [c["cluster_id"] for c in kwargs["clusters"]] == ["milvus-cn-shanghai"]
