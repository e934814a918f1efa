"""Real audit logs, written by real runs, and random ways to damage them.

``write_real_logs`` produces two logs through the command layer against real
databases: one holding a refused run, a partial apply, a run halted on a lock
a second session holds (lock timeouts, retries, blockers) and the rest of the
chain; one from the rehearsal playbook (checks, decisions). The corruptions
are what disks, editors and people do to files: bytes flipped, the file cut,
lines removed, inserted, repeated or swapped, binary garbage, invalid UTF-8,
a huge line, an empty file, JSON that isn't an object, a record edited with
its old hash, and a record edited and re-hashed with every line after it (a
forged chain whose fields are not what the runner writes).

``intact`` is the oracle: the chain as the README defines it, checked here
independently of ``runner.audit.verify``.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from runner.audit.chain import GENESIS, chain_hash
from runner.commands import Interaction, apply
from runner.errors import RunnerError
from runner.guards import GuardPolicy, Guards, LockRetryPolicy
from runner.playbook import load_playbook
from runner.request import Confirmation, RunRequest
from runner.request.playbook import from_playbook
from runner.target import DatabaseTarget
from tests import pg
from tests.conftest import EXAMPLE_INI, PRODUCTION_REVISION, ROOT

REHEARSAL = ROOT / "playbooks" / "credentialmate-rehearsal.yaml"


@dataclass(frozen=True)
class RealLogs:
    paths: tuple[Path, ...]
    database: str  # where the first log's runs are recorded in runner_history


def write_real_logs(folder: Path, new_database: Callable[[str], str]) -> RealLogs:
    """Run the example chain a few ways, so the logs hold every kind of event a run writes."""
    database = new_database(PRODUCTION_REVISION)
    target = DatabaseTarget.parse(pg.url_for(database))
    flags_log = folder / "runs.jsonl"
    request = RunRequest(config=EXAMPLE_INI, target=target, audit_log=flags_log, operator="fuzz")
    with contextlib.suppress(RunnerError):
        apply(request)  # no confirmation: refused, and audited as run_refused
    confirmed = replace(request, confirmation=Confirmation(yes=True))
    apply(replace(confirmed, to="7702d353e5b8"))
    fast = GuardPolicy.of(
        Guards(lock_timeout_ms=50, statement_timeout_ms=10_000, idle_in_transaction_timeout_ms=10_000),
        LockRetryPolicy(attempts=2, first_wait_s=0.001, max_wait_s=0.002, total_s=60),
    )
    with closing(pg.connect(database)) as blocker:
        blocker.execute("BEGIN")
        blocker.execute("LOCK TABLE providers IN ACCESS SHARE MODE")
        apply(replace(confirmed, guards=fast), Interaction(), sleep=lambda _s: None)  # halts on the lock
    apply(confirmed)

    rehearsal_db = new_database(PRODUCTION_REVISION)
    rehearsal_log = folder / "rehearsal.jsonl"
    os.environ["REHEARSAL_DATABASE_URL"] = pg.url_for(rehearsal_db)  # the playbook's url_env
    try:
        apply(replace(from_playbook(load_playbook(REHEARSAL)), audit_log=rehearsal_log))
    finally:
        del os.environ["REHEARSAL_DATABASE_URL"]
    return RealLogs((flags_log, rehearsal_log), database)


def intact(data: bytes) -> bool:
    """Whether ``data`` is an unbroken chain of audit records (the README's definition)."""
    try:
        lines = data.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return False
    prev, seqs, records = GENESIS, {}, 0
    for line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            return False
        if not isinstance(record, dict) or record.get("prev") != prev or "hash" not in record:
            return False
        try:
            if chain_hash(prev, record) != record["hash"]:
                return False
        except UnicodeEncodeError:  # a lone surrogate (\\ud800) can't be hashed: it was never written
            return False
        run, seq = str(record.get("run_id")), record.get("seq")
        if isinstance(seq, int) and run in seqs and seq != seqs[run] + 1:
            return False
        if isinstance(seq, int):
            seqs[run] = seq
        prev, records = record["hash"], records + 1
    return records > 0


ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=20),
    st.lists(st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=3),
    st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
)
ODD_LINES = (
    b"",
    b"   ",
    b"[]",
    b"[1, 2, 3]",
    b'"a string"',
    b"42",
    b"null",
    b"{}",
    b'{"hash": "0"}',
    b'{"prev": 5, "hash": "x"}',
    b'{"prev": NaN, "hash": Infinity}',
    b'{"run_id": "r", "event": "step_applied", "hash": "h", "prev": "p", "seq": "one"}',
    b'{"a": ' + b"9" * 5000 + b"}",
    b'{"s": "\\ud800"}',
    b"[" * 5000 + b"]" * 5000,
    b"\x00\x01\x02\xff\xfe",
    b"\xc3\x28 not utf-8",
    b"x" * 200_000,
    b'{"truncated": "rec',
)
CORRUPTIONS = (
    "flip",
    "cut",
    "delete",
    "insert",
    "duplicate",
    "swap",
    "edit keeping the hash",
    "edit and re-hash",
    "empty",
    "invalid utf-8",
)


@dataclass(frozen=True)
class DamagedLog:
    """A damaged log, shown (when hypothesis reports a case) by where it came from and what was done to it."""

    data: bytes = field(repr=False)
    original: int
    damage: tuple[str, ...]


@st.composite
def corrupted_logs(draw: st.DrawFn, originals: tuple[bytes, ...]) -> DamagedLog:
    which = draw(st.integers(0, len(originals) - 1))
    data, damage = originals[which], []
    for _ in range(draw(st.sampled_from((1, 1, 1, 2, 3)))):
        how = draw(st.sampled_from(CORRUPTIONS))
        data = _corrupt(draw, data, how)
        damage.append(how)
    return DamagedLog(data, which, tuple(damage))


def _corrupt(draw: st.DrawFn, data: bytes, how: str) -> bytes:
    lines = data.split(b"\n")
    index = draw(st.integers(0, max(0, len(lines) - 1)))
    if how == "flip" and data:
        at = draw(st.integers(0, len(data) - 1))
        return data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1 :]
    if how == "cut":
        return data[: draw(st.integers(0, len(data)))]
    if how == "delete" and lines:
        return b"\n".join(lines[:index] + lines[index + 1 :])
    if how == "insert":
        line = draw(st.one_of(st.sampled_from(ODD_LINES), st.binary(max_size=40), st.sampled_from(lines)))
        return b"\n".join([*lines[:index], line, *lines[index:]])
    if how == "duplicate" and lines:
        return b"\n".join([*lines[: index + 1], lines[index], *lines[index + 1 :]])
    if how == "swap" and len(lines) > 1:
        other = draw(st.integers(0, len(lines) - 1))
        lines[index], lines[other] = lines[other], lines[index]
        return b"\n".join(lines)
    if how == "empty":
        return draw(st.sampled_from((b"", b"\n", b"\n\n  \n")))
    if how == "invalid utf-8":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.sampled_from((b"\xff", b"\xc3\x28", b"\xed\xa0\x80"))) + data[at:]
    if how in ("edit keeping the hash", "edit and re-hash"):
        return edit_record(draw, lines, index, rehash=how == "edit and re-hash")
    return data


def edit_record(draw: st.DrawFn, lines: list[bytes], index: int, *, rehash: bool) -> bytes:
    """One record's field set to an odd value; with ``rehash``, the chain rebuilt from there on."""
    try:
        record = json.loads(lines[index])
    except (ValueError, RecursionError, IndexError):
        return b"\n".join(lines)
    if not isinstance(record, dict):
        return b"\n".join(lines)
    keys = sorted(k for k in record if k not in ("hash", "prev")) or ["event"]
    key = draw(st.one_of(st.sampled_from(keys), st.text(max_size=8)))
    if draw(st.booleans()) and key in record:
        del record[key]
    else:
        record[key] = draw(ODD_VALUES)
    lines[index] = _dumps(record)
    if rehash:
        _rechain(lines, index)
    return b"\n".join(lines)


def _rechain(lines: list[bytes], start: int) -> None:
    prev = GENESIS
    for number, line in enumerate(lines):
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if not isinstance(record, dict):
            continue
        if number >= start:
            record["prev"] = prev
            record.pop("hash", None)
            try:
                record["hash"] = chain_hash(prev, record)
            except UnicodeEncodeError:
                return
            lines[number] = _dumps(record)
        prev = str(record.get("hash"))


def _dumps(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass")
