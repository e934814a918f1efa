"""The maintenance window: when a run may start, and whether a step still fits.

Times are wall-clock times in the window's own time zone, so "02:00-04:00
America/New_York" means 02:00 local time whatever the UTC offset is that day.
Every instant is turned into UTC before it is compared or subtracted (Python
does wall-clock arithmetic between two datetimes of the same zone, which is
wrong across a DST change). A window whose end is at or before its start
closes the next day. On the night clocks go forward a time in the gap
(02:30 that doesn't exist) means the moment the gap ends; on the night they
go back, an ambiguous time means its first occurrence. The clock is always
injected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEARCH_DAYS = 400


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Opening:
    """One opening of the window, as UTC instants."""

    opens: datetime
    closes: datetime

    def contains(self, now: datetime) -> bool:
        return self.opens <= _utc(now) < self.closes

    def remaining_ms(self, now: datetime) -> int:
        return max(0, int((self.closes - _utc(now)).total_seconds() * 1000))


@dataclass(frozen=True)
class Window:
    timezone: str
    start: time
    end: time
    days: frozenset[int] | None = None  # 0 = Monday
    dates: frozenset[date] | None = None
    finish_margin_ms: int = 0

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def opens_on(self, day: date) -> bool:
        if self.dates is not None:
            return day in self.dates
        return self.days is None or day.weekday() in self.days

    def opening_on(self, day: date) -> Opening | None:
        """The opening that starts on local date ``day``, if the window opens that day."""
        if not self.opens_on(day):
            return None
        end_day = day + timedelta(days=1) if self.crosses_midnight else day
        return Opening(self._instant(day, self.start), self._instant(end_day, self.end))

    def current(self, now: datetime) -> Opening | None:
        """The opening ``now`` falls in, or None when the window is closed."""
        today = _utc(now).astimezone(self.zone).date()
        for day in (today - timedelta(days=1), today):
            opening = self.opening_on(day)
            if opening is not None and opening.contains(now):
                return opening
        return None

    def next_opening(self, now: datetime) -> Opening | None:
        """The first opening that starts after ``now`` (None when no listed date is left)."""
        today = _utc(now).astimezone(self.zone).date()
        for offset in range(SEARCH_DAYS):
            opening = self.opening_on(today + timedelta(days=offset))
            if opening is not None and opening.opens > _utc(now):
                return opening
        return None

    def fits(self, opening: Opening, now: datetime, duration_ms: int) -> bool:
        """True when a step of ``duration_ms`` started now ends by the close, less the margin."""
        finish = _utc(now) + timedelta(milliseconds=duration_ms + self.finish_margin_ms)
        return finish <= opening.closes

    # -- words ----------------------------------------------------------------------------------
    def describe(self) -> str:
        if self.dates is not None:
            when = ", ".join(d.isoformat() for d in sorted(self.dates))
        elif self.days is None or len(self.days) == 7:
            when = "every day"
        else:
            when = ", ".join(DAY_NAMES[d] for d in sorted(self.days))
        return f"{when} {self.start:%H:%M}-{self.end:%H:%M} {self.timezone}"

    def local(self, instant: datetime) -> str:
        """An instant in the window's zone: ``Tue 2026-02-10 02:00 EST``."""
        shown = _utc(instant).astimezone(self.zone)
        return f"{shown:%a %Y-%m-%d %H:%M} {shown.tzname()}"

    def closed_message(self, now: datetime) -> str:
        following = self.next_opening(now)
        if following is None:
            return f"The maintenance window ({self.describe()}) is closed and does not open again"
        wait = span(int((following.opens - _utc(now)).total_seconds() * 1000))
        return (
            f"The maintenance window ({self.describe()}) is closed; it next opens {self.local(following.opens)}, "
            f"in {wait}"
        )

    def _instant(self, day: date, at: time) -> datetime:
        local = datetime.combine(day, at, tzinfo=self.zone)
        instant = local.astimezone(UTC)
        if instant.astimezone(self.zone).replace(tzinfo=None) != local.replace(tzinfo=None):
            # A time in the spring-forward gap: the window starts (or ends) when the gap ends.
            instant = _gap_end(local)
        return instant


def _gap_end(local: datetime) -> datetime:
    """The first instant at which the wall clock reads ``local`` or later (the end of the gap)."""
    wall = local.replace(tzinfo=None)
    zone = local.tzinfo
    low, high = sorted(local.replace(fold=fold).astimezone(UTC) for fold in (0, 1))
    while (high - low) > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("the window needs an aware datetime (the clock must return one with a time zone)")
    return instant.astimezone(UTC)


def span(ms: int) -> str:
    """A wait as people say it: 6d 19h, 3h 20min, 45min, 30s."""
    seconds = max(0, ms // 1000)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (seconds, "s")]
    shown = [f"{value}{unit}" for value, unit in parts if value][:2]
    return " ".join(shown) or "0s"


def parse_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
