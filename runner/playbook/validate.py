"""What a playbook means against the Alembic project and the environment.

The shape is already right when this runs; here every revision the playbook
names must exist and sit on the chain it will apply, every rollback must reach
its target without passing through a step that can't be undone, and the
environment variable holding the database URL must be set. The same rules the
run uses decide what is one-way (``irreversible``), so validate and apply can't
disagree.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from runner.audit.timings import TimingsError, step_durations
from runner.errors import RunnerError
from runner.planning.project import AlembicProject
from runner.playbook.book import Playbook
from runner.playbook.chain import Chain, chain_of, exact, unknown
from runner.playbook.problems import InvalidPlaybook, Problem, Severity, render_all
from runner.playbook.rollbacks import rollback_problems
from runner.target import DatabaseTarget

_NON_TRANSACTIONAL = re.compile(r"autocommit_block|\bCONCURRENTLY\b|postgresql_concurrently\s*=\s*True", re.I)


def load_project(playbook: Playbook, *, database_url: str | None = None) -> AlembicProject:
    """The playbook's Alembic project; InvalidPlaybook (at project.alembic_config) when it can't be loaded."""
    config = playbook.project.alembic_config
    problem: Problem | None = None
    if not config.is_file():
        problem = Problem(
            ("project", "alembic_config"),
            f"{config} does not exist (alembic_config is read relative to the playbook's own directory)",
        )
    else:
        try:
            return AlembicProject.load(
                config, database_url=database_url, env_py_wrapper=playbook.project.env_py_wrapper
            )
        except RunnerError as exc:
            problem = Problem(
                ("project", "alembic_config"), f"the Alembic project can't be loaded: {exc.message}"
            )
    raise InvalidPlaybook(playbook.source, render_all([problem], playbook.source, playbook.locations))


def meaning(
    playbook: Playbook,
    project: AlembicProject,
    *,
    environ: Mapping[str, str] | None = None,
    check_env: bool = True,
) -> list[Problem]:
    """Every problem of meaning, errors and warnings, in no particular order."""
    found: list[Problem] = []
    chain = chain_of(playbook, project, found)
    if chain is not None:
        found.extend(_named_steps(playbook, project, chain))
        found.extend(rollback_problems(playbook, project, chain))
        found.extend(_acknowledged(playbook, chain))
        found.extend(_transactions(playbook, chain))
    found.extend(_timings(playbook, chain))
    if check_env:
        found.extend(_environment(playbook, os.environ if environ is None else environ))
    found.extend(_production(playbook))
    unique = {(p.path, p.message, p.severity): p for p in found}
    return list(unique.values())


def _named_steps(playbook: Playbook, project: AlembicProject, chain: Chain) -> Iterator[Problem]:
    ids = chain.ids()
    for rules in playbook.steps:
        revision = rules.revision
        if not project.is_known(revision):
            yield Problem(("steps", revision), unknown(project, revision, "a revision of the project"))
        elif exact(project, revision) is None:
            full = project.script.get_revision(revision).revision
            yield Problem(("steps", revision), f"write the full revision id {full}, not a prefix of it")
        elif revision not in ids:
            yield Problem(("steps", revision), f"{revision} is not one of {chain.describe()}")


def _acknowledged(playbook: Playbook, chain: Chain) -> Iterator[Problem]:
    for index, ack in enumerate(playbook.acknowledgements):
        if ack.revision not in chain.ids():
            yield Problem(
                ("acknowledgements", index, "revision"), f"{ack.revision} is not one of {chain.describe()}"
            )


def _transactions(playbook: Playbook, chain: Chain) -> Iterator[Problem]:
    for revision in chain.steps:
        rules = playbook.rules_for(revision.revision)
        if rules.non_transactional or not _looks_non_transactional(revision.path):
            continue
        yield Problem(
            ("steps", revision.revision) if rules.named else ("steps",),
            f"{revision.revision} runs work outside a transaction (autocommit_block or CONCURRENTLY) but has no "
            "profile with non_transactional: true, so it runs under the short default timeouts and a failure could "
            "be rolled back around partial work",
            Severity.WARNING,
        )


def _looks_non_transactional(path: str) -> bool:
    try:
        return bool(_NON_TRANSACTIONAL.search(Path(path).read_text(encoding="utf-8")))
    except OSError:
        return False


def _timings(playbook: Playbook, chain: Chain | None) -> Iterator[Problem]:
    log = playbook.timings.rehearsal_log
    if log is None:
        return
    if not log.exists():
        yield Problem(
            ("timings", "rehearsal_log"),
            f"the rehearsal log {log} does not exist yet, so every step uses its estimate; run the rehearsal first",
            Severity.WARNING,
        )
        return
    try:
        measured = step_durations(log)
    except TimingsError as exc:
        yield Problem(("timings", "rehearsal_log"), exc.message)
        return
    missing = [r for r in (chain.ids() if chain else []) if r not in measured]
    if missing:
        yield Problem(
            ("timings", "rehearsal_log"),
            f"the rehearsal log has no timing for {', '.join(missing)}; those steps use estimates",
            Severity.WARNING,
        )


def _environment(playbook: Playbook, environ: Mapping[str, str]) -> Iterator[Problem]:
    name = playbook.target.url_env
    raw = environ.get(name)
    if not raw:
        yield Problem(
            ("target", "url_env"),
            f"the environment variable {name} is not set; export the target's database URL in it (a playbook "
            "never holds the URL itself)",
        )
        return
    try:
        target = DatabaseTarget.parse(raw, source=f"${name}")
    except RunnerError as exc:
        yield Problem(("target", "url_env"), exc.message)
        return
    wanted = playbook.target.database
    if wanted is not None and target.database != wanted:
        yield Problem(
            ("target", "database"),
            f"${name} points at database {target.database!r} ({target.display}), not {wanted!r}",
        )


def _production(playbook: Playbook) -> Iterator[Problem]:
    if playbook.target.environment != "production":
        return
    if playbook.project.from_revision is None:
        yield Problem(
            ("project",),
            "a production playbook should say from_revision, the revision it was reviewed against; without it "
            "apply runs from wherever the database is",
            Severity.WARNING,
        )
    if playbook.window is None:
        yield Problem(
            ("target",), "a production playbook has no window, so apply runs at any hour", Severity.WARNING
        )
