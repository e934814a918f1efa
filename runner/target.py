"""The database a command acts on, and the two ways of reaching it.

The application's env.py gets an SQLAlchemy URL with the driver the application
uses; the runner's own connections (advisory lock, catalog, history) use
psycopg 3 directly. The password (in the URL's user part or as a ``password`` or
``sslpassword`` query parameter) is registered with the redactor the moment the
URL is parsed, so it can't leak into any output afterwards, and ``display``
masks it wherever it was written.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from sqlalchemy.engine import URL, make_url

from runner.errors import ConfigError
from runner.redact import MASK, remember_secret

# Query keys that belong to SQLAlchemy or a driver, not to libpq.
_NON_LIBPQ_KEYS = {"driver", "async_fallback", "prepared_statement_cache_size", "client_encoding_sa"}
# libpq keywords whose value is a secret: the password, and the passphrase of the client key.
SECRET_QUERY_KEYS = {"password", "sslpassword"}
# SQLAlchemy's own split: the user name runs to ':' or '/', the password to the first '@'.
_USER_INFO = re.compile(r"[\w+]+://(?P<user>[^:/]*)(?::(?P<password>[^@]*))?@(?P<rest>.*)", re.DOTALL)


@dataclass(frozen=True)
class DatabaseTarget:
    url: URL

    @classmethod
    def parse(cls, raw: str, *, source: str = "--database-url") -> DatabaseTarget:
        _refuse_unescaped_at(raw, source)
        try:
            url = make_url(raw)
        except ValueError:  # int() of the port; its text is not shown, it may hold part of a password
            raise ConfigError(
                f"{source} is not a database URL: its port is not a number; expected "
                "postgresql://USER@HOST:PORT/DATABASE."
            ) from None
        except Exception:  # SQLAlchemy's ArgumentError quotes the whole string, password and all
            raise ConfigError(
                f"{source} is not a database URL; expected postgresql://USER@HOST:PORT/DATABASE."
            ) from None
        remember_secret(url.password if isinstance(url.password, str) else None)
        for value in _secret_query_values(url):
            remember_secret(value)
        if url.get_backend_name() == "postgres":
            scheme = url.drivername.replace("postgres", "postgresql", 1)
            raise ConfigError(
                f"{source} starts with {url.drivername}://, a scheme SQLAlchemy no longer reads; write "
                f"{scheme}:// instead (the rest of the URL stays the same)."
            )
        if url.get_backend_name() != "postgresql":
            raise ConfigError(
                f"{source} points at a {url.get_backend_name()} database; the runner only drives PostgreSQL."
            )
        if not url.database:
            raise ConfigError(f"{source} names no database; add /DATABASE to the URL {cls(url).display}.")
        return cls(url)

    @property
    def display(self) -> str:
        """The URL with its password hidden (in the user part and in the query): safe to print and log."""
        base = self.url.set(query={}).render_as_string(hide_password=True)
        pairs = [
            f"{quote_plus(key)}={MASK if key.lower() in SECRET_QUERY_KEYS else quote_plus(value)}"
            for key, values in self.url.query.items()
            for value in ((values,) if isinstance(values, str) else values)
        ]
        return f"{base}?{'&'.join(pairs)}" if pairs else base

    @property
    def has_password(self) -> bool:
        """A password anywhere in the URL: the user part, ``?password=`` or ``?sslpassword=``."""
        return bool(self.url.password) or bool(_secret_query_values(self.url))

    @property
    def database(self) -> str:
        return str(self.url.database)

    def for_alembic(self) -> str:
        """The URL handed to env.py, with a driver the application environment can load."""
        url = self.url
        if url.drivername == "postgresql" and importlib.util.find_spec("psycopg2") is None:
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``psycopg.connect`` (libpq names)."""
        kwargs: dict[str, Any] = {"dbname": self.url.database}
        if self.url.host:
            kwargs["host"] = self.url.host
        if self.url.port:
            kwargs["port"] = self.url.port
        if self.url.username:
            kwargs["user"] = self.url.username
        if self.url.password:
            kwargs["password"] = self.url.password
        for key, value in self.url.query.items():
            if key in _NON_LIBPQ_KEYS:
                continue
            kwargs[key] = value[-1] if isinstance(value, tuple) else value
        return kwargs

    def options_in_url(self) -> bool:
        """An explicit ``options=`` replaces PGOPTIONS entirely; worth telling the operator."""
        return "options" in self.url.query


def _secret_query_values(url: URL) -> list[str]:
    found = []
    for key, values in url.query.items():
        if key.lower() in SECRET_QUERY_KEYS:
            found += [v for v in ((values,) if isinstance(values, str) else values) if v]
    return found


def _refuse_unescaped_at(raw: str, source: str) -> None:
    """An '@' after the one that ends the password: SQLAlchemy would cut the password there.

    The rest of the password would become the host name (or the database, or a
    query key) and be printed in the next error, so the URL is refused without
    showing any part of it. A user name with an '@' (``user@server:pw@host``) is
    read correctly and allowed.
    """
    found = _USER_INFO.match(raw)
    if found is None or "@" not in found["rest"]:
        return
    if found["password"] is not None:
        remember_secret(f"{found['password']}@{found['rest'].rpartition('@')[0]}")
    raise ConfigError(
        f"{source} has an '@' after the one that ends the user name and password. SQLAlchemy ends the "
        "password at its first '@', so a password with an '@' in it would be cut there and the rest read as "
        "the host name. Percent-encode every '@' in the password (and in the database name or the query) as "
        "%40: p@ss becomes p%40ss. The URL is not shown here, since part of it may be the password."
    )
