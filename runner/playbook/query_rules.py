"""What a playbook's ``sql:`` check may run: one plain read-only query.

A check runs on its own connection (never the run's lock session), in a READ ONLY
transaction with its own statement and lock timeouts, rolled back afterwards, and
as ``checks.role`` when the playbook names one. The server enforces all of that.
What it can't enforce is read here, with PostgreSQL's own parser, when the
playbook is loaded: the text must be exactly one SELECT (or VALUES / TABLE), with
no INTO, no FOR UPDATE/SHARE, no data-modifying WITH, and no call to a function
whose effect escapes the transaction (advisory locks, ending or signalling other
sessions, changing settings, reading server files, dblink, large objects,
sleeping, replication slots, running SQL given as text). Functions the
application defined are not known here: READ ONLY and the role are what limit them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pglast import parser

# Functions whose effect escapes a read-only transaction, or that run SQL the parser can't see.
_DENIED_PREFIXES: dict[str, str] = {
    "pg_advisory_": "takes or releases advisory locks",
    "pg_try_advisory_": "takes advisory locks",
    "dblink": "runs SQL on another connection",
    "lo_": "reads or writes large objects",
    "pg_read_": "reads files on the database server",
    "pg_ls_": "lists directories on the database server",
    "pg_file_": "writes files on the database server",
    "pg_stat_reset": "resets the server's statistics",
    "pg_logical_": "consumes or writes logical replication data",
    "pg_replication_": "changes replication state",
    "pg_create_": "creates replication slots or restore points",
    "pg_drop_": "drops replication slots",
    "pg_copy_": "copies replication slots",
    "pg_wal_": "controls the write-ahead log",
    "pg_sleep": "sleeps",
    "pg_backup_": "starts or stops a backup",
    "query_to_xml": "runs SQL given as text",
    "cursor_to_xml": "reads a cursor",
}
_DENIED: dict[str, str] = {
    "pg_terminate_backend": "ends another session",
    "pg_cancel_backend": "cancels another session's query",
    "set_config": "changes a setting (the role and timeouts a check runs under among them)",
    "pg_reload_conf": "reloads the server's configuration",
    "pg_rotate_logfile": "rotates the server's log file",
    "pg_log_backend_memory_contexts": "writes to the server's log",
    "pg_stat_file": "reads file metadata on the database server",
    "pg_start_backup": "starts a backup",
    "pg_stop_backup": "stops a backup",
    "pg_switch_wal": "switches the write-ahead log file",
    "pg_promote": "promotes a standby",
    "pg_notify": "sends a notification",
    "pg_stat_statements_reset": "resets the server's statistics",
    "pg_import_system_collations": "creates collations",
    "nextval": "advances a sequence",
    "setval": "sets a sequence",
    "loread": "reads large objects",
    "lowrite": "writes large objects",
}
_WRITES = {"InsertStmt": "INSERT", "UpdateStmt": "UPDATE", "DeleteStmt": "DELETE", "MergeStmt": "MERGE"}


def query_problems(sql: str) -> list[str]:
    """Why ``sql`` can't be a check (clauses for a playbook problem); [] when it is one plain query."""
    try:
        tree = json.loads(parser.parse_sql_json(sql))
    except parser.ParseError as exc:
        return [f"is not valid SQL ({exc})"]
    statements = tree.get("stmts", [])
    if len(statements) != 1:
        found = "no statement" if not statements else f"{len(statements)} statements"
        return [f"holds {found}; a check runs exactly one query"]
    ((kind, node),) = statements[0]["stmt"].items()
    if kind != "SelectStmt":
        return [f"is {_statement_name(kind, node)}, not a query; a check runs one SELECT and only reads"]
    return list(dict.fromkeys(_problems_in(node)))


def _problems_in(node: Any) -> Iterator[str]:
    for key, value in _nodes(node):
        if key == "intoClause":
            yield "uses SELECT ... INTO, which creates a table; a check only reads"
        elif key == "lockingClause":
            yield "uses FOR UPDATE/SHARE, which locks rows; a check only reads"
        elif key in _WRITES:
            yield f"holds a {_WRITES[key]} (in a WITH clause), which changes data; a check only reads"
        elif key == "FuncCall":
            name = _function_name(value)
            why = _denied(name)
            if why is not None:
                yield f"calls {name}(), which {why}; a check may only read"


def _nodes(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair in the parse tree, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _nodes(value)
    elif isinstance(node, list):
        for item in node:
            yield from _nodes(item)


def _function_name(call: dict[str, Any]) -> str:
    parts = [part.get("String", {}).get("sval", "") for part in call.get("funcname", [])]
    return parts[-1].lower() if parts else ""


def _denied(name: str) -> str | None:
    if name in _DENIED:
        return _DENIED[name]
    for prefix, why in _DENIED_PREFIXES.items():
        if name.startswith(prefix):
            return why
    return None


_STATEMENTS = {
    "InsertStmt": "an INSERT",
    "UpdateStmt": "an UPDATE",
    "DeleteStmt": "a DELETE",
    "MergeStmt": "a MERGE",
    "TransactionStmt": "a transaction command",
    "VariableSetStmt": "a SET",
    "VariableShowStmt": "a SHOW",
    "DoStmt": "a DO block",
    "CallStmt": "a CALL",
    "ExplainStmt": "an EXPLAIN",
    "LockStmt": "a LOCK",
}


def _statement_name(kind: str, node: dict[str, Any]) -> str:
    if kind == "CopyStmt":
        target = "PROGRAM" if node.get("is_program") else "a file" if node.get("filename") else "the client"
        return f"a COPY {'FROM' if node.get('is_from') else 'TO'} {target}"
    return _STATEMENTS.get(kind, f"a {kind.removesuffix('Stmt')} statement")
