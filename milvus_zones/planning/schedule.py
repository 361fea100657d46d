"""Cron schedules of the backups: when they fire, and the longest wait between two runs (the RPO)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from functools import lru_cache

from cronsim import CronSim, CronSimError

# Two years cover every pattern a five-field schedule can have (leap years, weekdays against
# month days); the cap on runs keeps an every-minute schedule cheap, and its gaps are uniform anyway.
_WINDOW = timedelta(days=2 * 366 + 1)
_MAX_RUNS = 20_000
_START = datetime(2027, 1, 1)  # any fixed start: the result must not depend on when it is computed


class ScheduleError(ValueError):
    """A schedule that cron accepts as text but that never fires, or fires too rarely to measure."""


@lru_cache(maxsize=256)
def max_interval_s(schedule: str) -> int:
    """The longest time between two consecutive runs of `schedule`, in seconds (UTC, no DST)."""
    try:
        runs = CronSim(schedule, _START)
    except CronSimError as e:
        raise ScheduleError(f"not a valid cron schedule ({e})") from None
    times: list[datetime] = []
    for t in runs:
        times.append(t)
        if len(times) >= _MAX_RUNS or t - _START > _WINDOW:
            break
    if len(times) < 3:
        raise ScheduleError("fires fewer than three times in two years; back up at least yearly")
    return int(max((b - a for a, b in itertools.pairwise(times)), default=timedelta(0)).total_seconds())


def describe_interval(seconds: int) -> str:
    """24 h, 7 d, 30 min: the unit a reader expects for the size."""
    if seconds % 86400 == 0 and seconds >= 2 * 86400:
        return f"{seconds // 86400} d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min"
