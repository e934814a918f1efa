"""Where a rollback would go, and whether it can get there: one-way steps and rollback targets.

A rollback downgrades one step at a time; it must never pass through a step
that can't be undone (an enum value added, an empty downgrade, a step the
playbook marks irreversible), because that step's downgrade would report
success while leaving the schema changed. ``irreversible`` is the one rule
both validation and the run use, so ``runner playbook validate`` and
``runner apply`` can't disagree about it.
"""

from __future__ import annotations

from collections.abc import Iterator

from runner.planning.project import AlembicProject
from runner.planning.revisions import Downgrade, Revision
from runner.playbook.book import Playbook
from runner.playbook.chain import Chain, exact, unknown
from runner.playbook.policy import PolicyAction
from runner.playbook.problems import Path_, Problem, Severity


def irreversible(playbook: Playbook, revision: Revision) -> str | None:
    """Why ``revision`` can't be downgraded, by the playbook's marks or by its downgrade(); None if it can."""
    rules = playbook.rules_for(revision.revision)
    if rules.irreversible:
        return f"the playbook marks it irreversible: {rules.irreversible}"
    if rules.reversible_because:
        return None
    if revision.downgrade is Downgrade.EMPTY:
        return "its downgrade() does nothing"
    if revision.downgrade is Downgrade.MISSING:
        return "it has no downgrade()"
    return None


def rollback_problems(playbook: Playbook, project: AlembicProject, chain: Chain) -> Iterator[Problem]:
    ids = chain.ids()
    global_hits: list[str] = []
    unbounded = False
    global_why: tuple[Revision, str] | None = None
    for index, revision in enumerate(chain.steps):
        rules = playbook.rules_for(revision.revision)
        policy = rules.policy
        if policy.action is not PolicyAction.ROLLBACK:
            continue
        at = _policy_path(policy.source)
        if policy.rollback_to is not None:
            problem = _rollback_target(playbook, project, chain, revision, policy.rollback_to, at)
            if problem is not None:
                yield problem
                continue
            stop = ids.index(policy.rollback_to) + 1 if policy.rollback_to in ids else 0
        elif chain.start is None:
            stop = index  # without from_revision only the step itself is known to be on the path
            unbounded = True
        else:
            stop = 0
        path = list(reversed(chain.steps[stop : index + 1]))
        one_way = next(((r, why) for r in path if (why := irreversible(playbook, r))), None)
        if one_way is None:
            continue
        if at == ("on_failure",) or at == ("rollback_to",):
            global_hits.append(revision.revision)
            global_why = global_why or one_way
            continue
        yield Problem(at, _through(one_way, f"a failure at {revision.revision}"))
    after_all = False
    if playbook.policy.action is PolicyAction.ROLLBACK and chain.steps and chain.start is not None:
        start = ids.index(playbook.policy.rollback_to) + 1 if playbook.policy.rollback_to in ids else 0
        path = list(reversed(chain.steps[start:]))
        one_way = next(((r, why) for r in path if (why := irreversible(playbook, r))), None)
        if one_way is not None:
            after_all = True
            global_why = global_why or one_way
    if global_why is not None:
        revision, why = global_why
        parts = [f"a failure at {' or '.join(global_hits)}"] if global_hits else []
        parts += ["a failed check after the last step"] if after_all else []
        when = ", or after ".join(parts)
        yield Problem(
            ("rollback_to",) if playbook.policy.rollback_to else ("on_failure",),
            f"rolling back after {when} would downgrade through {revision.revision} ({revision.message}), which "
            f"can't be undone: {why}. Give the steps after it their own rollback_to: {revision.revision}, or make "
            "this policy halt or restore",
        )
    if unbounded or (playbook.policy.action is PolicyAction.ROLLBACK and chain.start is None):
        yield Problem(
            ("project",),
            "without from_revision the steps a rollback passes through are known only at run time (apply then "
            "refuses to downgrade through a one-way step); add from_revision to check them now",
            Severity.WARNING,
        )


def _policy_path(source: str) -> Path_:
    parts = source.split(".")
    return ("steps", parts[1], parts[2]) if parts[0] == "steps" else (parts[0],)


def _through(one_way: tuple[Revision, str], when: str) -> str:
    revision, why = one_way
    return (
        f"rolling back after {when} would downgrade through {revision.revision} ({revision.message}), which can't "
        f"be undone: {why}. Use rollback_to: {revision.revision} to stop above it, or halt or restore"
    )


def _rollback_target(
    playbook: Playbook, project: AlembicProject, chain: Chain, step: Revision, target: str, at: Path_
) -> Problem | None:
    at = (*at[:-1], "rollback_to") if at[-1] == "on_failure" else at
    if exact(project, target) is None:
        return Problem(at, unknown(project, target, "a revision of the project"))
    ids = chain.ids()
    allowed = ([chain.start] if chain.start else []) + ids[: ids.index(step.revision)]
    if target in allowed:
        return None
    if at[0] == "rollback_to" and target in ids:
        return None  # the global target: steps at or before it halt instead (see policy.decide)
    if chain.start is not None and target not in ids:
        return Problem(
            at,
            f"{target} is not {chain.start} or a step of this run before {step.revision}; a rollback stops at a "
            "revision this run passed through",
        )
    return Problem(
        at, f"{target} is not below {step.revision}, so a rollback from {step.revision} can't reach it"
    )
