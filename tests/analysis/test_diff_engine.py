"""The diff engine on hand-made graphs: secrets masked, ConfigMap data per the provider's flag, providers."""

from __future__ import annotations

from milvus_zones.analysis.diff import StackDiff, diff_graphs
from milvus_zones.analysis.diff_reports import render
from milvus_zones.engine.offline import SECRET_SIG, SIG_KEY, Graph, Resource

PROVIDER = "urn:pulumi:s::p::pulumi:providers:kubernetes::k8s"


def res(type_: str, name: str, inputs: dict, provider: str = PROVIDER, **kw) -> Resource:
    return Resource(urn=f"urn:pulumi:s::p::{type_}::{name}", type=type_, name=name, custom=True, parent="",
                    provider=f"{provider}::id", id=f"{name}-id", inputs_wire=inputs, outputs_wire={},
                    dependencies=[], property_dependencies={}, **kw)


def provider(**inputs) -> Resource:
    return Resource(urn=PROVIDER, type="pulumi:providers:kubernetes", name="k8s", custom=True, parent="",
                    provider="", id="id", inputs_wire=inputs, outputs_wire={}, dependencies=[],
                    property_dependencies={})


def g(*resources: Resource) -> Graph:
    return Graph("p", "s", list(resources), {}, "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s")


def secret(value):
    return {SIG_KEY: SECRET_SIG, "value": value}


def test_a_changed_secret_is_shown_masked():
    a = res("kubernetes:core/v1:Secret", "root", {"metadata": {"name": "root"}, "stringData": secret({"pw": "old-pw"})})
    b = res("kubernetes:core/v1:Secret", "root", {"metadata": {"name": "root"}, "stringData": secret({"pw": "new-pw"})})
    entries, _ = diff_graphs(g(provider(), a), g(provider(), b))
    (entry,) = entries
    assert entry.action == "replace"  # Secret data is replace-on-change unless enableSecretMutable
    assert [(c.path, c.old, c.new) for c in entry.changes] == [("stringData.pw", "[secret]", "[secret]")]
    for fmt in ("text", "markdown", "json"):
        out = render([StackDiff("s", "base", entries)], fmt)
        assert "old-pw" not in out and "new-pw" not in out


def test_configmap_data_replaces_unless_the_provider_makes_it_mutable():
    a = res("kubernetes:core/v1:ConfigMap", "cm", {"metadata": {"name": "cm"}, "data": {"k": "1"}})
    b = res("kubernetes:core/v1:ConfigMap", "cm", {"metadata": {"name": "cm"}, "data": {"k": "2"}})
    (entry,), _ = diff_graphs(g(provider(), a), g(provider(), b))
    assert entry.action == "replace" and entry.reasons == ("data.k",)
    mutable = provider(enableConfigMapMutable="true")
    (entry,), _ = diff_graphs(g(mutable, a), g(mutable, b))
    assert entry.action == "update"
    frozen = res("kubernetes:core/v1:ConfigMap", "cm", {"metadata": {"name": "cm"}, "data": {"k": "2"},
                                                        "immutable": True})
    (entry,), _ = diff_graphs(g(mutable, a), g(mutable, frozen))
    assert entry.action == "replace"


def test_a_new_provider_replaces_and_a_protected_replacement_is_data_loss():
    other = "urn:pulumi:s::p::pulumi:providers:kubernetes::k8s-2"
    a = res("kubernetes:helm.sh/v3:Release", "milvus", {"name": "milvus", "values": {}}, protect=True)
    b = res("kubernetes:helm.sh/v3:Release", "milvus", {"name": "milvus", "values": {}}, provider=other, protect=True)
    (entry,), _ = diff_graphs(g(a), g(b))
    assert entry.action == "replace" and entry.reasons == ("provider",) and entry.data_loss


def test_a_nested_replace_path_matches_list_items_and_whole_blocks():
    a = res("alicloud:index/milvusInstance:MilvusInstance", "m",
            {"vswitchIds": [{"vswId": "vsw-1", "zoneId": "cn-hangzhou-h"}], "instanceName": "m"}, provider="")
    b = res("alicloud:index/milvusInstance:MilvusInstance", "m",
            {"vswitchIds": [{"vswId": "vsw-1", "zoneId": "cn-hangzhou-i"}], "instanceName": "m"}, provider="")
    (entry,), _ = diff_graphs(g(a), g(b))
    assert entry.action == "replace" and entry.reasons == ("vswitchIds[0].zoneId",) and entry.data_loss
    c = res("alicloud:index/milvusInstance:MilvusInstance", "m", {"instanceName": "m2", **{
        "vswitchIds": [{"vswId": "vsw-1", "zoneId": "cn-hangzhou-h"}]}}, provider="")
    (entry,), _ = diff_graphs(g(a), g(c))
    assert entry.action == "update"  # the instance's name is updatable
