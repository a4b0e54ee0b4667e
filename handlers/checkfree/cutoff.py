"""CheckFree takes files by noon Eastern time on weekdays (seed 001 "Scheduling Payments")."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from handlers.checkfree.settings import CheckFreeSettings


def after_cutoff(cf: CheckFreeSettings, now: dt.datetime) -> str | None:
    """Why a file sent at ``now`` (aware) misses today's processing, or None when in time."""
    local = now.astimezone(ZoneInfo(cf.cutoff_tz))
    hh, mm = (int(x) for x in cf.cutoff.split(":"))
    if local.weekday() >= 5:
        return f"written on a {local.strftime('%A')} ({local:%Y-%m-%d %H:%M %Z}): CheckFree processes " \
               "files on weekdays only"
    if local.time() >= dt.time(hh, mm):
        return f"written at {local:%Y-%m-%d %H:%M %Z}, after CheckFree's {cf.cutoff} cut-off: " \
               "processed the next business day"
    return None
