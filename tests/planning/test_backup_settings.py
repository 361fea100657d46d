"""The `backup` settings: schedule, retention, the RPO a schedule gives, and what the managed backend refuses."""

import json

import pytest

from milvus_zones.planning.plan import plan as make_plan
from milvus_zones.planning.schedule import describe_interval, max_interval_s
from milvus_zones.planning.spec import SpecError
from milvus_zones.planning.stackconfig import spec_from_config

BASE = {
    "milvus-zones:mode": "single-zone",
    "milvus-zones:region": "cn-hangzhou",
    "milvus-zones:zones": '["cn-hangzhou-h"]',
    "milvus-zones:bucketName": "acme-milvus",
}


def spec(**overrides):
    config = {**BASE, **{f"milvus-zones:{k}": json.dumps(v) if isinstance(v, dict) else v
                         for k, v in overrides.items()}}
    return spec_from_config({k: v for k, v in config.items() if v is not None})  # None: the key left out


def problems(**overrides) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as e:
        spec(**overrides)
    return e.value.problems


def test_defaults_back_up_daily_and_keep_a_week():
    b = make_plan(spec()).backup
    assert (b.schedule, b.retention_days, b.prefix, b.name_prefix) == ("30 2 * * *", 7, "backup/milvus", "milvus")
    assert b.interval_s == 86400


@pytest.mark.parametrize(("schedule", "interval"), [
    ("30 2 * * *", 86400),
    ("0 * * * *", 3600),
    ("15 */6 * * *", 6 * 3600),
    ("0 3 * * 0", 7 * 86400),
    ("0 1 * * 1-5", 3 * 86400),  # Friday 01:00 to Monday 01:00
    ("0 0 1 * *", 31 * 86400),
])
def test_the_longest_interval_of_a_schedule_is_its_rpo(schedule, interval):
    assert max_interval_s(schedule) == interval


def test_intervals_read_in_the_unit_they_are_set_in():
    assert [describe_interval(s) for s in (86400, 3600, 1800, 7 * 86400)] == ["24 h", "1 h", "30 min", "7 d"]


@pytest.mark.parametrize("bad", ["daily", "30 2 * *", "61 * * * *", "0 0 L * *", "0 0 30 2 *", "@daily"])
def test_a_schedule_that_is_not_five_valid_cron_fields_is_refused_naming_the_setting(bad):
    ((key, message),) = problems(backup={"schedule": bad})
    assert key == "backup.schedule"
    assert repr(bad) in message


def test_retention_shorter_than_the_interval_would_leave_times_without_a_backup():
    ((key, message),) = problems(backup={"schedule": "0 3 * * 0", "retentionDays": 7})
    assert key == "backup"
    assert "retentionDays (7)" in message and "7 days" in message
    assert spec(backup={"schedule": "0 3 * * 0", "retentionDays": 8}).backup.retention_days == 8


@pytest.mark.parametrize("days", [0, 3651, "a week"])
def test_retention_out_of_range_is_refused(days):
    ((key, _),) = problems(backup={"retentionDays": days})
    assert key == "backup.retentionDays"


def test_unknown_backup_key_names_what_is_allowed():
    ((key, message),) = problems(backup={"keep": 3})
    assert key == "backup.keep"
    assert message == "unknown setting of backup; allowed: enabled, schedule, retentionDays"


def test_the_managed_backend_takes_enabled_only():
    managed = {"backend": "managed", "bucketName": None}  # the managed backend refuses a bucket of its own
    assert spec(**managed, backup={"enabled": False}).backup.enabled is False
    found = problems(**managed, backup={"schedule": "0 * * * *", "retentionDays": 3})
    assert [k for k, _ in found] == ["backup.schedule", "backup.retentionDays"]
    assert all("auto_backup" in m for _, m in found)


def test_no_backup_plan_when_off():
    assert make_plan(spec(backup={"enabled": False})).backup is None
