"""Triggers and row security (BC108-BC110) on the sized database, with the server's behaviour checked."""

from __future__ import annotations

import secrets
from contextlib import closing

from runner.lint import Severity
from tests import pg
from tests.lint.conftest import stats_of
from tests.lint.helpers import lint, only

REENABLED = (
    "ALTER TABLE accounts DISABLE TRIGGER accounts_touch;\n\n"
    "UPDATE accounts SET note = 'x' WHERE id BETWEEN 1 AND 5000;\n\n"
    "ALTER TABLE accounts ENABLE TRIGGER accounts_touch"
)


def visible_to_a_reader(database: str, *setup: str) -> int:
    """Rows of accounts a role that does not own it sees after ``setup`` (all rolled back, role included)."""
    role = f"rt_reader_{secrets.token_hex(3)}"
    with closing(pg.connect(database)) as conn:
        conn.autocommit = False
        conn.execute(f"CREATE ROLE {role}")
        conn.execute(f"GRANT SELECT ON accounts TO {role}")
        for sql in setup:
            conn.execute(sql)
        conn.execute(f"SET ROLE {role}")
        count = conn.execute("SELECT count(*) FROM accounts").fetchone()[0]
        conn.rollback()
    return int(count)


def test_bc108_bad_disable_trigger_all_switches_off_foreign_keys(sized_clone) -> None:
    """ALL left disabled: block, naming the triggers and the foreign key; the server then accepts an orphan row."""
    finding = only(lint("ALTER TABLE accounts DISABLE TRIGGER ALL", stats=stats_of(sized_clone)), "BC108")
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        "DISABLE TRIGGER ALL on accounts switches off every trigger on accounts (accounts_touch) and the checks of "
        "the 1 foreign key on and to accounts for every session from the moment this step commits, until something "
        "enables them again: rows written meanwhile are never checked against the foreign keys."
    )
    assert finding.help == (
        "Disable only what must be skipped, inside the transaction that needs it, and enable it again before the "
        "commit:\n"
        '    op.execute("ALTER TABLE accounts DISABLE TRIGGER USER")\n'
        "    # the data change that must skip it, in this same transaction\n"
        '    op.execute("ALTER TABLE accounts ENABLE TRIGGER USER")'
    )
    with closing(pg.connect(sized_clone)) as conn:
        conn.execute("ALTER TABLE accounts DISABLE TRIGGER ALL")
        conn.execute("INSERT INTO accounts (id, org_id, email) VALUES (100001, 999999, 'orphan@example.com')")
        conn.execute("ALTER TABLE accounts ENABLE TRIGGER ALL")
        orphans = conn.execute(
            "SELECT count(*) FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM orgs o WHERE o.id = a.org_id)"
        ).fetchone()
    assert orphans == (1,)


def test_bc108_bad_a_named_trigger_left_disabled_warns(sized_stats) -> None:
    finding = only(lint("ALTER TABLE accounts DISABLE TRIGGER accounts_touch", stats=sized_stats), "BC108")
    assert finding.severity is Severity.WARN
    assert finding.message.startswith(
        "DISABLE TRIGGER accounts_touch on accounts switches off the trigger accounts_touch for every session"
    )


def test_bc108_good_enabled_again_in_the_same_transaction(sized_stats) -> None:
    """Disabled and enabled around a batch in one transaction: no other session writes without it (info)."""
    report = lint(REENABLED, stats=sized_stats)
    finding = only(report, "BC108")
    assert finding.severity is Severity.INFO
    assert finding.message == (
        "DISABLE TRIGGER accounts_touch on accounts is enabled again before the step commits, so no other session "
        "writes without the trigger accounts_touch: its SHARE ROW EXCLUSIVE lock makes their writes wait until the "
        "commit. Only this step's own writes skip them."
    )
    # and the 5,000-row batch between them is a batch, not a backfill of the table
    assert {f.code: f.severity for f in report.findings if f.code in ("TX102", "TX103")} == {
        "TX102": Severity.INFO,
        "TX103": Severity.INFO,
    }


def test_bc109_bad_row_security_without_a_policy_hides_every_row(sized_db, sized_stats) -> None:
    """ENABLE ROW LEVEL SECURITY with no policy: a warning; on the server a non-owner then sees 0 of 100,000 rows."""
    finding = only(lint("ALTER TABLE accounts ENABLE ROW LEVEL SECURITY", stats=sized_stats), "BC109")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "ENABLE ROW LEVEL SECURITY on accounts, which has no policy: from the moment this step commits, every role "
        "that does not own it (superusers and BYPASSRLS roles excepted) sees no rows of accounts and can't write "
        "any, the application's role included unless it owns the table."
    )
    assert finding.help == (
        "Create the policies first, in the same step, then enable row level security:\n"
        '    op.execute("CREATE POLICY accounts_access ON accounts USING (...)")  # who sees which rows\n'
        '    op.execute("ALTER TABLE accounts ENABLE ROW LEVEL SECURITY")'
    )
    assert visible_to_a_reader(sized_db) == 100_000
    assert visible_to_a_reader(sized_db, "ALTER TABLE accounts ENABLE ROW LEVEL SECURITY") == 0


def test_bc109_bad_force_without_a_policy_blocks(sized_stats) -> None:
    finding = only(lint("ALTER TABLE accounts FORCE ROW LEVEL SECURITY", stats=sized_stats), "BC109")
    assert finding.severity is Severity.BLOCK
    assert "every role, its owner included, (superusers and BYPASSRLS roles excepted) sees no rows" in (
        finding.message
    )


def test_bc109_good_policy_created_first_in_the_same_step(sized_db, sized_stats) -> None:
    """A policy in the same step: only a note; the server shows the reader exactly the policy's rows."""
    policy = "CREATE POLICY accounts_org_1 ON accounts USING (org_id = 1)"
    report = lint(f"{policy};\n\nALTER TABLE accounts ENABLE ROW LEVEL SECURITY", stats=sized_stats)
    finding = only(report, "BC109")
    assert finding.severity is Severity.INFO
    assert finding.message == (
        "ENABLE ROW LEVEL SECURITY on accounts: from the moment this step commits, every role that does not own it "
        "sees and writes only the rows its 1 policy allow (superusers and BYPASSRLS roles excepted); rehearse with "
        "the application's own role."
    )
    assert visible_to_a_reader(sized_db, policy, "ALTER TABLE accounts ENABLE ROW LEVEL SECURITY") == 100


def test_bc110_bad_policy_on_a_table_with_row_security_changes_what_code_sees(sized_clone) -> None:
    with closing(pg.connect(sized_clone)) as conn:
        conn.execute("CREATE POLICY accounts_all ON accounts USING (true)")
        conn.execute("ALTER TABLE accounts ENABLE ROW LEVEL SECURITY")
    sql = "CREATE POLICY accounts_closed ON accounts AS RESTRICTIVE FOR SELECT USING (status <> 'closed')"
    finding = only(lint(sql, stats=stats_of(sized_clone)), "BC110")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "CREATE POLICY accounts_closed on accounts (RESTRICTIVE, for SELECT) changes which rows running code sees "
        "from the moment this step commits: row level security is on for accounts, so it hides rows roles saw "
        "before, and its expression runs for every row every query reads."
    )


def test_bc110_good_policy_before_row_security_is_only_noted(sized_stats) -> None:
    finding = only(
        lint("CREATE POLICY accounts_org_1 ON accounts USING (org_id = 1)", stats=sized_stats), "BC110"
    )
    assert finding.severity is Severity.INFO
    assert finding.message == (
        "CREATE POLICY accounts_org_1 on accounts does nothing until row level security is enabled on accounts; "
        "then it decides which rows each role sees."
    )
