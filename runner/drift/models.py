"""The database compared with the application's SQLAlchemy models, by Alembic's autogenerate.

``--against-models module:metadata`` names a ``MetaData`` (or anything with a
``metadata`` attribute, such as a declarative base). Alembic's
``compare_metadata`` does the comparison, the way ``alembic revision
--autogenerate`` would see it (types compared; server defaults and enum values
are not, as in Alembic's defaults). The database side is the source, the models
the target: "only in the target" means the models have it and the database
does not. The reflection runs under the same lock and statement timeouts as a
snapshot.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, exc
from sqlalchemy.dialects import postgresql
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import AddConstraint, CreateColumn, CreateIndex, CreateTable, DropConstraint, DropIndex

from runner.database import history
from runner.drift.catalog import CatalogLimits, CatalogUnreadable
from runner.drift.compare import Comparison
from runner.drift.differences import CHANGED, ONLY_IN_SOURCE, ONLY_IN_TARGET, Change, Difference
from runner.errors import ConfigError, Unreachable
from runner.redact import redact
from runner.target import DatabaseTarget

# SQLAlchemy leaves the dialect's constructor unannotated.
_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]
_ATTRIBUTES = {
    "modify_type": "type",
    "modify_nullable": "nullable",
    "modify_default": "default",
    "modify_comment": "comment",
}


def load_metadata(spec: str) -> MetaData:
    """``module:attribute`` (dots allowed in the attribute) to a MetaData, or a ConfigError that says why."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigError(
            f"--against-models {spec!r} is not MODULE:METADATA (for example app.models:Base.metadata)."
        )
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # the application's code: any import failure
        raise ConfigError(
            f"--against-models {spec!r}: module {module_name!r} can't be imported ({redact(str(error))})."
        ) from None
    try:
        found = functools.reduce(getattr, attribute.split("."), module)
    except AttributeError:
        raise ConfigError(
            f"--against-models {spec!r}: {module_name} has no attribute {attribute!r}."
        ) from None
    found = getattr(found, "metadata", found)
    if not isinstance(found, MetaData):
        raise ConfigError(
            f"--against-models {spec!r} is a {type(found).__name__}, not SQLAlchemy MetaData "
            "(or a declarative base that has one)."
        )
    return found


def compare_models(target: DatabaseTarget, metadata: MetaData, limits: CatalogLimits) -> Comparison:
    """What the database lacks or has beyond the models, as differences with DDL where simple."""
    options = f"-c lock_timeout={int(limits.lock_timeout_ms)} -c statement_timeout={int(limits.statement_timeout_ms)}"
    engine = create_engine(
        target.for_alembic(), poolclass=NullPool, connect_args={"options": options, "connect_timeout": 10}
    )
    schemas = {t.schema for t in metadata.tables.values() if t.schema}

    def include_name(name: str | None, type_: str, parent: Any) -> bool:
        if type_ == "schema":
            return name is None or name in schemas
        return not (type_ == "table" and name == history.TABLE)

    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={"include_schemas": bool(schemas), "include_name": include_name, "compare_type": True},
            )
            found = compare_metadata(context, metadata)
    except exc.OperationalError as error:
        reason = " ".join(redact(str(error.orig)).split())[:300]
        if getattr(error.orig, "pgcode", None) in ("55P03", "57014") or "timeout" in reason:
            raise CatalogUnreadable(
                f"The schema of {target.display} could not be reflected in time: {reason}. Nothing was compared.",
                next_step="run the same command again once the tables are not locked.",
            ) from None
        raise Unreachable(f"Can't connect to {target.display}: {reason}. Nothing was compared.") from None
    finally:
        engine.dispose()
    return Comparison(tuple(sorted((_difference(d) for d in found), key=lambda d: d.order)))


def _difference(diff: Any) -> Difference:
    if isinstance(diff, list):  # modifications of one column, grouped by Alembic
        first = diff[0]
        _op, schema, table, column = first[:4]
        changes = tuple(Change(_ATTRIBUTES.get(d[0], d[0]), _text(d[-2]), _text(d[-1])) for d in diff)
        return Difference("column", f"{_table(schema, table)}.{column}", CHANGED, changes)
    op = diff[0]
    if op in ("add_table", "remove_table"):
        table = diff[1]
        name = _table(table.schema, table.name)
        if op == "add_table":
            sql = str(CreateTable(table).compile(dialect=_DIALECT)).strip() + ";"
            return Difference(
                "table", name, ONLY_IN_TARGET, contains=(("column", len(table.columns)),), sql=sql
            )
        return Difference(
            "table", name, ONLY_IN_SOURCE, sql=f"DROP TABLE {_quoted(table.schema, table.name)};"
        )
    if op in ("add_column", "remove_column"):
        _op, schema, table, column = diff
        name = f"{_table(schema, table)}.{column.name}"
        if op == "add_column":
            definition = CreateColumn(column).compile(dialect=_DIALECT)
            return Difference(
                "column",
                name,
                ONLY_IN_TARGET,
                sql=f"ALTER TABLE {_quoted(schema, table)} ADD COLUMN {definition};",
            )
        quoted = _DIALECT.identifier_preparer.quote(column.name)
        return Difference(
            "column", name, ONLY_IN_SOURCE, sql=f"ALTER TABLE {_quoted(schema, table)} DROP COLUMN {quoted};"
        )
    if op in ("add_index", "remove_index"):
        index = diff[1]
        name = f"{index.table.schema or 'public'}.{index.name}"
        ddl = CreateIndex(index) if op == "add_index" else DropIndex(index)
        status = ONLY_IN_TARGET if op == "add_index" else ONLY_IN_SOURCE
        return Difference("index", name, status, sql=str(ddl.compile(dialect=_DIALECT)).strip() + ";")
    if op in ("add_constraint", "add_fk", "remove_constraint", "remove_fk"):
        constraint = diff[1]
        table = constraint.table
        name = f"{_table(table.schema, table.name)}.{constraint.name}"
        adding = op.startswith("add")
        change = AddConstraint(constraint) if adding else DropConstraint(constraint)
        statement = str(change.compile(dialect=_DIALECT)).strip() + ";" if constraint.name else None
        return Difference("constraint", name, ONLY_IN_TARGET if adding else ONLY_IN_SOURCE, sql=statement)
    return Difference("other", op, CHANGED, (Change(op, None, _text(diff[1:])),))


def _table(schema: str | None, name: str) -> str:
    return f"{schema or 'public'}.{name}"


def _quoted(schema: str | None, name: str) -> str:
    prepare = _DIALECT.identifier_preparer
    return f"{prepare.quote_schema(schema)}.{prepare.quote(name)}" if schema else prepare.quote(name)


def _text(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if hasattr(value, "compile"):
        try:
            return str(value.compile(dialect=_DIALECT))
        except Exception:  # a type or clause this dialect can't render
            return repr(value)
    return str(value)
