"""The database a command acts on, and the two ways of reaching it.

The application's env.py gets an SQLAlchemy URL with the driver the application
uses; the runner's own connections (advisory lock, catalog, history) use
psycopg 3 directly. The password is registered with the redactor the moment the
URL is parsed, so it can't leak into any output afterwards.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import URL, make_url

from runner.errors import ConfigError
from runner.redact import redact, remember_secret

# Query keys that belong to SQLAlchemy or a driver, not to libpq.
_NON_LIBPQ_KEYS = {"driver", "async_fallback", "prepared_statement_cache_size", "client_encoding_sa"}


@dataclass(frozen=True)
class DatabaseTarget:
    url: URL

    @classmethod
    def parse(cls, raw: str, *, source: str = "--database-url") -> DatabaseTarget:
        try:
            url = make_url(raw)
        except Exception as exc:  # SQLAlchemy raises ArgumentError or ValueError
            raise ConfigError(
                f"{source} is not a database URL ({redact(str(exc))}); expected "
                "postgresql://USER@HOST:PORT/DATABASE."
            ) from None
        remember_secret(url.password if isinstance(url.password, str) else None)
        if url.get_backend_name() != "postgresql":
            raise ConfigError(
                f"{source} points at a {url.get_backend_name()} database; the runner only drives PostgreSQL."
            )
        if not url.database:
            raise ConfigError(f"{source} names no database; add /DATABASE to the URL {cls(url).display}.")
        return cls(url)

    @property
    def display(self) -> str:
        """The URL with its password hidden: safe to print and log."""
        return self.url.render_as_string(hide_password=True)

    @property
    def has_password(self) -> bool:
        return bool(self.url.password)

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
