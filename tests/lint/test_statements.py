"""Splitting a step's rendered SQL into statements, with transaction boundaries kept."""

from __future__ import annotations

from runner.lint.statements import existing_tables_written, parse_step, with_downgrade
from tests.lint.helpers import revision

ALEMBIC_OUTPUT = """BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> r2

ALTER TABLE t ADD COLUMN x INTEGER;

COMMIT;

CREATE INDEX CONCURRENTLY ix ON t (x);

DROP INDEX CONCURRENTLY ix_old;

BEGIN;

UPDATE t SET x = 1;

INSERT INTO alembic_version (version_num) VALUES ('r2') RETURNING alembic_version.version_num;

COMMIT;
"""


def test_autocommit_block_statements_run_outside_the_transaction() -> None:
    """COMMIT; ... BEGIN; marks autocommit statements; each gets a segment of its own."""
    step = parse_step(revision(), ALEMBIC_OUTPUT)
    shape = [(s.position, s.kind, s.in_transaction, s.segment) for s in step.statements]
    assert shape == [
        (1, "AlterTableStmt", True, 1),
        (2, "IndexStmt", False, 2),
        (3, "DropStmt", False, 3),
        (4, "UpdateStmt", True, 4),
    ]
    assert step.statements[1].sql == "CREATE INDEX CONCURRENTLY ix ON t (x)"


def test_version_table_bookkeeping_is_left_out() -> None:
    """Alembic's own writes to alembic_version (or a custom version table) are not the migration's risk."""
    step = parse_step(
        revision(),
        "BEGIN;\nUPDATE app_versions SET version_num='r2';\nCOMMIT;",
        version_table="ops.app_versions",
    )
    assert step.statements == ()
    kept = parse_step(
        revision(),
        "BEGIN;\nUPDATE other.app_versions SET version_num='r2';\nCOMMIT;",
        version_table="ops.app_versions",
    )
    assert len(kept.statements) == 1


def test_statement_text_is_cut_by_byte_offsets() -> None:
    """pglast reports byte offsets: text after a multi-byte character is still cut right."""
    step = parse_step(
        revision(), "BEGIN;\nCOMMENT ON TABLE t IS 'café';\nALTER TABLE t ADD COLUMN y TEXT;\nCOMMIT;"
    )
    assert [s.sql for s in step.statements] == [
        "COMMENT ON TABLE t IS 'café'",
        "ALTER TABLE t ADD COLUMN y TEXT",
    ]


def test_a_syntax_error_keeps_the_rest_of_the_step() -> None:
    step = parse_step(
        revision(),
        "BEGIN;\n\nALTER TABLE t ADD COLUMN y TEXT;\n\nCREATE TABLEX u ();\n\nDROP TABLE v;\n\nCOMMIT;\n",
    )
    assert [s.kind for s in step.statements] == ["AlterTableStmt", "DropStmt"]
    assert len(step.parse_errors) == 1 and step.parse_errors[0].startswith("CREATE TABLEX u ();")


def test_a_revision_that_cannot_render_is_kept_with_its_reason() -> None:
    step = parse_step(revision(), None, error="NotImplementedError: no bind")
    assert step.render_error == "NotImplementedError: no bind" and step.statements == ()


def test_downgrade_writes_are_the_tables_its_dml_touches() -> None:
    step = parse_step(revision(), "BEGIN;\nUPDATE providers SET a = 1;\nCOMMIT;")
    assert existing_tables_written(step) == {"public.providers"}
    read = with_downgrade(
        step, "BEGIN;\nUPDATE public.providers SET a = 0;\nALTER TABLE x DROP COLUMN y;\nCOMMIT;"
    )
    assert read.downgrade_writes == frozenset({"public.providers"})


def test_dml_on_a_table_created_in_the_same_step_needs_no_inverse() -> None:
    step = parse_step(
        revision(), "BEGIN;\nCREATE TABLE seeds (id INT);\nINSERT INTO seeds VALUES (1);\nCOMMIT;"
    )
    assert existing_tables_written(step) == set()
