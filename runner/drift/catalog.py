"""The catalog queries a snapshot runs, and a reader that keeps them bounded.

Names, types and flags come from the catalogs alone and never wait for a lock.
Definition text is different: ``pg_get_indexdef``, ``pg_get_constraintdef``,
``pg_get_triggerdef``, ``pg_get_viewdef`` and ``pg_get_expr`` (defaults,
partition bounds) take ACCESS SHARE on the table, so a table held in ACCESS
EXCLUSIVE (an ALTER TABLE, a VACUUM FULL, a waiting DDL statement) would hang
them. The reader therefore sets ``lock_timeout`` and ``statement_timeout`` on its
own session, leaves out up front the tables someone holds (or waits for) in
ACCESS EXCLUSIVE, reads the rest in one query per kind, and if that query still
fails, reads table by table and notes each one it could not read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from runner.drift.objects import Skipped
from runner.errors import Unreachable
from runner.redact import redact

SYSTEM = "n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'"


def not_extension(catalog: str, oid: str) -> str:
    """Objects an extension created belong to the extension (compared by its name and version)."""
    return (
        f"NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{catalog}'::regclass "
        f"AND e.objid = {oid} AND e.deptype = 'e')"
    )


def _qualified(schema: str, name: str) -> str:
    return f"quote_ident({schema}) || '.' || quote_ident({name})"


SCHEMAS_SQL = f"""
SELECT n.nspname FROM pg_namespace n WHERE {SYSTEM} AND {not_extension("pg_namespace", "n.oid")}
"""
RELATIONS_SQL = f"""
SELECT c.oid, n.nspname, c.relname, c.relkind::text, {_qualified("n.nspname", "c.relname")},
       c.relpersistence = 'u',
       (SELECT pn.nspname || '.' || p.relname FROM pg_inherits h JOIN pg_class p ON p.oid = h.inhparent
          JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE h.inhrelid = c.oid AND c.relispartition LIMIT 1)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND {SYSTEM} AND {not_extension("pg_class", "c.oid")}
"""
COLUMNS_SQL = """
SELECT a.attrelid, a.attname, quote_ident(a.attname), format_type(a.atttypid, a.atttypmod), a.attnotnull,
       a.attidentity::text, a.attgenerated::text,
       (SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN quote_ident(co.collname)
                    ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
          FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
         WHERE co.oid = a.attcollation AND a.attcollation <> t.typcollation),
       (SELECT d.oid FROM pg_attrdef d WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum)
  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
 WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped AND (a.attislocal OR a.attinhcount = 0)
 ORDER BY a.attrelid, a.attnum
"""
INDEXES_SQL = f"""
SELECT i.indexrelid, i.indrelid, n.nspname, c.relname, {_qualified("n.nspname", "c.relname")},
       quote_ident(c.relname), i.indisunique, i.indisprimary, i.indisvalid,
       (SELECT con.conname FROM pg_constraint con WHERE con.conindid = i.indexrelid
           AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x') LIMIT 1),
       CASE WHEN i.indexprs IS NULL THEN
         array(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                WHERE k.n <= i.indnkeyatts ORDER BY k.n) END
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE i.indrelid = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
"""
CONSTRAINTS_SQL = f"""
SELECT c.oid, c.conrelid, c.contypid, c.conname, quote_ident(c.conname), c.contype::text, c.convalidated,
       CASE WHEN c.contypid <> 0 THEN tn.nspname || '.' || t.typname END,
       CASE WHEN c.contypid <> 0 THEN {_qualified("tn.nspname", "t.typname")} END
  FROM pg_constraint c LEFT JOIN pg_type t ON t.oid = c.contypid LEFT JOIN pg_namespace tn ON tn.oid = t.typnamespace
 WHERE (c.conrelid = ANY(%s) OR c.contypid = ANY(%s)) AND c.contype NOT IN ('t', 'n')
   AND c.conparentid = 0 AND (c.conislocal OR c.coninhcount = 0)
"""
TRIGGERS_SQL = """
SELECT t.oid, t.tgrelid, t.tgname, quote_ident(t.tgname), t.tgenabled::text
  FROM pg_trigger t WHERE t.tgrelid = ANY(%s) AND NOT t.tgisinternal {clones}
"""
ENUMS_SQL = f"""
SELECT n.nspname, t.typname, {_qualified("n.nspname", "t.typname")},
       array(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE t.typtype = 'e' AND {SYSTEM} AND {not_extension("pg_type", "t.oid")}
"""
DOMAINS_SQL = f"""
SELECT t.oid, n.nspname, t.typname, {_qualified("n.nspname", "t.typname")},
       format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE t.typtype = 'd' AND {SYSTEM} AND {not_extension("pg_type", "t.oid")}
"""
SEQUENCES_SQL = f"""
SELECT n.nspname, c.relname, {_qualified("n.nspname", "c.relname")}, format_type(s.seqtypid, NULL),
       s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcycle,
       (SELECT d.refobjid FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
           AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1),
       (SELECT a.attname FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
           AND d.deptype IN ('a', 'i') LIMIT 1)
  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE {SYSTEM} AND {not_extension("pg_class", "c.oid")}
"""
ROUTINES_SQL = f"""
SELECT p.oid, n.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       {_qualified("n.nspname", "p.proname")} || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       p.prokind::text
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE {SYSTEM} AND {not_extension("pg_proc", "p.oid")}
"""
EXTENSIONS_SQL = """
SELECT e.extname, e.extversion, n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
"""
# Definition text: (the relation whose lock it needs, the object, the text), read per relation on failure.
DEFAULTS_SQL = """
SELECT d.adrelid, d.oid, pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d WHERE d.adrelid = ANY(%s)
"""
PARTITION_BOUNDS_SQL = """
SELECT c.oid, c.oid, pg_get_expr(c.relpartbound, c.oid) FROM pg_class c WHERE c.oid = ANY(%s) AND c.relispartition
"""
INDEXDEFS_SQL = "SELECT i.indrelid, i.indexrelid, pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = ANY(%s)"
CONSTRAINTDEFS_SQL = (
    "SELECT c.conrelid, c.oid, pg_get_constraintdef(c.oid) FROM pg_constraint c WHERE c.conrelid = ANY(%s)"
)
DOMAIN_CONSTRAINTDEFS_SQL = (
    "SELECT c.contypid, c.oid, pg_get_constraintdef(c.oid) FROM pg_constraint c WHERE c.contypid = ANY(%s)"
)
TRIGGERDEFS_SQL = (
    "SELECT t.tgrelid, t.oid, pg_get_triggerdef(t.oid) FROM pg_trigger t "
    "WHERE t.tgrelid = ANY(%s) AND NOT t.tgisinternal"
)
VIEWDEFS_SQL = "SELECT c.oid, c.oid, pg_get_viewdef(c.oid) FROM pg_class c WHERE c.oid = ANY(%s)"
FUNCTIONDEFS_SQL = "SELECT p.oid, p.oid, pg_get_functiondef(p.oid) FROM pg_proc p WHERE p.oid = ANY(%s)"
# The relations each view reads (its rewrite rule depends on them): pg_get_viewdef locks them all.
VIEW_READS_SQL = """
SELECT DISTINCT r.ev_class, d.refobjid
  FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
 WHERE r.ev_class = ANY(%s) AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class
"""
# Sessions holding, or queued for, ACCESS EXCLUSIVE on a relation (an index counts for its table):
# a definition read would queue behind them.
LOCKED_SQL = """
SELECT COALESCE((SELECT i.indrelid FROM pg_index i WHERE i.indexrelid = l.relation), l.relation), l.pid, l.granted
  FROM pg_locks l
 WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock' AND l.pid <> pg_backend_pid()
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
 ORDER BY l.pid
"""


@dataclass(frozen=True)
class CatalogLimits:
    """How long one catalog read may wait for a lock, and run, on the snapshot's own session."""

    lock_timeout_ms: int = 1_000
    statement_timeout_ms: int = 30_000


class CatalogUnreadable(Unreachable):
    """The catalog could not be read at all (connection lost, a base query timed out)."""


class CatalogReader:
    """Bounded catalog reads on one session; what could not be read is noted in ``skipped``."""

    def __init__(self, conn: psycopg.Connection, limits: CatalogLimits, where: str = "the database") -> None:
        self.conn = conn
        self.where = where
        self.skipped: list[Skipped] = []
        # Definitions name what is outside the search path with its schema: one fixed path makes them
        # read the same in every environment, whatever search_path its role or database sets.
        settings = {
            "lock_timeout": f"{int(limits.lock_timeout_ms)}ms",
            "statement_timeout": f"{int(limits.statement_timeout_ms)}ms",
            "search_path": "public",
        }
        self.rows("SELECT " + ", ".join(f"set_config('{k}', '{v}', false)" for k, v in settings.items()))
        self.server_version = int(self.rows("SELECT current_setting('server_version_num')")[0][0])
        self.busy = self._locked_relations()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A query the snapshot can't do without: failing, it ends the snapshot with a clear error."""
        try:
            return self.conn.execute(sql, list(params)).fetchall()
        except psycopg.Error as exc:
            raise CatalogUnreadable(
                f"The catalog of {self.where} could not be read: {_reason(exc)}. Nothing was compared.",
                next_step="run the same command again; if it keeps failing, check the connection and the "
                "server's load.",
            ) from None

    def definitions(
        self, sql: str, keys: Sequence[int], label: Callable[[int], str], noun: str
    ) -> dict[int, str | None]:
        """Definition text by object, read per ``keys`` (relations); a key it can't read is noted."""
        readable = []
        for key in keys:
            holder = self.busy.get(key)
            if holder:
                self.skipped.append(Skipped(label(key), f"{noun} not read: {holder}"))
            else:
                readable.append(key)
        if not readable:
            return {}
        try:
            return self._read(sql, readable)
        except psycopg.Error:
            self._check_alive()
        found: dict[int, str | None] = {}
        for key in readable:
            try:
                found.update(self._read(sql, [key]))
            except psycopg.Error as exc:
                self._check_alive()
                self.skipped.append(Skipped(label(key), f"{noun} not read: {_reason(exc)}"))
        return found

    def hold_views(self, views: Sequence[int], label: Callable[[int], str]) -> None:
        """A view over a locked relation is as good as locked: noted up front instead of waited for."""
        if not self.busy or not views:
            return
        for view, read in self.rows(VIEW_READS_SQL, [list(views)]):
            if read in self.busy and view not in self.busy:
                self.busy[view] = f"it reads {label(read)}, and {self.busy[read]}"

    def _read(self, sql: str, keys: list[int]) -> dict[int, str | None]:
        return {obj: text for _key, obj, text in self.conn.execute(sql, [keys]).fetchall()}

    def _check_alive(self) -> None:
        if self.conn.broken or self.conn.closed:
            raise CatalogUnreadable(
                f"The connection to {self.where} was lost while its catalog was being read. Nothing was compared.",
                next_step="run the same command again once the server answers.",
            )

    def _locked_relations(self) -> dict[int, str]:
        holders: dict[int, list[str]] = {}
        for relation, pid, granted in self.rows(LOCKED_SQL):
            verb = "holds" if granted else "waits for"
            holders.setdefault(relation, []).append(f"pid {pid} {verb} ACCESS EXCLUSIVE on it")
        return {relation: "; ".join(found) for relation, found in holders.items()}


def _reason(exc: psycopg.Error) -> str:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate == "55P03":
        first = "a lock wait timed out (someone holds a lock on it)"
    elif sqlstate == "57014":
        first = "the read was cancelled by statement_timeout"
    return redact(first)
