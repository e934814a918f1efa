"""The statements each step really runs, parsed by PostgreSQL's own parser.

Each revision's offline SQL (``runner.planning.offline.render``) is parsed with pglast once
per step, as JSON (several times faster than building pglast's node objects).
``BEGIN;``/``COMMIT;`` are kept as transaction boundaries: Alembic renders an
``autocommit_block()`` as ``COMMIT; ... BEGIN;``, so a statement between them runs
outside the step's transaction, each in a transaction of its own. Alembic's own
bookkeeping (the version table) is dropped: it is not the migration's risk.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pglast import parser as pg_parser

from runner.lint.names import TableRef
from runner.planning import offline
from runner.planning.project import AlembicProject
from runner.planning.revisions import Downgrade, Revision
from runner.redact import redact

DEFAULT_VERSION_TABLE = "alembic_version"
_CHUNK_END = re.compile(r";[ \t]*\n")
_BEGIN = {"TRANS_STMT_BEGIN", "TRANS_STMT_START"}
_END = {"TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK", "TRANS_STMT_COMMIT_PREPARED", "TRANS_STMT_PREPARE"}
_DML = ("InsertStmt", "UpdateStmt", "DeleteStmt")


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a step, with where it runs."""

    position: int  # 1-based, counting only the migration's own statements
    sql: str
    kind: str  # the parse node's type, e.g. "AlterTableStmt"
    node: dict[str, Any] = field(compare=False, repr=False)
    in_transaction: bool = True  # False inside an autocommit_block()
    segment: int = 1  # statements sharing a segment share a transaction and its locks

    @property
    def first_line(self) -> str:
        return " ".join(self.sql.split())


@dataclass(frozen=True)
class StepSQL:
    """A revision's upgrade as statements, or why it could not be read."""

    revision: Revision
    statements: tuple[Statement, ...] = ()
    render_error: str | None = None  # the revision can't be rendered offline
    parse_errors: tuple[str, ...] = ()  # SQL pglast could not parse (rest of the step still analysed)
    downgrade_writes: frozenset[str] | None = None  # tables whose rows downgrade() changes; None: not read
    downgrade_error: str | None = None


def parse_step(
    revision: Revision,
    sql: str | None,
    *,
    error: str | None = None,
    version_table: str = DEFAULT_VERSION_TABLE,
) -> StepSQL:
    """Split one step's rendered SQL into statements with their transaction segments."""
    if sql is None:
        return StepSQL(revision, render_error=error or "it produced no SQL")
    raw, errors = _parse(sql)
    statements: list[Statement] = []
    in_transaction = False
    segment = 0
    for kind, node, text in raw:
        if kind == "TransactionStmt":
            transaction_kind = node.get("kind", "TRANS_STMT_BEGIN")
            if transaction_kind in _BEGIN:
                in_transaction = True
                segment += 1
            elif transaction_kind in _END:
                in_transaction = False
            continue
        if _is_bookkeeping(kind, node, version_table):
            continue
        if not in_transaction:
            segment += 1  # autocommit: every statement commits on its own
        statements.append(Statement(len(statements) + 1, text, kind, node, in_transaction, segment))
    return StepSQL(revision, tuple(statements), parse_errors=tuple(errors))


def with_downgrade(step: StepSQL, sql: str | None, error: str | None = None) -> StepSQL:
    """Record which tables the revision's downgrade writes rows to (its inverse of a data change)."""
    if sql is None:
        return StepSQL(
            step.revision,
            step.statements,
            step.render_error,
            step.parse_errors,
            None,
            error or "not rendered",
        )
    parsed = parse_step(step.revision, sql)
    written = frozenset(_relation_key(s.node) for s in parsed.statements if s.kind in _DML)
    return StepSQL(step.revision, step.statements, step.render_error, step.parse_errors, written, None)


def collect(
    project: AlembicProject,
    revisions: Sequence[Revision],
    *,
    version_table: str = DEFAULT_VERSION_TABLE,
    rendered_steps: Sequence[offline.RenderedStep] | None = None,
) -> list[StepSQL]:
    """Render every revision offline (one env.py run, unless already rendered) and parse each step once."""
    if not revisions:
        return []
    if rendered_steps is None:
        rendered_steps = offline.render(project, list(revisions))
    rendered = {r.revision: r for r in rendered_steps if r.direction == "upgrade"}
    steps = []
    for revision in revisions:
        found = rendered.get(revision.revision)
        if found is None:
            steps.append(StepSQL(revision, render_error="rendering stopped before this revision"))
            continue
        steps.append(parse_step(revision, found.sql, error=found.error, version_table=version_table))
    downgrades = _read_downgrades(project, [step for step in steps if _needs_downgrade(step)])
    return [downgrades.get(step.revision.revision, step) for step in steps]


def _needs_downgrade(step: StepSQL) -> bool:
    """Only a data change on a table that existed before the step needs its inverse checked."""
    if step.revision.downgrade is not Downgrade.FULL:
        return False
    return bool(existing_tables_written(step))


def existing_tables_written(step: StepSQL) -> set[str]:
    created: set[str] = set()
    written: set[str] = set()
    for statement in step.statements:
        if statement.kind == "CreateStmt":
            created.add(_relation_key(statement.node))
        elif statement.kind in _DML:
            key = _relation_key(statement.node)
            if key not in created:
                written.add(key)
    return written


def _read_downgrades(project: AlembicProject, steps: Sequence[StepSQL]) -> dict[str, StepSQL]:
    """Each step with its downgrade read: those of one parent and no dependencies in one env.py run.

    A downgrade that fails there, or can't share a run, is rendered alone, as it is on its own.
    """
    together = [s for s in steps if len(s.revision.down_revisions) <= 1 and not _depends(project, s.revision)]
    read: dict[str, StepSQL] = {}
    if len(together) > 1:
        try:
            rendered = offline.render(project, [s.revision for s in together], "downgrade")
        except Exception:  # user code; each is rendered alone below
            rendered = []
        by_revision = {r.revision: r for r in rendered}
        for step in together:
            found = by_revision.get(step.revision.revision)
            if found is not None and found.sql is not None and found.error is None:
                read[step.revision.revision] = with_downgrade(step, found.sql)
    for step in steps:
        if step.revision.revision not in read:
            read[step.revision.revision] = _read_downgrade(project, step)
    return read


def _depends(project: AlembicProject, revision: Revision) -> bool:
    return bool(project.script.get_revision(revision.revision).dependencies)


def _read_downgrade(project: AlembicProject, step: StepSQL) -> StepSQL:
    try:
        rendered = offline.render(project, [step.revision], "downgrade")
    except Exception as exc:  # user code; never let it stop the analysis
        return with_downgrade(step, None, redact(f"{type(exc).__name__}: {exc}"))
    found = rendered[0] if rendered else None
    if found is None or found.sql is None:
        return with_downgrade(step, None, found.error if found else "not rendered")
    return with_downgrade(step, found.sql)


def _relation_key(node: dict[str, Any]) -> str:
    return TableRef.from_range_var(node.get("relation") or {}).key


def _is_bookkeeping(kind: str, node: dict[str, Any], version_table: str) -> bool:
    relation = node.get("relation")
    if not relation:
        return False
    schema, _, name = version_table.rpartition(".")
    if relation.get("relname") not in (name, DEFAULT_VERSION_TABLE):
        return False
    return not schema or relation.get("schemaname") in (None, schema)


def _parse(sql: str) -> tuple[list[tuple[str, dict[str, Any], str]], list[str]]:
    """Parse the whole text at once; on a syntax error, parse chunk by chunk to keep the rest."""
    try:
        return _parse_text(sql), []
    except pg_parser.ParseError:
        pass
    found: list[tuple[str, dict[str, Any], str]] = []
    errors: list[str] = []
    for chunk in _chunks(sql):
        try:
            found.extend(_parse_text(chunk))
        except pg_parser.ParseError as exc:
            errors.append(f"{' '.join(chunk.split())[:200]} ({exc})")
    return found, errors


def _parse_text(sql: str) -> list[tuple[str, dict[str, Any], str]]:
    tree = json.loads(pg_parser.parse_sql_json(sql))
    data = sql.encode("utf-8")
    out = []
    for raw in tree.get("stmts", ()):
        ((kind, node),) = raw["stmt"].items()
        start = raw.get("stmt_location", 0)
        length = raw.get("stmt_len", 0)
        piece = data[start : start + length] if length else data[start:]
        out.append((kind, node, piece.decode("utf-8", "replace").strip().rstrip(";").strip()))
    return out


def _chunks(sql: str) -> Iterable[str]:
    start = 0
    for match in _CHUNK_END.finditer(sql):
        yield sql[start : match.end()]
        start = match.end()
    if sql[start:].strip():
        yield sql[start:]
