"""helmValues: extra chart values, checked against the pinned chart's keys and merged under ours."""

from pathlib import Path

import pytest
from milvus_zones.components.milvus import helm_values_problems
from milvus_zones.components.milvus_zones import InvalidSettings, settings_spec

from milvus_zones.planning.plan import plan
from milvus_zones.rendering.extra_values import ExtraValuesError, chart_keys, merge_under, unknown_keys, workload_keys

REPO = Path(__file__).resolve().parents[2]
CHARTS = REPO.parent / "shared" / "reference" / "milvus-helm" / "charts"
HA = {"mode": "multi-zone-ha", "region": "cn-hangzhou", "zones": ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"],
      "compute_node_count": 4, "bucket_name": "acme-vectors"}


def problems(extra: dict, **settings) -> list[tuple[str, str]]:
    spec = settings_spec("m", {**HA, **settings})
    return helm_values_problems(plan(spec), extra)


@pytest.mark.skipif(not CHARTS.is_dir(), reason="chart archives (../shared) not present")
def test_shipped_key_lists_are_the_chart_archives():
    import runpy

    gen = runpy.run_path(str(REPO / "scripts" / "chart_keys.py"))
    for name, content in gen["generate"](CHARTS).items():
        assert (REPO / "milvus_zones" / "rendering" / "chart_keys" / name).read_text() == content, name


def test_known_keys_pass_and_open_maps_take_any_key():
    # proxy.annotations and proxy.resources are `{}` in the chart: any key goes below them.
    assert chart_keys("5.0.19")["proxy"]["annotations"] == 1
    assert unknown_keys({"metrics": {"serviceMonitor": {"enabled": True, "additionalLabels": {"release": "prom"}}},
                         "proxy": {"annotations": {"prometheus.io/scrape": "true"}, "resources": {"limits": {"cpu": 2}}}},
                        "5.0.19") == []
    assert unknown_keys({"log": {"level": "debug"}}, "5.0.19") == []


def test_an_unknown_key_is_named_with_a_hint():
    (path, message), = unknown_keys({"proxy": {"extraenv": []}}, "5.0.19")
    assert path == "proxy.extraenv"
    assert "chart milvus 5.0.19 has no such key (did you mean 'extraEnv'?)" in message


def test_keys_differ_by_chart_version():
    # Woodpecker (the 2.6 WAL) is in chart 5.0.19's values, not in 4.2.25's (Milvus 2.4).
    assert unknown_keys({"woodpecker": {"enabled": True}}, "5.0.19") == []
    assert unknown_keys({"woodpecker": {"enabled": True}}, "4.2.25")[0][0] == "woodpecker"


def test_extra_values_are_merged_under_ours_and_extra_env_appended():
    ours = {"proxy": {"replicas": 2, "extraEnv": [{"name": "A", "value": "1"}]}, "log": {"level": "info"}}
    merged = merge_under(ours, {"proxy": {"extraEnv": [{"name": "B", "value": "2"}], "strategy": {"type": "Recreate"}},
                                "metrics": {"enabled": True}}, frozenset({"proxy"}))
    assert merged["proxy"]["extraEnv"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert merged["proxy"]["strategy"] == {"type": "Recreate"} and merged["metrics"] == {"enabled": True}
    assert merged["proxy"]["replicas"] == 2 and merged["log"] == {"level": "info"}


@pytest.mark.parametrize(("extra", "path", "why"), [
    ({"queryNode": {"nodeSelector": {"x": "y"}}}, "queryNode.nodeSelector", "zone pinning"),
    ({"proxy": {"affinity": {}}}, "proxy.affinity", "zone pinning"),
    ({"etcd": {"replicaCount": 1}}, "etcd.replicaCount", "etcd's three members"),
    ({"externalS3": {"accessKey": "AK"}}, "externalS3", "external storage"),
    ({"image": {"all": {"tag": "v2.6.1"}}}, "image.all.tag", "the image pin"),
    ({"extraConfigFiles": {"user.yaml": "common: {security: {authorizationEnabled: false}}"}}, "extraConfigFiles",
     "authorization"),
])
def test_what_the_guarantees_rest_on_is_refused(extra, path, why):
    (got, message), *_ = problems(extra)
    assert got == path and why in message


def test_a_value_ours_set_is_refused_not_silently_overridden():
    (path, message), *_ = problems({"mixCoordinator": {"replicas": 1}})
    assert path == "mixCoordinator.replicas"
    assert message == "milvus-zones sets this for the mode's replica count (mixCoordinator); it cannot be overridden"


def test_monitoring_and_extra_env_pass_for_every_mode():
    extra = {"metrics": {"enabled": True}, "dataNode": {"extraEnv": [{"name": "GODEBUG", "value": "madvdontneed=1"}]}}
    for settings in ({}, {"milvus_version": "2.5"}, {"mode": "single-zone", "zones": ["cn-hangzhou-h"],
                                                    "compute_node_count": 2}):
        assert problems(extra, **settings) == [], settings


def test_component_arg_refuses_with_one_message_naming_the_key():
    from milvus_zones.components.milvus_zones import _check_helm_values

    spec = settings_spec("m", {**HA, "helm_values": {"queryNode": {"nodeSelector": {"a": "b"}}}})
    named = r"helmValues.queryNode.nodeSelector \(helm_values.queryNode.nodeSelector\): refused"
    with pytest.raises(InvalidSettings, match=named):
        _check_helm_values("m", spec)


def test_managed_backend_refuses_helm_values():
    with pytest.raises(InvalidSettings, match="helmValues"):
        settings_spec("m", {**HA, "backend": "managed", "bucket_name": None, "helm_values": {"log": {"level": "debug"}}})


def test_workload_keys_are_the_charts_components():
    keys = workload_keys("5.0.19")
    assert {"proxy", "queryNode", "mixCoordinator", "dataNode", "streamingNode"} <= keys


def test_extra_values_error_lists_every_problem():
    with pytest.raises(ExtraValuesError) as e:
        merge_under({"a": 1, "b": {"c": 2}}, {"a": 3, "b": {"c": 4}}, frozenset())
    assert [k for k, _ in e.value.problems] == ["a", "b.c"]
