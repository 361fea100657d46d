"""`milvus-zones compare`: the seed's table for every stack, and the copy in README.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support.graphs import graph_of
from typer.testing import CliRunner

from milvus_zones.analysis import compare
from milvus_zones.cli import app
from milvus_zones.engine.stacks import available_stacks

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def cached(monkeypatch):
    from milvus_zones.engine import offline

    monkeypatch.setattr(offline, "run_program", lambda program, cfg, preview=False: graph_of(cfg.stack))


def _rows(prices=None):
    return {r.stack: r for r in compare.compare([graph_of(s) for s in available_stacks()], prices)}


def test_every_stack_has_a_row():
    assert sorted(_rows()) == available_stacks()


DAILY = "24 h + run time, kept 7 d (30 2 * * * UTC)"  # the default backup schedule's RPO


def test_the_three_self_hosted_modes_are_pinned():
    rows = _rows()
    cells = {s: compare._cells(rows[s]) for s in ("single-zone", "multi-zone-basic", "multi-zone-ha")}
    assert cells["single-zone"] == ["single-zone", "single-zone", "1 (h)", "no zone-level DR", "no zone-level DR",
                                    DAILY, "99.9%", "1", "1 replica on 2 query nodes"]
    assert cells["multi-zone-basic"] == ["multi-zone-basic", "multi-zone-basic", "2 (h, relaunch in i)", "0 s",
                                         "reads 17.0 min, writes 11.3 min", DAILY, "99.9%", "1.36",
                                         "1 replica on 3 query nodes"]
    assert cells["multi-zone-ha"] == ["multi-zone-ha", "multi-zone-ha", "2 (h, i)", "0 s", "reads 6 s, writes 37.5 s",
                                      DAILY, "99.95%", "1.73", "2 replicas on 4 query nodes"]


def test_costs_follow_node_counts_and_sizes():
    # single-zone: 3 quorum x g7.large (2) + 2 compute x g7.2xlarge (8) = 22; HA: 3 x 2 + 4 x 8 = 38.
    rows = _rows()
    assert rows["single-zone"].cost == 22 and rows["multi-zone-ha"].cost == 38
    priced = _rows({"ecs.g7.large": 1.0, "ecs.g7.xlarge": 5.0, "ecs.g7.2xlarge": 10.0})
    assert priced["multi-zone-ha"].relative_cost == round((3 + 40) / (3 + 20), 2)


def test_price_file_json_and_yaml(tmp_path, cached):
    j = tmp_path / "p.json"
    j.write_text(json.dumps({"ecs.g7.large": 0.5, "ecs.g7.xlarge": 1.0, "ecs.g7.2xlarge": 2.0}))
    y = tmp_path / "p.yaml"
    y.write_text("ecs.g7.large: 0.5\necs.g7.xlarge: 1.0\necs.g7.2xlarge: 2.0\n")
    outs = [CliRunner().invoke(app, ["compare", "--prices", str(p)]) for p in (j, y)]
    assert all(o.exit_code == 0 for o in outs) and outs[0].output == outs[1].output
    assert "hourly price (--prices)" in outs[0].output


@pytest.mark.parametrize("content, message", [
    ('{"ecs.g7.large": 0.5}', "no price for instance type 'ecs.g7.2xlarge'"),
    ('{"ecs.g7.large": -1}', "must be a positive number"),
    ("[1, 2]", "expected a mapping"),
])
def test_bad_price_files_exit_2(tmp_path, cached, content, message):
    f = tmp_path / "p.json"
    f.write_text(content)
    result = CliRunner().invoke(app, ["compare", "--prices", str(f)])
    assert result.exit_code == 2 and message in result.output


def test_readme_shows_the_table_as_generated(cached):
    result = CliRunner().invoke(app, ["compare", "--format", "markdown"])
    assert result.exit_code == 0
    m = re.search(r"<!-- compare:start -->\n(.*?)<!-- compare:end -->", README.read_text(), re.S)
    assert m, "README.md has no <!-- compare:start --> ... <!-- compare:end --> section"
    assert m.group(1).strip() == result.output.strip(), (
        "README's table is stale: regenerate it with `milvus-zones compare --format markdown`")
