"""Small pure pieces: durations, redaction, SQLSTATE lookup, downgrade detection, URLs."""

from __future__ import annotations

import pytest

from runner.database.blockers import relations_in
from runner.durations import format_ms, parse_ms
from runner.errors import ConfigError
from runner.guards import Guards, LockRetryPolicy
from runner.planning.revisions import Downgrade, downgrade_kind
from runner.redact import Redactor
from runner.run.retry import sqlstate
from runner.target import DatabaseTarget


@pytest.mark.parametrize(
    ("text", "ms"),
    [("2s", 2000), ("500ms", 500), ("5min", 300_000), ("1.5s", 1500), ("250", 250), ("1h", 3_600_000)],
)
def test_durations_parse_with_units(text, ms):
    assert parse_ms(text) == ms


def test_durations_reject_nonsense():
    with pytest.raises(ValueError, match="'soon' is not a duration"):
        parse_ms("soon")


@pytest.mark.parametrize(
    ("ms", "text"), [(2000, "2s"), (1500, "1500ms"), (60_000, "1min"), (7_200_000, "2h")]
)
def test_durations_format_exactly(ms, text):
    assert format_ms(ms) == text


def test_zero_guards_are_refused():
    with pytest.raises(
        ConfigError, match=r"^lock_timeout 0ms is outside the accepted range, 1ms to 1h \(0 means"
    ):
        Guards(lock_timeout_ms=0)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: Guards(lock_timeout_ms=3_600_001),
            "lock_timeout 3600001ms is outside the accepted range, 1ms to 1h.",
        ),
        (
            lambda: Guards(statement_timeout_ms=2_147_483_647),
            "statement_timeout 2147483647ms is outside the accepted range, 1ms to 576h (24 days).",
        ),
        (
            lambda: LockRetryPolicy(attempts=0),
            "Lock retry attempts 0 is outside the accepted range, 1 to 100.",
        ),
        (
            lambda: LockRetryPolicy(total_s=0),
            "Lock retry budget 0ms is outside the accepted range, 1ms to 24h.",
        ),
        (
            lambda: LockRetryPolicy(max_wait_s=7200),
            "Lock retry longest wait 2h is outside the accepted range, 1ms to 1h.",
        ),
    ],
)
def test_guards_and_retries_outside_their_range_are_refused(make, message):
    """Values built in code meet the same ranges as the command line and the playbook."""
    with pytest.raises(ConfigError) as raised:
        make()
    assert str(raised.value) == message


def test_redactor_masks_known_values_and_credential_shapes():
    r = Redactor(["topsecret"])
    assert r.text("pw topsecret here") == "pw *** here"
    assert r.text("postgresql://u:p%40ss@h/db") == "postgresql://u:***@h/db"
    assert r.text("host=h password=abc dbname=d") == "host=h password=*** dbname=d"
    assert r.text("CREATE ROLE x PASSWORD 'it''s'") == "CREATE ROLE x PASSWORD '***'"
    assert r.text("key AKIAABCDEFGHIJKLMNOP used") == "key *** used"
    assert r.value({"a": ["postgresql://u:x@h/d"]}) == {"a": ["postgresql://u:***@h/d"]}


@pytest.mark.parametrize(
    ("sql", "masked"),
    [
        (
            "ALTER ROLE x WITH ENCRYPTED PASSWORD 'a''b' LOGIN",
            "ALTER ROLE x WITH ENCRYPTED PASSWORD '***' LOGIN",
        ),
        (
            "ALTER ROLE x PASSWORD $$p@ss w'rd$$ VALID UNTIL 'infinity'",
            "ALTER ROLE x PASSWORD '***' VALID UNTIL 'infinity'",
        ),
        ("CREATE ROLE x PASSWORD $pw$se$$cret$pw$ LOGIN", "CREATE ROLE x PASSWORD '***' LOGIN"),
        ("ALTER ROLE x PASSWORD E'it\\'s \\\\ secret' LOGIN", "ALTER ROLE x PASSWORD '***' LOGIN"),
        ("ALTER USER x PASSWORD U&'d\\0061t' LOGIN", "ALTER USER x PASSWORD '***' LOGIN"),
        ("ALTER ROLE x PASSWORD 'cut short by pg_stat_act", "ALTER ROLE x PASSWORD '***'"),
        ("OPTIONS (user 'u', password $$pw$$)", "OPTIONS (user 'u', password '***')"),
        ("host=h password='a b\\' c' dbname=d", "host=h password=*** dbname=d"),
        ("postgresql://u@h/db?sslpassword=abc&x=1", "postgresql://u@h/db?sslpassword=***&x=1"),
        ("ALTER ROLE x PASSWORD NULL", "ALTER ROLE x PASSWORD NULL"),
        ("the password's length", "the password's length"),
    ],
)
def test_redactor_masks_sql_passwords_in_every_string_form(sql, masked):
    """Dollar-quoted, E'..' with backslash escapes, U&'..', cut-short and libpq-quoted passwords."""
    assert Redactor().text(sql) == masked


class FakeDriverError(Exception):
    def __init__(self, code):
        super().__init__("boom")
        self.pgcode = code


class FakeSAError(Exception):
    def __init__(self, orig):
        super().__init__("wrapped")
        self.orig = orig


def test_sqlstate_is_found_through_wrappers():
    assert sqlstate(FakeSAError(FakeDriverError("55P03"))) == "55P03"
    assert sqlstate(ValueError("x")) is None


def test_lock_retry_policy_waits_stay_within_bounds():
    policy = LockRetryPolicy(attempts=3, first_wait_s=0.5, max_wait_s=2)
    assert policy.stop() is not None and policy.wait() is not None


def test_downgrade_kinds_are_read_from_source(tmp_path):
    full = tmp_path / "full.py"
    full.write_text("def upgrade():\n    pass\n\ndef downgrade():\n    op.drop_table('t')\n")
    empty = tmp_path / "empty.py"
    empty.write_text('def downgrade():\n    """one way"""\n    # nothing\n    pass\n')
    missing = tmp_path / "missing.py"
    missing.write_text("def upgrade():\n    pass\n")
    assert downgrade_kind(str(full)) is Downgrade.FULL
    assert downgrade_kind(str(empty)) is Downgrade.EMPTY
    assert downgrade_kind(str(missing)) is Downgrade.MISSING


def test_downgrade_kinds_from_the_loaded_function_are_the_ones_read_from_source(tmp_path):
    """The loaded downgrade() answers without a parse only when the parse would say the same."""
    import importlib.util

    import runner.planning.revisions as revisions

    scripts = {
        "full": ("def downgrade():\n    op.drop_table('t')\n", Downgrade.FULL, True),
        # Python keeps the second, the source's first one is what counts: it only passes
        "twice": (
            "def downgrade():\n    pass\n\ndef downgrade():\n    op.drop_table('t')\n",
            Downgrade.EMPTY,
            False,
        ),
        "dropped": ("def downgrade():\n    if False:\n        op.drop_table('t')\n", Downgrade.FULL, False),
        "decorated": (
            "def keep(f):\n    return f\n\n@keep\ndef downgrade():\n    op.drop_table('t')\n",
            Downgrade.FULL,
            False,
        ),
        "nested": ("if True:\n    def downgrade():\n        op.drop_table('t')\n", Downgrade.MISSING, False),
        "empty": ('def downgrade():\n    """one way"""\n    ...\n', Downgrade.EMPTY, False),
    }
    for name, (source, kind, without_parse) in scripts.items():
        path = tmp_path / f"{name}.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(f"script_{name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        loaded = getattr(module, "downgrade", None)
        assert downgrade_kind(str(path), loaded) is kind, name
        assert downgrade_kind(str(path)) is kind, name
        assert revisions._surely_does_something(source, str(path), loaded) is without_parse, name


def test_relations_are_read_with_the_postgres_parser():
    assert relations_in("ALTER TABLE providers ADD COLUMN x int") == ['"providers"']
    assert relations_in('LOCK TABLE app."Weird" IN ACCESS EXCLUSIVE MODE') == ['"app"."Weird"']
    assert relations_in("not sql at all (") == []


def test_target_urls_hide_passwords_and_refuse_other_backends():
    target = DatabaseTarget.parse("postgresql://u:pw@h:5433/db?sslmode=require")
    assert target.display == "postgresql://u:***@h:5433/db?sslmode=require"
    assert target.connect_kwargs() == {
        "dbname": "db",
        "host": "h",
        "port": 5433,
        "user": "u",
        "password": "pw",
        "sslmode": "require",
    }
    with pytest.raises(ConfigError, match="only drives PostgreSQL"):
        DatabaseTarget.parse("mysql://u@h/db")
    with pytest.raises(ConfigError, match="names no database"):
        DatabaseTarget.parse("postgresql://u@h")


def test_target_urls_mask_a_password_given_as_a_query_parameter():
    """?password= and ?sslpassword= are libpq's; display masks them and has_password sees them."""
    target = DatabaseTarget.parse("postgresql://u@h/db?password=pw&sslmode=require&sslpassword=kp")
    assert target.display == "postgresql://u@h/db?password=***&sslmode=require&sslpassword=***"
    assert target.has_password
    assert target.connect_kwargs()["password"] == "pw"
    assert not DatabaseTarget.parse("postgresql://u@h/db?sslmode=require").has_password


def test_a_postgres_scheme_is_refused_with_the_one_to_write():
    """SQLAlchemy dropped postgres://; the message names where the URL came from and the fix."""
    with pytest.raises(ConfigError) as raised:
        DatabaseTarget.parse("postgres+psycopg2://u@h/db", source="$APP_DB_URL")
    assert str(raised.value) == (
        "$APP_DB_URL starts with postgres+psycopg2://, a scheme SQLAlchemy no longer reads; write "
        "postgresql+psycopg2:// instead (the rest of the URL stays the same)."
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("postgresql://u:p@h:port/db", "--database-url is not a database URL: its port is not a number;"),
        ("host=h password=pw", "--database-url is not a database URL; expected"),
    ],
)
def test_an_unreadable_url_is_refused_without_quoting_it(raw, message):
    """SQLAlchemy's own message quotes the string, password and all: the runner's quotes none of it."""
    with pytest.raises(ConfigError) as raised:
        DatabaseTarget.parse(raw)
    assert str(raised.value).startswith(message)
    assert "pw" not in str(raised.value) and ":p@" not in str(raised.value)
