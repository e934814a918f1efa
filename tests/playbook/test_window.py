"""The maintenance window and the schedule, with the clock injected: no database, no sleeping."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from runner.planning.revisions import Downgrade, Revision
from runner.playbook.schedule import Schedule, WindowOverride
from runner.playbook.timings import Estimate
from runner.playbook.window import Window, span
from tests.playbook.conftest import FakeClock, at

NY = "America/New_York"
TUESDAY_NIGHT = Window(NY, time(2, 0), time(4, 0), days=frozenset({1}))  # the seed's Tuesday 2-4 AM Eastern
MIDNIGHT = Window(NY, time(22, 0), time(2, 0), days=frozenset({0}))  # Monday 22:00 to Tuesday 02:00


def test_open_inside_and_closed_outside():
    """Tuesday 02:00 (inclusive) to 04:00 (exclusive), local time."""
    assert TUESDAY_NIGHT.current(at("2026-02-10 02:00")) is not None
    assert TUESDAY_NIGHT.current(at("2026-02-10 03:59")) is not None
    assert TUESDAY_NIGHT.current(at("2026-02-10 04:00")) is None
    assert TUESDAY_NIGHT.current(at("2026-02-10 01:59")) is None
    assert TUESDAY_NIGHT.current(at("2026-02-11 03:00")) is None  # a Wednesday


def test_the_window_is_wall_clock_time_in_its_zone_whatever_the_caller_zone():
    """07:30 UTC on a winter Tuesday is 02:30 in New York: open."""
    assert TUESDAY_NIGHT.current(datetime(2026, 2, 10, 7, 30, tzinfo=UTC)) is not None
    assert TUESDAY_NIGHT.current(datetime(2026, 2, 10, 2, 30, tzinfo=UTC)) is None


def test_a_window_crossing_midnight_belongs_to_the_day_it_opens():
    """Monday 22:00-02:00 is open at Tuesday 01:00 and closed at Tuesday 22:00."""
    opening = MIDNIGHT.current(at("2026-02-10 01:00"))
    assert opening is not None
    assert MIDNIGHT.local(opening.opens) == "Mon 2026-02-09 22:00 EST"
    assert MIDNIGHT.local(opening.closes) == "Tue 2026-02-10 02:00 EST"
    assert MIDNIGHT.current(at("2026-02-10 22:00")) is None
    assert MIDNIGHT.current(at("2026-02-09 21:59")) is None


def test_spring_forward_shortens_the_night():
    """On 2026-03-08 02:00-04:00 local is one hour: 02:00 doesn't exist, the window opens at 03:00 EDT."""
    window = Window(NY, time(2, 0), time(4, 0), days=frozenset({6}))
    opening = window.opening_on(date(2026, 3, 8))
    assert opening is not None
    assert (opening.closes - opening.opens).total_seconds() == 3600
    assert window.local(opening.opens) == "Sun 2026-03-08 03:00 EDT"


def test_a_start_inside_the_spring_gap_opens_when_the_gap_ends():
    """02:30 never happens that night; the window opens at the first instant the clock reads 02:30 or later."""
    window = Window(NY, time(2, 30), time(4, 0), days=frozenset({6}))
    opening = window.opening_on(date(2026, 3, 8))
    assert opening is not None
    assert opening.opens == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert window.local(opening.opens) == "Sun 2026-03-08 03:00 EDT"


def test_fall_back_lengthens_the_night():
    """On 2026-11-01 01:00-03:00 local is three hours; an ambiguous 01:00 means its first occurrence."""
    window = Window(NY, time(1, 0), time(3, 0), days=frozenset({6}))
    opening = window.opening_on(date(2026, 11, 1))
    assert opening is not None
    assert (opening.closes - opening.opens).total_seconds() == 3 * 3600
    assert window.local(opening.opens) == "Sun 2026-11-01 01:00 EDT"
    assert window.local(opening.closes) == "Sun 2026-11-01 03:00 EST"


def test_the_closed_message_names_the_next_opening_and_the_wait():
    """The refusal tells the operator when to come back."""
    message = TUESDAY_NIGHT.closed_message(at("2026-02-09 12:00"))
    assert message == (
        "The maintenance window (tue 02:00-04:00 America/New_York) is closed; it next opens "
        "Tue 2026-02-10 02:00 EST, in 14h"
    )


def test_dates_restrict_the_window_to_one_night():
    """A one-off window on listed dates, and no next opening once they have passed."""
    window = Window(NY, time(2, 0), time(4, 0), dates=frozenset({date(2026, 2, 10)}))
    assert window.current(at("2026-02-10 02:30")) is not None
    assert window.current(at("2026-02-17 02:30")) is None
    assert window.next_opening(at("2026-02-11 00:00")) is None
    assert window.closed_message(at("2026-02-11 00:00")).endswith("is closed and does not open again")


def test_a_naive_clock_is_a_programming_error():
    """The clock must be aware; a naive datetime would silently mean the machine's zone."""
    with pytest.raises(ValueError, match="aware datetime"):
        TUESDAY_NIGHT.current(datetime(2026, 2, 10, 3, 0))


def test_span_reads_like_a_person():
    assert [span(ms) for ms in (0, 30_000, 2_700_000, 12_000_000, 590_000_000)] == [
        "0s",
        "30s",
        "45min",
        "3h 20min",
        "6d 19h",
    ]


class FixedEstimates:
    def __init__(self, **ms: int) -> None:
        self.ms = ms

    def estimate(self, revision: str) -> Estimate:
        return Estimate(self.ms.get(f"r{revision}", 1000), "test")


def rev(name: str) -> Revision:
    return Revision(name, (), name, "", Downgrade.FULL)


def test_the_run_is_refused_when_the_first_step_does_not_fit():
    """Two minutes before the end, a five-minute first step is refused before anything starts."""
    schedule = Schedule(TUESDAY_NIGHT, FixedEstimates(r1=300_000), clock=FakeClock(at("2026-02-10 03:58")))  # type: ignore[arg-type]
    refusal = schedule.refusal([rev("1")])
    assert refusal is not None
    assert refusal.message == (
        "The first step 1 is expected to take 5min (test), which does not fit in the 2min left before the window "
        "closes at Tue 2026-02-10 04:00 EST. Nothing was changed."
    )


def test_a_step_that_would_overrun_is_deferred_with_the_next_window_named():
    """The margin counts: 10 minutes left, a 5-minute step and a 6-minute margin don't fit."""
    window = Window(NY, time(2, 0), time(4, 0), days=frozenset({1}), finish_margin_ms=360_000)
    schedule = Schedule(window, FixedEstimates(r2=300_000), clock=FakeClock(at("2026-02-10 03:50")))  # type: ignore[arg-type]
    deferral = schedule.deferral("2")
    assert deferral is not None
    assert deferral.reason == (
        "step 2 was not started: it is expected to take 5min (test), and the window closes at "
        "Tue 2026-02-10 04:00 EST, 10min from now (less the 6min finish margin); the rest can run in the next "
        "window, from Tue 2026-02-17 02:00 EST"
    )


def test_the_clock_moves_between_steps():
    """Each step is measured against the clock at its own start, not the run's."""
    schedule = Schedule(TUESDAY_NIGHT, FixedEstimates(), clock=FakeClock(at("2026-02-10 03:59:57"), step_s=2))  # type: ignore[arg-type]
    assert schedule.deferral("1") is None  # read at 03:59:57: ends 03:59:58
    assert schedule.deferral("2") is None  # read at 03:59:59: ends exactly at the close, which fits
    third = schedule.deferral("3")  # read at 04:00:01: the window has closed
    assert third is not None
    assert third.reason.startswith(
        "the maintenance window (tue 02:00-04:00 America/New_York) closed before step 3"
    )


def test_an_override_disables_the_window():
    """--override-window: no refusal and no deferral, whatever the time."""
    override = WindowOverride("incident 4711: the app is down without this column", "ops@host")
    schedule = Schedule(
        TUESDAY_NIGHT, FixedEstimates(), clock=FakeClock(at("2026-02-11 12:00")), override=override
    )  # type: ignore[arg-type]
    assert schedule.refusal([rev("1")]) is None
    assert schedule.deferral("1") is None
    assert "(overridden for this run)" in schedule.status([rev("1")])


def test_the_plan_status_says_whether_everything_fits():
    """runner plan shows the window, the time left and whether the whole plan fits."""
    clock = FakeClock(at("2026-02-10 03:00"))
    schedule = Schedule(TUESDAY_NIGHT, FixedEstimates(r1=1_800_000, r2=1_800_000), clock=clock)  # type: ignore[arg-type]
    assert schedule.status([rev("1"), rev("2")]) == (
        "tue 02:00-04:00 America/New_York is open until Tue 2026-02-10 04:00 EST (1h left); "
        "the steps are estimated at 1h in all and fit"
    )
