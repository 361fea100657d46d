"""Property-based: stack files generated from the config schema (Pulumi.yaml) and from the shipped
stacks, then mutated (values of every type, blanks, unknown keys, byte-level damage). Reading and
validating them never raises anything but the two refusals; the command never exits other than 0
or 2 and never prints a traceback."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from milvus_zones.cli import app, spec_problems
from milvus_zones.engine.offline import config_for_program, read_stack_config
from milvus_zones.engine.stackfile import StackFileError, load_stack_file

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
SCHEMA = PROJECT["config"]
STACKS = [yaml.safe_load(p.read_text())["config"] for p in sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))]
# Counted for the record (how many generated files each run tried): MILVUS_ZONES_COUNT_FILE.
# More examples than the suite's for a longer hunt: MILVUS_ZONES_EXAMPLES=<front>,<cli>.
TRIED = {"front": 0, "cli": 0}
FRONT, CLI = (int(n) for n in os.environ.get("MILVUS_ZONES_EXAMPLES", "150,12").split(","))

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 300), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["", "null", "auto", "2.6", "2.5", "4", "true",
                                                           "cn-hangzhou", "cn-hangzhou-h", "ecs.g7.large",
                                                           "10.0.0.0/16", "1.33.3-aliyun.1", "https://x"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=10)


def typed(schema: dict):
    """A value of the schema's own type (so that many generated files get past the type checks)."""
    kind = schema.get("type")
    if kind == "integer":
        return st.one_of(st.integers(-2, 250), st.integers(0, 250).map(str))
    if kind == "boolean":
        return st.one_of(st.booleans(), st.sampled_from(["true", "false"]))
    if kind == "array":
        return st.lists(st.sampled_from(["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j", "cn-shanghai-l"]),
                        max_size=4)
    if kind == "object":
        return st.one_of(st.just({}), st.dictionaries(st.sampled_from(["vpcCidr", "serviceCidr", "team", "region"]),
                                                      st.sampled_from(["10.9.0.0/16", "172.16.0.0/20", "x"]),
                                                      max_size=3))
    return st.sampled_from([v for v in (schema.get("default"), "auto", "", "x") if isinstance(v, str)])


@st.composite
def stack_files(draw) -> bytes:
    config = dict(draw(st.sampled_from(STACKS)))
    for key, schema in SCHEMA.items():
        full = f"milvus-zones:{key}"
        action = draw(st.sampled_from(["keep", "keep", "keep", "drop", "typed", "any"]))
        if action == "drop":
            config.pop(full, None)
        elif action == "typed":
            config[full] = draw(typed(schema))
        elif action == "any":
            config[full] = draw(values)
    if draw(st.booleans()):
        config[draw(st.sampled_from(["mode", "milvus-zone:mode", "alicloud:region", "pulumi:tags",
                                     "milvus-zones:extra", "kubernetes:context"]))] = draw(values)
    text = yaml.safe_dump({"config": config}, sort_keys=draw(st.booleans())).encode()
    damage = draw(st.sampled_from(["none", "none", "cut", "bytes", "dup", "indent"]))
    if damage == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    elif damage == "bytes":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.binary(min_size=1, max_size=4)) + text[at:]
    elif damage == "dup":
        lines = text.splitlines(keepends=True)
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        text = b"".join(lines[: i + 1] + lines[i:])
    elif damage == "indent":
        lines = text.splitlines(keepends=True)
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        lines[i:i + 1] = [b"   " + line for line in lines[i:i + 1]]
        text = b"".join(lines)
    return text


def _count(kind: str) -> None:
    TRIED[kind] += 1
    out = os.environ.get("MILVUS_ZONES_COUNT_FILE")
    if out:
        Path(out).write_text(json.dumps(TRIED))


@settings(max_examples=FRONT, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=stack_files())
def test_reading_and_validating_refuses_only_by_name(text):
    _count("front")
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "Pulumi.gen.yaml"
        f.write_bytes(text)
        try:
            sf = load_stack_file(f, PROJECT)
        except StackFileError as e:
            assert e.problems and all(p.message for p in e.problems)
            return
        stack_cfg = read_stack_config(f, PROJECT)
        for p in spec_problems(sf, config_for_program(PROJECT, stack_cfg)[0]):
            assert p.key.startswith("milvus-zones:") and p.message and p.line


@settings(max_examples=CLI, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=stack_files())
def test_the_command_exits_0_or_2_without_traceback(text):
    _count("cli")
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "Pulumi.gen.yaml"
        f.write_bytes(text)
        result = CliRunner().invoke(app, ["plan", str(f), "--format", "json"])
    assert result.exit_code in (0, 2), (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert result.stdout == "" and "error:" in result.stderr
