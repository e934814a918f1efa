"""Checks on the catalogs: a table, column, index, constraint or enum value exists (or is absent).

Names are resolved by the server (``to_regclass``, ``to_regtype``) against the
search path, exactly as a query in the application would resolve them, and a
column's type is compared by the server's own type identity, so ``varchar(200)``
matches ``character varying(200)`` and ``timestamptz`` matches
``timestamp with time zone``. Each check reports what it expected and what it
found in the same words, so a failure reads as a diff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg

from runner.check_result import CheckResult

_MODIFIER = re.compile(r"\(([^)]*)\)")


def _presence(exists: bool) -> str:
    return "present" if exists else "absent"


@dataclass(frozen=True)
class TableExists:
    table: str
    exists: bool = True
    label: str = ""

    def expectation(self) -> str:
        return _presence(self.exists)

    def evaluate(self, conn: psycopg.Connection) -> CheckResult:
        row = conn.execute(
            "SELECT c.relkind::text FROM pg_class c WHERE c.oid = to_regclass(%s)", [self.table]
        ).fetchone()
        present = row is not None and row[0] in ("r", "p", "f")
        return CheckResult(self.label, present == self.exists, self.expectation(), _presence(present))


COLUMN_SQL = """
SELECT format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atttypid
  FROM pg_attribute a
 WHERE a.attrelid = to_regclass(%s) AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped
"""


@dataclass(frozen=True)
class ColumnState:
    table: str
    column: str
    exists: bool = True
    type: str | None = None
    nullable: bool | None = None
    label: str = ""

    def expectation(self) -> str:
        if not self.exists:
            return "absent"
        facets = ["present"]
        if self.type:
            facets.append(f"type {self.type}")
        if self.nullable is not None:
            facets.append("nullable" if self.nullable else "NOT NULL")
        return ", ".join(facets)

    def evaluate(self, conn: psycopg.Connection) -> CheckResult:
        row = conn.execute(COLUMN_SQL, [self.table, self.column]).fetchone()
        if row is None or not self.exists:
            return CheckResult(
                self.label, (row is None) != self.exists, self.expectation(), _presence(row is not None)
            )
        shown_type, not_null, type_oid = row
        facets, ok = ["present"], True
        if self.type:
            facets.append(f"type {shown_type}")
            ok = ok and _same_type(conn, self.type, type_oid, shown_type)
        if self.nullable is not None:
            facets.append("NOT NULL" if not_null else "nullable")
            ok = ok and self.nullable == (not not_null)
        return CheckResult(self.label, ok, self.expectation(), ", ".join(facets))


def _same_type(conn: psycopg.Connection, wanted: str, found_oid: int, found_text: str) -> bool:
    """Same base type (aliases resolved by the server) and, when one is written, the same modifier."""
    row = conn.execute("SELECT to_regtype(%s)::oid", [wanted]).fetchone()
    if row is None or row[0] is None or int(row[0]) != int(found_oid):
        return False
    wanted_mod = _MODIFIER.search(wanted)
    if wanted_mod is None:
        return True
    found_mod = _MODIFIER.search(found_text)
    return found_mod is not None and _squash(wanted_mod[1]) == _squash(found_mod[1])


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


INDEX_SQL = """
SELECT i.indrelid::regclass::text, i.indisunique, t.oid = to_regclass(%s)
  FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
 WHERE i.indexrelid = to_regclass(%s)
"""


@dataclass(frozen=True)
class IndexState:
    index: str
    table: str | None = None
    exists: bool = True
    unique: bool | None = None
    label: str = ""

    def expectation(self) -> str:
        if not self.exists:
            return "absent"
        facets = ["present"]
        if self.table:
            facets.append(f"on {self.table}")
        if self.unique is not None:
            facets.append("unique" if self.unique else "not unique")
        return ", ".join(facets)

    def evaluate(self, conn: psycopg.Connection) -> CheckResult:
        row = conn.execute(INDEX_SQL, [self.table or "", self.index]).fetchone()
        if row is None or not self.exists:
            return CheckResult(
                self.label, (row is None) != self.exists, self.expectation(), _presence(row is not None)
            )
        table, unique, on_table = row
        facets, ok = ["present"], True
        if self.table:
            facets.append(f"on {table}")
            ok = ok and bool(on_table)
        if self.unique is not None:
            facets.append("unique" if unique else "not unique")
            ok = ok and unique == self.unique
        return CheckResult(self.label, ok, self.expectation(), ", ".join(facets))


CONSTRAINT_KINDS = {"p": "primary_key", "f": "foreign_key", "u": "unique", "c": "check", "x": "exclusion"}
CONSTRAINT_SQL = """
SELECT c.contype::text, c.conrelid::regclass::text
  FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
 WHERE c.conname = %s AND (%s::text IS NULL OR c.conrelid = to_regclass(%s))
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
 ORDER BY 2
"""


@dataclass(frozen=True)
class ConstraintState:
    constraint: str
    table: str | None = None
    exists: bool = True
    kind: str | None = None
    label: str = ""

    def expectation(self) -> str:
        if not self.exists:
            return "absent"
        facets = (
            ["present"] + ([f"on {self.table}"] if self.table else []) + ([self.kind] if self.kind else [])
        )
        return ", ".join(facets)

    def evaluate(self, conn: psycopg.Connection) -> CheckResult:
        rows = conn.execute(CONSTRAINT_SQL, [self.constraint, self.table, self.table]).fetchall()
        if not rows or not self.exists:
            return CheckResult(
                self.label, (not rows) != self.exists, self.expectation(), _presence(bool(rows))
            )
        kinds = [CONSTRAINT_KINDS.get(kind, kind) for kind, _table in rows]
        ok = self.kind is None or self.kind in kinds
        found = "; ".join(
            f"present, on {table}, {kind}" for (_k, table), kind in zip(rows, kinds, strict=True)
        )
        return CheckResult(self.label, ok, self.expectation(), found)


ENUM_SQL = """
SELECT t.typtype::text, array(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
  FROM pg_type t WHERE t.oid = to_regtype(%s)
"""


@dataclass(frozen=True)
class EnumState:
    enum: str
    value: str | None = None
    values: tuple[str, ...] | None = None
    exists: bool = True
    label: str = ""

    def expectation(self) -> str:
        if self.value is not None:
            return f"value {self.value!r} {_presence(self.exists)}"
        if self.values is not None:
            return "values " + ", ".join(self.values)
        return _presence(self.exists)

    def evaluate(self, conn: psycopg.Connection) -> CheckResult:
        row = conn.execute(ENUM_SQL, [self.enum]).fetchone()
        if row is None or row[0] != "e":
            ok = not self.exists and self.value is None
            return CheckResult(self.label, ok, self.expectation(), "no such enum type")
        labels = tuple(row[1])
        if self.value is not None:
            present = self.value in labels
            found = f"value {self.value!r} {_presence(present)} (values {', '.join(labels)})"
            return CheckResult(self.label, present == self.exists, self.expectation(), found)
        if self.values is not None:
            return CheckResult(
                self.label, labels == self.values, self.expectation(), "values " + ", ".join(labels)
            )
        return CheckResult(self.label, self.exists, self.expectation(), "present")
