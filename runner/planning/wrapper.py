"""The application's ``--env-py-wrapper``: entered once per command, every env.py run inside it.

An application whose env.py needs a context (a Flask app context, a worker
thread) names a function that receives a zero-argument callable and must call
it inside that context. The command's whole body runs inside one entry, so an
application that builds itself or opens connections when its context is
entered does so once, however many times env.py runs.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from runner.errors import ConfigError
from runner.planning.app_errors import error_text
from runner.redact import redact

T = TypeVar("T")
WrapperFunction = Callable[[Callable[[], None]], Any]


class EnvPyWrapper:
    """The wrapper function (None: no wrapper), and whether the command's body is inside it now."""

    def __init__(self, function: WrapperFunction | None, spec: str | None = None) -> None:
        self.function = function
        self.spec = spec or "the --env-py-wrapper function"
        self.inside = False

    @classmethod
    def named(cls, spec: str | None) -> EnvPyWrapper:
        """The wrapper ``MODULE:FUNCTION`` names (no wrapper for None)."""
        return cls(resolve_function(spec), spec) if spec else cls(None)

    @property
    def given(self) -> bool:
        return self.function is not None

    def run(self, body: Callable[[], T]) -> T:
        """Run ``body`` inside the wrapper, entered once; calls made while inside run straight through.

        Whatever ``body`` returns or raises (an error, Ctrl-C, an exit) comes out of here after the
        wrapper's own context has been left normally.
        """
        if self.function is None or self.inside:
            return body()
        outcome: list[tuple[bool, Any]] = []

        def call() -> None:
            if outcome:
                raise ConfigError(f"{self.spec} called the function it was given twice; call it once.")
            self.inside = True
            try:
                outcome.append((True, body()))
            except BaseException as exc:  # carried out of the wrapper, then raised again
                outcome.append((False, exc))
            finally:
                self.inside = False

        try:
            self.function(call)
        except Exception as exc:
            if not outcome:
                raise ConfigError(
                    f"--env-py-wrapper {self.spec} failed before it called env.py: {error_text(exc)}."
                ) from None
            if outcome[0][0]:  # the work is done; a failure leaving the context changes nothing in it
                sys.stderr.write(
                    f"warning: --env-py-wrapper {self.spec} failed on the way out: {error_text(exc)}\n"
                )
        if not outcome:
            raise ConfigError(
                f"The --env-py-wrapper function {self.spec} returned without calling the function it was "
                "given; it must call it exactly once, inside whatever context env.py needs."
            )
        done, value = outcome[0]
        if not done:
            raise value
        return value  # type: ignore[no-any-return]


def resolve_function(spec: str, option: str = "--env-py-wrapper") -> Any:
    """The function ``MODULE:FUNCTION`` names (an application's wrapper, a rehearsal's data filler)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"{option} {spec!r} is not MODULE:FUNCTION.")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ConfigError(
            f"{option} {spec!r}: module {module_name!r} can't be imported ({redact(str(exc))})."
        ) from None
    function: object = module
    try:
        for name in attribute.split("."):
            function = getattr(function, name)
    except AttributeError:
        function = None
    if not callable(function):
        raise ConfigError(f"{option} {spec!r}: {module_name} has no callable {attribute!r}.")
    return function
