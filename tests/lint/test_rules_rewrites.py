"""RW rules: rewrites of the whole table, a bad/good pair each, messages compared verbatim."""

from __future__ import annotations

from runner.lint import Severity, Stats
from runner.lint.sizing import Column
from runner.lint.types import rewrites
from tests.lint.helpers import big, lint, none, only, table

BIG = "providers has about 1,000,000 rows, 250 MB with indexes"
LOCKED = "while holding an ACCESS EXCLUSIVE lock, which blocks every query on providers (reads included) until the step commits"
BATCH = "    with op.get_context().autocommit_block():\n        for start in range(0, MAX_ID + 1, 10_000):  # one short transaction per batch\n"


def with_column(name: str, type_: str) -> Stats:
    return Stats.of(table("providers", 1_000_000, 200, 50, columns={name: Column(type_)}))


def test_rw101_bad_type_change_rewrites() -> None:
    """varchar(10) to bigint is not binary compatible: the table is rewritten under ACCESS EXCLUSIVE."""
    finding = only(
        lint(
            "ALTER TABLE providers ALTER COLUMN npi TYPE BIGINT",
            stats=with_column("npi", "character varying(10)"),
        ),
        "RW101",
    )
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        "ALTER COLUMN npi TYPE bigint on providers rewrites the whole table and rebuilds its indexes (character "
        f"varying(10) is not binary compatible with bigint) {LOCKED}: about 8.7s here ({BIG})."
    )
    assert finding.help == (
        "Add a new column, backfill it in batches, move the application over, then swap the columns in a later "
        "revision:\n"
        '    op.add_column("providers", sa.Column("npi_new", ...))  # type bigint, nullable\n'
        + BATCH
        + '            op.execute(f"UPDATE providers SET npi_new = npi WHERE npi_new IS NULL AND id >= {start} AND '
        'id < {start + 10_000}")\n'
        "    # later, once the application uses the new column:\n"
        '    op.drop_column("providers", "npi")\n'
        '    op.alter_column("providers", "npi_new", new_column_name="npi")'
    )


def test_rw101_good_widening_varchar_is_catalog_only() -> None:
    """varchar(10) to varchar(20) needs no rewrite when the database says the old type."""
    report = lint(
        "ALTER TABLE providers ALTER COLUMN npi TYPE VARCHAR(20)",
        stats=with_column("npi", "character varying(10)"),
    )
    assert none(report, "RW101")


def test_rw101_without_a_database_assumes_a_rewrite() -> None:
    finding = only(lint("ALTER TABLE providers ALTER COLUMN npi TYPE VARCHAR(20)"), "RW101")
    assert finding.severity is Severity.BLOCK
    assert "(the current type can't be compared without a database URL)" in finding.message


def test_rewrites_knows_the_binary_compatible_changes() -> None:
    """The catalog-only type changes PostgreSQL documents, and a few that rewrite."""
    assert not rewrites("character varying(10)", "character varying(20)")
    assert not rewrites("character varying(10)", "text")
    assert not rewrites("text", "character varying")
    assert not rewrites("numeric(10,2)", "numeric(12,2)")
    assert not rewrites("numeric(10,2)", "numeric")
    assert rewrites("character varying(20)", "character varying(10)")
    assert rewrites("numeric(10,2)", "numeric(10,3)")
    assert rewrites("integer", "bigint")
    assert rewrites("timestamp without time zone", "timestamp with time zone")
    assert rewrites("text", "text", using=True)


def test_rw102_bad_volatile_default_rewrites() -> None:
    """gen_random_uuid() is evaluated for every existing row."""
    finding = only(
        lint("ALTER TABLE providers ADD COLUMN token UUID DEFAULT gen_random_uuid()", stats=big()), "RW102"
    )
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        "ADD COLUMN token on providers rewrites the whole table and rebuilds its indexes (its default "
        f"gen_random_uuid() is volatile, so it is evaluated for every existing row) {LOCKED}: about 8.7s here ({BIG})."
    )
    assert finding.help == (
        "Add the column without the default, give new rows the default separately, and backfill existing rows in "
        "batches:\n"
        '    op.add_column("providers", sa.Column("token", ...))  # no default: catalog only\n'
        '    op.execute("ALTER TABLE providers ALTER COLUMN token SET DEFAULT gen_random_uuid()")\n'
        + BATCH
        + '            op.execute(f"UPDATE providers SET token = gen_random_uuid() WHERE token IS NULL AND id >= '
        '{start} AND id < {start + 10_000}")'
    )


def test_rw102_bad_serial_column_draws_a_sequence_value_per_row() -> None:
    finding = only(lint("ALTER TABLE providers ADD COLUMN seq BIGSERIAL", stats=big()), "RW102")
    assert "(a bigserial column draws a sequence value for every existing row)" in finding.message
    assert '    op.execute("CREATE SEQUENCE providers_seq_seq OWNED BY providers.seq")' in finding.help


def test_rw102_good_constant_and_stable_defaults_are_catalog_only() -> None:
    """A constant, now() or CURRENT_TIMESTAMP default is stored once in the catalog (PostgreSQL 11+)."""
    sql = (
        "ALTER TABLE providers ADD COLUMN tier VARCHAR(20) DEFAULT 'basic' NOT NULL;\n\n"
        "ALTER TABLE providers ADD COLUMN seen_at TIMESTAMP WITH TIME ZONE DEFAULT now();\n\n"
        "ALTER TABLE providers ADD COLUMN checked_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP;\n\n"
        "ALTER TABLE providers ADD COLUMN meta JSONB DEFAULT '{}'::jsonb"
    )
    assert none(lint(sql, stats=big()), "RW102")


def test_rw103_bad_stored_generated_column() -> None:
    sql = "ALTER TABLE providers ADD COLUMN full_name TEXT GENERATED ALWAYS AS (first_name || ' ' || last_name) STORED"
    finding = only(lint(sql, stats=big()), "RW103")
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        "ADD COLUMN full_name on providers is a stored generated column: PostgreSQL computes it for every existing "
        "row and rewrites the whole table and its indexes while holding an ACCESS EXCLUSIVE lock, which blocks "
        f"every query on providers (reads included) until the step commits: about 8.7s here ({BIG})."
    )
    assert finding.help == (
        "Add a plain column, keep it filled for new rows with a trigger, and backfill existing rows in batches:\n"
        '    op.add_column("providers", sa.Column("full_name", ...))  # nullable, no default\n'
        "    # a trigger (or the application) fills the column for new and updated rows\n"
        + BATCH
        + "            op.execute(f\"UPDATE providers SET full_name = first_name || ' ' || last_name WHERE full_name "
        'IS NULL AND id >= {start} AND id < {start + 10_000}")'
    )


def test_rw103_good_plain_column() -> None:
    assert none(lint("ALTER TABLE providers ADD COLUMN full_name TEXT", stats=big()), "RW103")


def test_rw104_bad_cluster_rewrites() -> None:
    finding = only(lint("CLUSTER providers USING ix_providers_npi", stats=big()), "RW104")
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        "CLUSTER providers rewrites the whole table and its indexes while holding an ACCESS EXCLUSIVE lock, which "
        f"blocks every query on providers (reads included) until the step commits: about 8.7s here ({BIG})."
    )
    assert finding.help == (
        "Take it out of the migration and run it in a maintenance window, or online with pg_repack:\n"
        '    # remove: op.execute("CLUSTER providers USING ix_providers_npi")'
    )


def test_rw104_good_plain_analyze() -> None:
    """ANALYZE reads a sample and takes a weak lock: not a rewrite."""
    assert none(lint("ANALYZE providers", stats=big()), "RW104")
