"""Verdicts that depend on the server's release follow server_version_num; without a database, 14 is assumed."""

from __future__ import annotations

from runner.lint import Severity, analyse_steps
from runner.lint.report import summary_line
from runner.lint.versions import ServerVersion, major_text
from tests.lint.helpers import big, findings, lint, only, step

CONSTANT_DEFAULT = "ALTER TABLE providers ADD COLUMN status text DEFAULT 'active'"
PROVEN = "ALTER TABLE providers ALTER COLUMN npi SET NOT NULL"
PROOF = "ALTER TABLE providers ADD CONSTRAINT providers_npi_not_null CHECK (npi IS NOT NULL)"


def judged(sql: str, num: int, *, earlier: tuple[str, ...] = ()):
    steps = [step(text, rev=f"r1{chr(97 + n)}") for n, text in enumerate(earlier)]
    return analyse_steps([*steps, step(sql)], stats=big(), server_version_num=num)


def test_release_text() -> None:
    assert major_text(150020) == "PostgreSQL 15"
    assert major_text(90624) == "PostgreSQL 9.6"
    assert ServerVersion.of(None).text() == "PostgreSQL 14 (assumed: no database to ask)"
    assert ServerVersion.of(180001).here() == "on PostgreSQL 18 here"


def test_without_a_database_the_oldest_supported_release_is_assumed_and_said() -> None:
    """Offline the report says which release it judged for, in the summary and in the JSON."""
    report = lint(CONSTANT_DEFAULT)
    assert report.server_version == ServerVersion(140000, assumed=True)
    assert report.as_json()["server_version_num"] == 140000
    assert report.as_json()["server_version_assumed"] is True
    assert summary_line(report).endswith("; PostgreSQL 14 assumed, as there is no database to ask.")


def test_the_database_release_is_used_when_sized(sized_stats) -> None:
    report = lint("SELECT 1", stats=sized_stats)
    assert report.server_version.assumed is False
    assert report.server_version.major == "PostgreSQL 15"
    assert not summary_line(report).endswith("assumed, as there is no database to ask.")


def test_constant_default_rewrites_before_postgresql_11() -> None:
    """ADD COLUMN ... DEFAULT 'active' is catalog only from 11 on; on 10 it rewrites the table (RW102)."""
    assert not findings(judged(CONSTANT_DEFAULT, 150000), "RW102")
    finding = only(judged(CONSTANT_DEFAULT, 100023), "RW102")
    assert finding.severity is Severity.BLOCK
    assert finding.message.startswith(
        "ADD COLUMN status on providers rewrites the whole table and rebuilds its indexes (PostgreSQL 10 stores the "
        "default in every existing row; PostgreSQL 11 and later keep a constant default in the catalog)"
    )


def test_set_not_null_uses_a_validated_check_from_postgresql_12() -> None:
    """The CHECK proves NOT NULL on 12 and later; on 11 SET NOT NULL scans anyway, and LK105 says why."""
    assert not findings(judged(PROVEN, 120000, earlier=(PROOF,)), "LK105")
    finding = only(judged(PROVEN, 110000, earlier=(PROOF,)), "LK105")
    assert finding.message.endswith(
        "PostgreSQL 11 can't use a validated CHECK (col IS NOT NULL) instead: that needs PostgreSQL 12."
    )


def test_enum_add_value_in_a_transaction_is_refused_before_postgresql_12() -> None:
    sql = "ALTER TYPE status ADD VALUE 'archived'"
    assert not findings(judged(sql, 120000), "TX101")
    finding = only(judged(sql, 110000), "TX101")
    assert (
        "(ALTER TYPE ... ADD VALUE, before PostgreSQL 12, cannot run inside a transaction block"
        in finding.message
    )


def test_detach_on_an_existing_table_before_postgresql_14(sized_stats) -> None:
    report = analyse_steps(
        [step("ALTER TABLE events DETACH PARTITION events_2025")],
        stats=sized_stats,
        server_version_num=130000,
    )
    finding = only(report, "LK115")
    assert finding.severity is Severity.INFO
    assert finding.help.startswith("Keep the step short, as PostgreSQL 13 has no DETACH ... CONCURRENTLY;")


def test_reindex_concurrently_needs_postgresql_12() -> None:
    sql = "REINDEX TABLE providers"
    assert only(judged(sql, 110000), "LK107").help.startswith(
        "PostgreSQL 11 has no REINDEX CONCURRENTLY (PostgreSQL 12 and later)"
    )
    assert "REINDEX TABLE CONCURRENTLY providers" in only(judged(sql, 150000), "LK107").help
