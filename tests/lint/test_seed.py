"""The seed write-up's assessment, reproduced from the SQL and the real table sizes."""

from __future__ import annotations

from contextlib import closing

from examples.credentialmate.fill import conninfo_from_url, fill
from runner.lint import Risk, Severity, analyse, is_irreversible, read_stats
from runner.planning.project import AlembicProject
from tests import pg
from tests.conftest import EXAMPLE_INI, EXAMPLE_PENDING, PRODUCTION_REVISION

RANK = {Risk.LOW: 0, Risk.MEDIUM: 1, Risk.HIGH: 2, Risk.UNKNOWN: 3}


def seed_report(stats=None):
    project = AlembicProject.load(EXAMPLE_INI)
    pending = project.pending((PRODUCTION_REVISION,))
    assert [r.revision for r in pending] == EXAMPLE_PENDING
    return analyse(project, pending, stats=stats)


def assert_seed_shape(report) -> None:
    risks = {step.revision: step.risk for step in report.steps}
    assert risks == {
        "20260115_0300": Risk.LOW,
        "20260127_0100": Risk.LOW,
        "7702d353e5b8": Risk.LOW,
        "20260131_0000": Risk.MEDIUM,
    }
    assert max(report.steps, key=lambda s: RANK[s.risk]).revision == "20260131_0000"
    assert [step.reversible for step in report.steps] == [True, False, True, True]
    assert is_irreversible(report, "20260127_0100") == (
        "it adds the value 'stage_changed' to enum coordinator_action_type, and PostgreSQL cannot remove an enum value"
    )
    first, _, third, last = report.steps
    assert [(lock.table, lock.mode) for lock in first.locks] == [
        ("providers", "SHARE ROW EXCLUSIVE"),
        ("organizations", "SHARE ROW EXCLUSIVE"),
        ("users", "SHARE ROW EXCLUSIVE"),
    ]
    assert [(lock.table, lock.mode) for lock in third.locks] == [("users", "SHARE ROW EXCLUSIVE")]
    assert [(lock.table, lock.mode) for lock in last.locks][:2] == [
        ("providers", "ACCESS EXCLUSIVE"),
        ("licenses", "ACCESS EXCLUSIVE"),
    ]
    assert report.blocking() == []
    assert all(step.profile == "short-lock-ddl" for step in report.steps)


def test_seed_plan_sized_by_the_production_database(production_db: str) -> None:
    """At 20260115_0200 with 5,000 providers: the four steps rated as the seed did, sized from real counts."""
    fill(conninfo_from_url(pg.url_for(production_db)), 5_000)
    with closing(pg.connect(production_db)) as conn:
        stats = read_stats(conn)
    report = seed_report(stats)
    assert_seed_shape(report)
    last = report.step("20260131_0000")
    providers = next(
        f for f in report.findings_for("20260131_0000") if f.code == "LK109" and f.table == "providers"
    )
    assert providers.severity is Severity.INFO
    assert providers.message.startswith(
        "20 statements in this step take an ACCESS EXCLUSIVE lock on providers (ADD COLUMN home_address, "
        "home_address_2, home_city and 17 more), held until the step commits: about "
    )
    assert "here (providers has about 5,000 rows, " in providers.message
    # catalog-only changes: milliseconds, not the seed's guess of 10-30 s
    assert last.estimated_ms is not None and last.estimated_ms < 1_000
    fk_note = next(f for f in report.findings_for("20260115_0300") if f.code == "LK110")
    assert fk_note.message.startswith(
        "CREATE TABLE provider_credentials adds foreign keys referencing providers, organizations and users, which "
        "takes a SHARE ROW EXCLUSIVE lock on each of them"
    )
    assert "providers has about 5,000 rows" in fk_note.message


def test_seed_plan_without_a_database_assumes_large_tables() -> None:
    """Offline, the ratings are the same; the estimates say the sizes are unknown."""
    report = seed_report()
    assert_seed_shape(report)
    assert not report.sized
    note = next(
        f for f in report.findings_for("20260131_0000") if f.code == "LK109" and f.table == "providers"
    )
    assert "about 50ms once granted, whatever the size of providers." in note.message


def test_fresh_database_from_base_is_never_refused(new_db) -> None:
    """An empty database migrated from base: no block finding, every step low risk or one-way only."""
    name = new_db()
    with closing(pg.connect(name)) as conn:
        stats = read_stats(conn)
    project = AlembicProject.load(EXAMPLE_INI)
    report = analyse(project, project.pending(()), stats=stats)
    assert report.blocking() == []
    assert {step.risk for step in report.steps} == {Risk.LOW}
    assert [f.code for f in report.findings if f.severity is not Severity.INFO] == ["IR101"]
