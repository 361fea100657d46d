"""no-plaintext-credentials: judged by where a value sits, since pulumi-policy unwraps secrets."""

from __future__ import annotations

import json

from support.policytest import check, edited, graph, messages, violated, with_resource


def test_password_in_a_kubernetes_secret_passes():
    # ha-compliant keeps the root password in core/v1 Secret stringData.
    assert "no-plaintext-credentials" not in violated(check(graph("ha-compliant")))


def test_password_in_helm_values_and_their_config_file_violates():
    report = check(graph("ha-plaintext-password"))
    assert violated(report) == {"no-plaintext-credentials"}
    where = " ".join(messages(report, "no-plaintext-credentials"))
    assert "extraConfigFiles.user.yaml.common.security.defaultRootPassword" in where
    assert "extraEnv.0 (env MILVUS_ROOT_PASSWORD)" in where
    assert "Milvus-Root-2024" not in where  # the message never repeats the secret


def test_access_key_in_values_violates_and_empty_placeholders_do_not():
    def keys(value):
        return lambda p: p["values"]["externalS3"].update({"accessKey": value, "secretKey": value})

    assert "externalS3.accessKey" in " ".join(messages(check(edited(graph("ha-compliant"), "milvus",
                                                                    keys("AKIDEXAMPLE"), "Release")),
                                                       "no-plaintext-credentials"))
    assert "no-plaintext-credentials" not in violated(check(edited(graph("ha-compliant"), "milvus", keys(""),
                                                                   "Release")))


def test_alibaba_access_key_id_anywhere_violates():
    g = edited(graph("ha-compliant"), "ack", lambda p: p["tags"].__setitem__("owner", "LTAI5tFakeFakeFake1234"))
    assert "(an AccessKey ID)" in messages(check(g), "no-plaintext-credentials")[0]


def test_password_outside_secret_data_violates():
    cm = {"metadata": {"name": "milvus-client"}, "data": {"MILVUS_PASSWORD": "hunter2"}}
    g = with_resource(graph("ha-compliant"), "milvus-root", "client", "kubernetes:core/v1:ConfigMap", cm)
    assert "data.MILVUS_PASSWORD" in messages(check(g), "no-plaintext-credentials")[0]


def test_long_lived_ram_access_key_violates():
    g = with_resource(graph("ha-compliant"), "data", "milvus-ak", "alicloud:ram/accessKey:AccessKey",
                      {"userName": "milvus"})
    assert "RAM AccessKey" in messages(check(g), "no-plaintext-credentials")[0]


def test_managed_instance_admin_password_field_is_where_it_belongs():
    from support.policytest import MANAGED

    assert "no-plaintext-credentials" not in violated(check(graph("ha", MANAGED)))


def test_credentials_inside_a_json_user_yaml_are_found():
    doc = {"minio": {"secretAccessKey": "plain"}}
    g = edited(graph("ha-compliant"), "milvus",
               lambda p: p["values"]["extraConfigFiles"].__setitem__("user.yaml", json.dumps(doc)), "Release")
    assert "user.yaml.minio.secretAccessKey" in " ".join(messages(check(g), "no-plaintext-credentials"))
