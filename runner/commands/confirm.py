"""Whether the operator confirmed the target: one policy for every way a run is asked for.

The name to confirm is the playbook's ``target.name``, or the database's name
without a playbook. A name given in advance (``--confirm-target``) must match.
Without one: a playbook's rehearsal target needs nothing; ``--yes`` is enough
without a playbook (the runner can't tell production from staging there) but
never for a playbook's staging or production target; otherwise the operator
types the name at a prompt, and without a terminal the run is refused.
"""

from __future__ import annotations

from collections.abc import Callable

from runner.errors import Refused
from runner.request import RunRequest

Prompt = Callable[[str], str]


def confirm(request: RunRequest, steps: int, prompt: Prompt | None) -> str | None:
    """How the target was confirmed (for the audit log); None when no confirmation was needed."""
    name = request.target_name
    book = request.playbook
    given = request.confirmation.target_name
    if given is not None:
        if given.strip() != name:
            whose = "the playbook's target" if book is not None else "the target's name"
            raise Refused(
                f"--confirm-target {given.strip()!r} does not match {whose} {name!r}; nothing was changed."
            )
        return "--confirm-target"
    if steps == 0 or (book is not None and not book.target.needs_confirmation):
        return None
    if request.confirmation.yes:
        if book is None:
            return "--yes"
        raise Refused(
            f"--yes alone does not confirm a {book.target.environment} target; nothing was changed.",
            next_step=f"add --confirm-target {name} (the playbook's target.name) to run without a prompt.",
        )
    if prompt is None:
        if book is None:
            raise Refused(
                "apply needs confirmation and stdin is not a terminal; nothing was changed.",
                next_step="review runner plan, then run apply again with --yes.",
            )
        raise Refused(
            f"Applying to the {book.target.environment} target {name!r} needs the operator to type its name, and "
            "stdin is not a terminal; nothing was changed.",
            next_step=f"review the plan, then run the same command with --yes --confirm-target {name}.",
        )
    where = f"this {book.target.environment} database" if book is not None else "it"
    what = "the target's name" if book is not None else "the database name"
    answer = prompt(f"Type {what} ({name}) to apply {steps} step(s) to {where}")
    if answer.strip() != name:
        raise Refused(f"{answer.strip()!r} does not match the target's name {name!r}; nothing was changed.")
    return "typed at the prompt"
