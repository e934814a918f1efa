"""Rules that tie a playbook's fields together, checked before anything else reads it.

pydantic checks each value on its own; these rules need two or more of them
(rollback_to only with rollback, a profile that exists, a lock_timeout shorter
than the statement_timeout it runs under). Each problem points at the key that
has to change, so its line is the one the operator edits.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from runner.durations import format_ms
from runner.playbook.build import resolve_guards
from runner.playbook.consistency_aws import health_problems, notify_problems, snapshot_problems
from runner.playbook.model import GuardsModel, PlaybookModel
from runner.playbook.model_checks import Check as CheckModel
from runner.playbook.model_checks import (
    ColumnCheck,
    ConstraintCheck,
    EnumCheck,
    IndexCheck,
    RowsUnchangedCheck,
    SqlCheck,
)
from runner.playbook.problems import Path_, Problem
from runner.playbook.query_rules import query_problems


def problems(model: PlaybookModel) -> list[Problem]:
    found: list[Problem] = []
    rules = (
        _policies,
        _profiles,
        _timeouts,
        _retries,
        _window,
        snapshot_problems,
        notify_problems,
        _checks,
        _acknowledgements,
    )
    for rule in rules:
        found.extend(rule(model))
    return found


def _policies(model: PlaybookModel) -> Iterator[Problem]:
    if model.rollback_to is not None and model.on_failure != "rollback":
        yield Problem(
            ("rollback_to",),
            f"rollback_to only applies with on_failure: rollback, and on_failure here is {model.on_failure}",
        )
    for revision, step in model.steps.items():
        policy = step.on_failure or model.on_failure
        if step.rollback_to is not None and policy != "rollback":
            yield Problem(
                ("steps", revision, "rollback_to"),
                f"rollback_to only applies with on_failure: rollback, and this step's on_failure is {policy}",
            )
        if step.irreversible is not None and step.reversible_because is not None:
            yield Problem(
                ("steps", revision, "reversible_because"),
                "a step is either marked irreversible or declared reversible, not both; keep one of the two keys",
            )


def _profiles(model: PlaybookModel) -> Iterator[Problem]:
    for revision, step in model.steps.items():
        if step.profile is not None and step.profile not in model.profiles:
            known = ", ".join(model.profiles) or "none are defined"
            yield Problem(
                ("steps", revision, "profile"),
                f"{step.profile!r} is not one of the playbook's profiles ({known}); define it under profiles",
            )


def _guard_layers(model: PlaybookModel) -> Iterator[tuple[Path_, list[tuple[Path_, GuardsModel | None]]]]:
    base: list[tuple[Path_, GuardsModel | None]] = [(("guards",), model.guards)]
    yield ("guards",), base
    for name, profile in model.profiles.items():
        yield ("profiles", name), [*base, (("profiles", name), profile)]
    for revision, step in model.steps.items():
        layers = list(base)
        if step.profile in model.profiles:
            layers.append((("profiles", str(step.profile)), model.profiles[str(step.profile)]))
        if step.guards is not None:
            layers.append((("steps", revision, "guards"), step.guards))
            yield ("steps", revision, "guards"), layers


def _origin(layers: list[tuple[Path_, GuardsModel | None]], name: str) -> Path_ | None:
    for path, layer in reversed(layers):
        if layer is not None and getattr(layer, name) is not None:
            return (*path, name)
    return None


def _timeouts(model: PlaybookModel) -> Iterator[Problem]:
    reported: set[Path_] = set()
    for _where, layers in _guard_layers(model):
        guards, _retry = resolve_guards([layer for _path, layer in layers])
        if guards.lock_timeout_ms < guards.statement_timeout_ms:
            continue
        lock_at = _origin(layers, "lock_timeout")
        statement_at = _origin(layers, "statement_timeout")
        at = lock_at or statement_at
        if at is None or at in reported:
            continue
        reported.add(at)
        source = ".".join(str(p) for p in statement_at) if statement_at else "the runner's default"
        yield Problem(
            at,
            f"lock_timeout {format_ms(guards.lock_timeout_ms)} is not shorter than the statement_timeout "
            f"{format_ms(guards.statement_timeout_ms)} it runs under (from {source}), so a lock wait would end as "
            "a statement timeout, which is never retried; make lock_timeout the shorter of the two",
        )


def _retries(model: PlaybookModel) -> Iterator[Problem]:
    for where, layers in _guard_layers(model):
        _guards, retry = resolve_guards([layer for _path, layer in layers])
        if retry.first_wait_s > retry.max_wait_s:
            at = _retry_origin(layers, "first_wait") or (*where, "retry")
            yield Problem(
                at,
                f"first_wait {format_ms(retry.first_wait_s * 1000)} is longer than max_wait "
                f"{format_ms(retry.max_wait_s * 1000)}; the longest single wait can't be shorter than the first",
            )


def _retry_origin(layers: list[tuple[Path_, GuardsModel | None]], name: str) -> Path_ | None:
    for path, layer in reversed(layers):
        if layer is not None and layer.retry is not None and getattr(layer.retry, name) is not None:
            return (*path, "retry", name)
    return None


def _window(model: PlaybookModel) -> Iterator[Problem]:
    window = model.window
    if window is None:
        return
    if window.days is None and window.dates is None:
        yield Problem(
            ("window",), "the window needs days (such as [tue, thu]) or dates (such as [2026-02-10])"
        )
    if window.days is not None and window.dates is not None:
        yield Problem(("window", "dates"), "give days or dates, not both")
    if window.start == window.end:
        yield Problem(("window", "end"), f"the window ends when it starts ({window.end}); give it a length")


def _check_lists(model: PlaybookModel) -> Iterator[tuple[Path_, list[CheckModel]]]:
    yield ("checks", "before"), model.checks.before
    yield ("checks", "after_each"), model.checks.after_each
    yield ("checks", "after_all"), model.checks.after_all
    for revision, step in model.steps.items():
        yield ("steps", revision, "checks"), step.checks


def _checks(model: PlaybookModel) -> Iterator[Problem]:
    for where, checks in _check_lists(model):
        for index, check in enumerate(checks):
            for key, message in _check_problems(check, where):
                yield Problem((*where, index, key), message)


def _check_problems(check: CheckModel, where: Path_) -> Iterator[tuple[str, str]]:
    if isinstance(check, RowsUnchangedCheck) and where == ("checks", "before"):
        yield (
            "rows_unchanged",
            "rows_unchanged compares a count before and after steps, so it can't run before them",
        )
    if isinstance(check, ColumnCheck):
        table, _, column = check.column.rpartition(".")
        if not table or not column:
            yield "column", f"{check.column!r} is not TABLE.COLUMN (or SCHEMA.TABLE.COLUMN)"
        if not check.exists and (check.type is not None or check.nullable is not None):
            yield (
                "exists",
                "a column that must be absent has no type or nullability to check; drop those keys",
            )
    if isinstance(check, IndexCheck) and not check.exists and check.unique is not None:
        yield "exists", "an index that must be absent can't also be checked for uniqueness; drop unique"
    if isinstance(check, ConstraintCheck) and not check.exists and check.kind is not None:
        yield "exists", "a constraint that must be absent has no kind to check; drop kind"
    if isinstance(check, EnumCheck):
        if check.value is not None and check.values is not None:
            yield "values", "give value (one label) or values (the exact list), not both"
        if not check.exists and check.values is not None:
            yield "exists", "exists: false checks that a type or one value is absent; it can't go with values"
    yield from health_problems(check)
    if isinstance(check, SqlCheck):
        given = [key for key in ("scalar", "rows") if key in check.model_fields_set]
        if len(given) != 1:
            found = "both" if given else "neither"
            yield "sql", f"a query check compares either scalar or rows with an expected value, found {found}"
        elif given == ["scalar"] and check.op not in ("==", "!=") and not _is_number(check.scalar):
            yield "op", f"{check.op} compares numbers, and scalar is {check.scalar!r}; use == or !="
        for problem in query_problems(check.sql):
            yield "sql", f"the SQL {problem}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _acknowledgements(model: PlaybookModel) -> Iterator[Problem]:
    seen: dict[tuple[str, str], int] = {}
    for index, ack in enumerate(model.acknowledgements):
        key = (ack.code, ack.revision)
        if key in seen:
            yield Problem(
                ("acknowledgements", index),
                f"{ack.code} on {ack.revision} is already acknowledged by acknowledgements[{seen[key]}]",
            )
        seen.setdefault(key, index)
        if len(ack.reason.strip()) < 10:
            yield Problem(
                ("acknowledgements", index, "reason"),
                f"{ack.reason!r} does not say why the finding is acceptable; write a sentence a reviewer can check",
            )
