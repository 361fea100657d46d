"""Bad input closed as a class: each family of broken stack file is refused with the key, the line
and what is allowed, exit 2, nothing planned."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from milvus_zones.cli import app
from milvus_zones.engine.stackfile import MAX_STACK_FILE_BYTES, StackFileError, load_stack_file

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
HA = (ROOT / "stacks" / "Pulumi.multi-zone-ha.yaml").read_text()
runner = CliRunner()


def problems(tmp_path: Path, text: str | bytes):
    f = tmp_path / "Pulumi.t.yaml"
    f.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(StackFileError) as e:
        load_stack_file(f, PROJECT)
    return e.value.problems


def one(tmp_path, text):
    found = problems(tmp_path, text)
    assert len(found) == 1, found
    return found[0]


def test_shipped_stacks_read_cleanly():
    for f in (ROOT / "stacks").glob("Pulumi.*.yaml"):
        sf = load_stack_file(f, PROJECT)
        assert sf.values["milvus-zones:mode"]
        assert sf.locate("milvus-zones:mode")[0] > 1


@pytest.mark.parametrize("value, fragment", [
    ("[a, b]", "must be a string; got a list"),
    ("{a: b}", "must be a string; got a mapping"),
    ("2.6", "must be a string; got the YAML float 2.6: quote it"),
    ("2026-01-01", "quote it"),
    ("", "blank (null)"),
    ("null", "blank (null)"),
    ('""', "blank; give a value"),
])
def test_string_key_takes_only_a_string(tmp_path, value, fragment):
    text = HA.replace("milvus-zones:computeInstanceType: ecs.g7.2xlarge", f"milvus-zones:computeInstanceType: {value}")
    p = one(tmp_path, text)
    assert p.key == "milvus-zones:computeInstanceType"
    assert fragment in p.message
    assert p.line == HA.splitlines().index("  milvus-zones:computeInstanceType: ecs.g7.2xlarge") + 1


@pytest.mark.parametrize("value, ok", [("4", True), ('"4"', True), ("4.0", False), ("true", False), ("[4]", False),
                                       ('"four"', False)])
def test_integer_key_as_written(tmp_path, value, ok):
    text = HA.replace("milvus-zones:computeNodeCount: 4", f"milvus-zones:computeNodeCount: {value}")
    f = tmp_path / "Pulumi.t.yaml"
    f.write_text(text)
    if ok:  # `pulumi config set` writes "4": accepted
        assert load_stack_file(f, PROJECT).values["milvus-zones:computeNodeCount"] in (4, "4")
    else:
        p = one(tmp_path, text)
        assert p.key == "milvus-zones:computeNodeCount" and "must be an integer" in p.message


def test_blank_nested_value_is_named(tmp_path):
    p = one(tmp_path, HA.replace("vpcCidr: 10.30.0.0/16", "vpcCidr:"))
    assert p.key == "milvus-zones:network.vpcCidr" and "blank" in p.message
    assert p.line == HA.splitlines().index("    vpcCidr: 10.30.0.0/16") + 1


def test_yaml_error_has_line_and_column(tmp_path):
    p = one(tmp_path, HA.replace("  milvus-zones:region: cn-hangzhou", "  milvus-zones:region: [cn-hangzhou"))
    assert "not valid YAML" in p.message and p.line and p.column


def test_duplicate_key_refused_at_its_line(tmp_path):
    p = one(tmp_path, HA + "  milvus-zones:computeNodeCount: 6\n")
    assert "duplicate key" in p.message and p.line == len(HA.splitlines()) + 1


def test_duplicate_nested_key_refused(tmp_path):
    p = one(tmp_path, HA.replace("    vpcCidr: 10.30.0.0/16", "    vpcCidr: 10.30.0.0/16\n    vpcCidr: 10.31.0.0/16"))
    assert "duplicate key" in p.message


@pytest.mark.parametrize("key, fragment", [
    ("mode", "keys without their namespace are refused"),
    ("milvus-zone:mode", "unknown namespace 'milvus-zone' (did you mean 'milvus-zones'?)"),
    ("aws:region", "unknown namespace 'aws'"),
    ("alicloud:regin", "not a setting of the alicloud provider (did you mean 'region'?)"),
    ("pulumi:foo", "not a Pulumi setting"),
    ("milvus-zones:computNodeCount", "unknown setting (did you mean 'computeNodeCount'?)"),
])
def test_unknown_namespaces_and_bare_keys(tmp_path, key, fragment):
    p = one(tmp_path, HA + f"  {key}: x\n")
    assert p.key == key and fragment in p.message


@pytest.mark.parametrize("key", ["milvus-zones:rootPassword", "alicloud:accessKey", "alicloud:secretKey"])
def test_plaintext_secret_refused(tmp_path, key):
    p = one(tmp_path, HA + f"  {key}: hunter2\n")
    assert "is a secret and is in plaintext" in p.message and "pulumi config set --secret" in p.message
    if key.startswith("alicloud:"):
        assert "ALIBABA_CLOUD_ACCESS_KEY" in p.message


def test_encrypted_secret_accepted(tmp_path):
    f = tmp_path / "Pulumi.t.yaml"
    f.write_text(HA + "  milvus-zones:rootPassword:\n    secure: v1:abc:def\n")
    assert load_stack_file(f, PROJECT).secure_keys == {"milvus-zones:rootPassword"}


@pytest.mark.parametrize("text, fragment", [
    ("- a\n- b\n", "a stack file is a YAML mapping"),
    ("config: [a]\n", "must be a mapping"),
    ("confg: {}\n", "did you mean 'config'"),
    ("a: &x [1]\nb: *x\n", "aliases are not allowed"),
    ("config:\n  milvus-zones:tags: " + "[" * 40 + "]" * 40 + "\n", "nested more than"),
])
def test_file_shape(tmp_path, text, fragment):
    assert any(fragment in p.message for p in problems(tmp_path, text))


def test_not_utf8_names_line(tmp_path):
    p = one(tmp_path, HA.encode().replace(b"search-platform", b"search-\xff"))
    assert "not UTF-8" in p.message and p.line == HA.splitlines().index("    team: search-platform") + 1


def test_huge_file_refused_before_reading(tmp_path):
    f = tmp_path / "Pulumi.big.yaml"
    with f.open("wb") as out:
        out.truncate(50 * MAX_STACK_FILE_BYTES)  # sparse: refused from its size alone
    with pytest.raises(StackFileError) as e:
        load_stack_file(f, PROJECT)
    assert "at most" in e.value.problems[0].message


# -- the spec's rules, through the command, with lines ---------------------------------------------

def edited(tmp_path, old, new):
    f = tmp_path / "Pulumi.multi-zone-ha.yaml"
    assert old in HA
    f.write_text(HA.replace(old, new))
    return f


@pytest.mark.parametrize("old, new, fragment", [
    ("computeInstanceType: ecs.g7.2xlarge", "computeInstanceType: g7.2xlarge", "milvus-zones:computeInstanceType: "),
    ("milvusVersion: \"2.6\"", "milvusVersion: \"2.6\"\n  milvus-zones:kubernetesVersion: \"1.33\"",
     "is not an ACK Kubernetes version"),
    ("    environment: production", "\n".join(f"    t{i}: v" for i in range(18)), "at most 17"),
    ("    environment: production", "    environment: " + "x" * 129, "at most 128 characters"),
    ("    environment: production", "    aliyun:env: x", "not starting with 'aliyun'"),
    ("milvusVersion: \"2.6\"", "milvusVersion: \"2.6\"\n  milvus-zones:managedQueryCu: 16",
     "only the managed backend reads it"),
    ("    serviceCidr: 172.16.0.0/20", "    serviceCidr: 172.16.0.0/20\n    extra: 1",
     "unknown setting of network; allowed: vpcCidr, nodeCidrs, podCidrs, serviceCidr"),
])
def test_spec_rules_name_key_and_line(tmp_path, old, new, fragment):
    result = runner.invoke(app, ["plan", str(edited(tmp_path, old, new))])
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr
    assert "Traceback" not in result.output and result.stdout == ""
    assert "(line " in result.stderr  # with the line of the key (or of its enclosing key)


def test_managed_backend_refuses_self_hosted_keys(tmp_path):
    text = (ROOT / "stacks" / "Pulumi.managed-multi-zone-ha.yaml").read_text()
    f = tmp_path / "Pulumi.m.yaml"
    f.write_text(text + "  milvus-zones:etcdVolumeSizeGi: 50\n  milvus-zones:bucketName: acme-x\n")
    result = runner.invoke(app, ["plan", str(f)])
    assert result.exit_code == 2
    assert "milvus-zones:etcdVolumeSizeGi: the managed backend does not read it" in result.stderr
    assert "milvus-zones:bucketName: the managed backend does not read it" in result.stderr
