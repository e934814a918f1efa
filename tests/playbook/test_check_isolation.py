"""A playbook's checks run beside the run, not inside it: their own connection, and the playbook's role."""

from __future__ import annotations

import secrets
from contextlib import closing

from runner.database import runlock
from runner.run.result import RunStatus
from tests import pg
from tests.conftest import EXAMPLE_HEAD
from tests.playbook.conftest import named

RUN_LOCK_IN_THIS_DATABASE = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
    f"AND classid = {runlock.LOCK_CLASS} AND objid = {runlock.LOCK_OBJECT} "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)

BESIDE_THE_LOCK = f"""
    version: 1
    project:
      alembic_config: {{ini}}
      from_revision: 20260115_0200
      target_revision: 20260131_0000
    target: {{name: rehearsal, environment: rehearsal, url_env: UNUSED_BY_THESE_TESTS}}
    checks:
      after_each:
        - name: the run lock is held
          sql: "{RUN_LOCK_IN_THIS_DATABASE}"
          scalar: 1
        - name: not by this session
          sql: "{RUN_LOCK_IN_THIS_DATABASE} AND pid = pg_backend_pid()"
          scalar: 0
"""

AS_A_ROLE = """
    version: 1
    project:
      alembic_config: {ini}
      from_revision: 20260115_0200
      target_revision: 20260131_0000
    target: {name: rehearsal, environment: rehearsal, url_env: UNUSED_BY_THESE_TESTS}
    checks:
      role: ROLE
      after_all:
        - name: runs as the role
          sql: SELECT current_user
          scalar: ROLE
        - name: providers are readable
          sql: SELECT count(*) FROM providers
          scalar: 0
"""


def test_checks_run_on_their_own_connection_while_the_run_lock_is_held(
    write_playbook, run_playbook, production_db
):
    """After every step the run lock is held, by a session that is not the check's own."""
    result, events = run_playbook(write_playbook(BESIDE_THE_LOCK), production_db)

    assert result.status is RunStatus.DONE, result.message
    assert pg.heads(production_db) == [EXAMPLE_HEAD]
    assert named(events, "check_failed") == []
    passed = [e["check"] for e in named(events, "check_passed")]
    assert passed.count("the run lock is held") == 4
    assert passed.count("not by this session") == 4


def test_checks_run_as_the_playbooks_role(write_playbook, run_playbook, production_db):
    """checks.role: the check sees itself as that role, and a table the role can't read fails the check cleanly."""
    role = f"rt_checker_{secrets.token_hex(3)}"
    with closing(pg.admin()) as conn:
        conn.execute(f"CREATE ROLE {role} NOLOGIN")
    try:
        result, events = run_playbook(write_playbook(AS_A_ROLE.replace("ROLE", role)), production_db)
    finally:
        with closing(pg.admin()) as conn:
            conn.execute(f"DROP ROLE {role}")

    assert result.status is RunStatus.HALTED
    assert pg.heads(production_db) == [EXAMPLE_HEAD]
    [as_role] = [e for e in named(events, "check_passed") if e["check"] == "runs as the role"]
    assert as_role["found"] == repr(role) and as_role["role"] == role
    [denied] = named(events, "check_failed")
    assert denied["check"] == "providers are readable"
    assert denied["found"] == "error: InsufficientPrivilege: permission denied for table providers"
    assert denied["role"] == role
    revision = [e for e in named(events, "check_passed") if e["check"] == "revision"]
    assert revision and all("role" not in e for e in revision)  # the runner's own checks run as itself
