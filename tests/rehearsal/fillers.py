"""Data fillers for the tests of ``--fill``: one that works, one that fails, one that answers wrongly."""

from __future__ import annotations

import psycopg


def widgets(conninfo: dict[str, object], scale: int) -> dict[str, int]:
    with psycopg.connect(**conninfo, autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute("CREATE TABLE IF NOT EXISTS widgets (id int)")
        conn.execute("INSERT INTO widgets SELECT generate_series(1, %s)", [scale])
    return {"widgets": scale}


def broken(conninfo: dict[str, object], scale: int) -> None:
    raise KeyError("FILL_SETTING")


def list_answer(conninfo: dict[str, object], scale: int) -> list[int]:
    return [scale]
