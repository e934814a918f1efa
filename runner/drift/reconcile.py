"""SQL that would make the source match the target, for the differences where that is simple.

Only a suggestion, printed for review: the runner never runs it. Simple means one
or two statements that say exactly what differs (add or drop a column, an index,
a constraint, an enum value, a default; validate a constraint; rename an index;
replace a function, a view or a trigger from the target's own definition). What
needs a decision (a column's type, a table only on one side of the target, enum
values removed or reordered) gets no SQL: write a migration for it.
"""

from __future__ import annotations

import re
from typing import Any

from pglast.keywords import COL_NAME_KEYWORDS, RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

from runner.drift.differences import CHANGED, ONLY_IN_SOURCE, ONLY_IN_TARGET, RENAMED, Difference
from runner.drift.objects import UNREAD

_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")
_KEYWORDS = set(RESERVED_KEYWORDS) | set(COL_NAME_KEYWORDS) | set(TYPE_FUNC_NAME_KEYWORDS)


def quote_ident(name: str) -> str:
    """As PostgreSQL's quote_ident: bare when that reads back as the same name, quoted otherwise."""
    if _PLAIN.match(name) and name not in _KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def suggest(difference: Difference) -> str | None:
    """The statements (each ending in ';') for one difference, or None when it is not simple."""
    handler = _HANDLERS.get(difference.kind)
    if handler is None:
        return None
    source, target = difference.source_object, difference.target_object
    if UNREAD in (getattr(source, "definition", None), getattr(target, "definition", None)):
        return None
    statements = handler(difference, source, target)
    return "\n".join(s.rstrip(";") + ";" for s in statements) if statements else None


def _schema(d: Difference, source: Any, target: Any) -> list[str]:
    if d.status == ONLY_IN_TARGET:
        return [f"CREATE SCHEMA {quote_ident(d.name)}"]
    if d.status == ONLY_IN_SOURCE and not d.contains:
        return [f"DROP SCHEMA {quote_ident(d.name)}"]
    return []


def _extension(d: Difference, source: Any, target: Any) -> list[str]:
    name = quote_ident(d.name)
    if d.status == ONLY_IN_TARGET:
        return [
            f"CREATE EXTENSION IF NOT EXISTS {name} WITH SCHEMA {quote_ident(target.in_schema)} "
            f"VERSION {literal(target.version)}"
        ]
    if d.status == ONLY_IN_SOURCE:
        return [f"DROP EXTENSION {name}"]
    if [c.attribute for c in d.changes] == ["version"]:
        return [f"ALTER EXTENSION {name} UPDATE TO {literal(target.version)}"]
    return []


def _table(d: Difference, source: Any, target: Any) -> list[str]:
    if d.status == ONLY_IN_SOURCE:
        return [f"DROP TABLE {source.sql_name}"]
    return []  # a table to create, or one that changed kind: a migration's job


def _column(d: Difference, source: Any, target: Any) -> list[str]:
    if d.status == ONLY_IN_SOURCE:
        return [f"ALTER TABLE {source.table_sql} DROP COLUMN {source.sql_name}"]
    if d.status == ONLY_IN_TARGET:
        return _add_column(target)
    alter = f"ALTER TABLE {target.table_sql} ALTER COLUMN {target.sql_name}"
    statements = []
    for change in d.changes:
        if change.attribute == "default" and not target.generated:
            statements.append(
                f"{alter} DROP DEFAULT" if change.target is None else f"{alter} SET DEFAULT {change.target}"
            )
        elif change.attribute == "not_null":
            statements.append(f"{alter} {'SET' if change.target else 'DROP'} NOT NULL")
        else:
            return []  # type, identity, generation or collation: not simple
    return statements


def _add_column(column: Any) -> list[str]:
    words = [f"ALTER TABLE {column.table_sql} ADD COLUMN {column.sql_name} {column.type}"]
    if column.collation:
        words.append(f"COLLATE {column.collation}")
    if column.generated == "s":
        words.append(f"GENERATED ALWAYS AS ({column.default}) STORED")
    elif column.identity:
        words.append(f"GENERATED {'ALWAYS' if column.identity == 'a' else 'BY DEFAULT'} AS IDENTITY")
    elif column.default is not None:
        words.append(f"DEFAULT {column.default}")
    filled = column.default is not None or column.identity
    if column.not_null and filled:
        words.append("NOT NULL")
    statements = [" ".join(words)]
    if column.not_null and not filled:
        statements.append(f"ALTER TABLE {column.table_sql} ALTER COLUMN {column.sql_name} SET NOT NULL")
    return statements


def _index(d: Difference, source: Any, target: Any) -> list[str]:
    if d.status == ONLY_IN_TARGET:
        return [target.definition]
    if d.status == ONLY_IN_SOURCE:
        return [f"DROP INDEX {source.sql_name}"]
    if d.status == RENAMED:
        local = target.name[len(target.schema) + 1 :]
        return [f"ALTER INDEX {source.sql_name} RENAME TO {quote_ident(local)}"]
    if [c.attribute for c in d.changes] == ["valid"] and target.valid:
        return [f"REINDEX INDEX CONCURRENTLY {source.sql_name}"]
    return [f"DROP INDEX {source.sql_name}", target.definition]


def _constraint(d: Difference, source: Any, target: Any) -> list[str]:
    obj = target if d.status == ONLY_IN_TARGET else source
    alter = f"ALTER {'DOMAIN' if obj.on_domain else 'TABLE'} {obj.table_sql}"
    add = f"{alter} ADD CONSTRAINT {target.sql_name} {target.definition}" if target else ""
    if target is not None and not target.validated:
        add += " NOT VALID"
    if d.status == ONLY_IN_TARGET:
        return [add]
    if d.status == ONLY_IN_SOURCE:
        return [f"{alter} DROP CONSTRAINT {source.sql_name}"]
    if d.status == RENAMED:
        return [f"{alter} RENAME CONSTRAINT {source.sql_name} TO {target.sql_name}"]
    if [c.attribute for c in d.changes] == ["validated"] and target.validated:
        return [f"{alter} VALIDATE CONSTRAINT {source.sql_name}"]
    return [f"{alter} DROP CONSTRAINT {source.sql_name}", add]


def _trigger(d: Difference, source: Any, target: Any) -> list[str]:
    drop = f"DROP TRIGGER {source.sql_name} ON {source.table_sql}" if source else ""
    if d.status == ONLY_IN_TARGET:
        return [target.definition]
    if d.status == ONLY_IN_SOURCE:
        return [drop]
    if [c.attribute for c in d.changes] == ["enabled"]:
        how = {"O": "ENABLE", "D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}[target.enabled]
        return [f"ALTER TABLE {target.table_sql} {how} TRIGGER {target.sql_name}"]
    return [drop, target.definition]


def _view(d: Difference, source: Any, target: Any) -> list[str]:
    obj = target or source
    noun = "MATERIALIZED VIEW" if obj.materialized else "VIEW"
    if d.status == ONLY_IN_SOURCE:
        return [f"DROP {noun} {source.sql_name}"]
    create = f"CREATE {noun} {target.sql_name} AS\n{target.definition.rstrip().rstrip(';')}"
    if d.status == ONLY_IN_TARGET:
        return [create]
    if not source.materialized and not target.materialized:
        return [create.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1)]
    return [f"DROP {'MATERIALIZED VIEW' if source.materialized else 'VIEW'} {source.sql_name}", create]


def _enum(d: Difference, source: Any, target: Any) -> list[str]:
    if d.status == ONLY_IN_TARGET:
        return [f"CREATE TYPE {target.sql_name} AS ENUM ({', '.join(literal(v) for v in target.values)})"]
    if d.status == ONLY_IN_SOURCE:
        return [f"DROP TYPE {source.sql_name}"]
    have, want = list(source.values), list(target.values)
    if [v for v in want if v in have] != have:
        return []  # values the target lacks, or a different order: the type must be recreated
    statements = []
    for position, value in enumerate(want):
        if value in have:
            continue
        place = (
            f" AFTER {literal(want[position - 1])}"
            if position
            else f" BEFORE {literal(have[0])}"
            if have
            else ""
        )
        statements.append(f"ALTER TYPE {source.sql_name} ADD VALUE {literal(value)}{place}")
        have.insert(position, value)
    return statements


def _domain(d: Difference, source: Any, target: Any) -> list[str]:
    if d.status == ONLY_IN_SOURCE:
        return [f"DROP DOMAIN {source.sql_name}"]
    if d.status == ONLY_IN_TARGET:
        default = f" DEFAULT {target.default}" if target.default is not None else ""
        return [
            f"CREATE DOMAIN {target.sql_name} AS {target.base_type}{default}{' NOT NULL' if target.not_null else ''}"
        ]
    statements = []
    for change in d.changes:
        if change.attribute == "default":
            what = "DROP DEFAULT" if change.target is None else f"SET DEFAULT {change.target}"
            statements.append(f"ALTER DOMAIN {source.sql_name} {what}")
        elif change.attribute == "not_null":
            statements.append(f"ALTER DOMAIN {source.sql_name} {'SET' if change.target else 'DROP'} NOT NULL")
        else:
            return []
    return statements


def _sequence(d: Difference, source: Any, target: Any) -> list[str]:
    if d.status == ONLY_IN_SOURCE:
        return [] if source.owned_by else [f"DROP SEQUENCE {source.sql_name}"]
    options = {
        "data_type": f"AS {target.data_type}",
        "increment": f"INCREMENT BY {target.increment}",
        "minimum": f"MINVALUE {target.minimum}",
        "maximum": f"MAXVALUE {target.maximum}",
        "start": f"START WITH {target.start}",
        "cycle": "CYCLE" if target.cycle else "NO CYCLE",
    }
    if d.status == ONLY_IN_TARGET:
        return [] if target.owned_by else [f"CREATE SEQUENCE {target.sql_name} {' '.join(options.values())}"]
    changed = [options[c.attribute] for c in d.changes if c.attribute in options]
    if len(changed) != len(d.changes):
        return []  # ownership moved: a migration's job
    return [f"ALTER SEQUENCE {source.sql_name} {' '.join(changed)}"]


def _routine(d: Difference, source: Any, target: Any) -> list[str]:
    if d.status == ONLY_IN_SOURCE:
        noun = {"procedure": "PROCEDURE", "aggregate": "AGGREGATE"}.get(source.kind, "FUNCTION")
        return [f"DROP {noun} {source.sql_name}"]
    if target.definition is None:
        return []  # an aggregate: its definition is not read
    return [target.definition.rstrip()] if d.status in (ONLY_IN_TARGET, CHANGED) else []


_HANDLERS = {
    "schema": _schema,
    "extension": _extension,
    "table": _table,
    "column": _column,
    "index": _index,
    "constraint": _constraint,
    "trigger": _trigger,
    "view": _view,
    "enum": _enum,
    "domain": _domain,
    "sequence": _sequence,
    "routine": _routine,
}
