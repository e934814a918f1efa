"""What ``runner drift`` and the environments status print: plain lines, grouped, for people.

Tools read ``as_json()`` of the results instead. Names and values are printed as
they are; the CLI masks secrets on the way out, as for every command.
"""

from __future__ import annotations

from runner.drift.command import DriftResult
from runner.drift.differences import ONLY_IN_SOURCE, ONLY_IN_TARGET, RENAMED, Difference, plural
from runner.drift.environments import EnvironmentsStatus

NAME_WIDTH = 48


def drift_text(result: DriftResult) -> list[str]:
    differences = result.comparison.differences
    lines = [f"Source  {result.source}", f"Target  {result.target}"]
    if result.pending:
        lines.append(f"Pending {len(result.pending)} revision(s) on the source: {', '.join(result.pending)}")
    if not differences:
        lines.append("No differences: the schemas are the same.")
    else:
        explained = sum(1 for d in differences if d.explained_by)
        made = (
            f"; {explained} made by the source's pending revisions (runner apply brings them)"
            if explained
            else ""
        )
        lines.append(f"{len(differences)} difference(s){made}.")
        lines.extend(_grouped(differences))
    if result.conflicts:
        lines += [
            "",
            f"Pending steps that the source's schema makes fail or act differently ({len(result.conflicts)}):",
        ]
        lines += [f"  {c.describe()}{'' if c.blocks else ' (harmless)'}" for c in result.conflicts]
    suggested = [d for d in differences if d.sql and not d.explained_by]
    if suggested:
        lines += [
            "",
            "Suggested SQL to make the source match the target (for review: the runner never runs it):",
        ]
        for difference in suggested:
            lines.append(f"  -- {difference.kind} {difference.name}")
            lines.extend(f"  {line}" for line in str(difference.sql).splitlines())
    skipped = [("source", s) for s in result.comparison.skipped_source]
    skipped += [("target", s) for s in result.comparison.skipped_target]
    if skipped:
        lines += ["", "Not compared (could not be read):"]
        lines += [f"  {side} {s.what}: {s.reason}" for side, s in skipped]
    if result.notes:
        lines += ["", *result.notes]
    return lines


def _grouped(differences: tuple[Difference, ...]) -> list[str]:
    lines: list[str] = []
    width = min(NAME_WIDTH, max(len(d.name) for d in differences))
    kind = None
    for difference in differences:
        if difference.kind != kind:
            kind = difference.kind
            lines += ["", plural(kind)]
        pending = f"  [pending {difference.explained_by}]" if difference.explained_by else ""
        lines.append(f"  {difference.name.ljust(width)}  {_what(difference)}{pending}")
    return lines


def _what(difference: Difference) -> str:
    if difference.status in (ONLY_IN_SOURCE, ONLY_IN_TARGET):
        side = "source" if difference.status == ONLY_IN_SOURCE else "target"
        contents = f" (with {difference.describe_contents()})" if difference.contains else ""
        return f"only in the {side}{contents}"
    changes = [c for c in difference.changes if c.attribute != "name"]
    described = "; ".join(
        f"{c.attribute} {c.source!r} in the source, {c.target!r} in the target" for c in changes
    )
    if difference.status == RENAMED:
        return f"is {difference.new_name} in the target (same definition)" + (
            f"; {described}" if described else ""
        )
    return described


def environments_text(status: EnvironmentsStatus) -> list[str]:
    created = f" (created {status.head_created:%Y-%m-%d})" if status.head_created else ""
    lines = [f"Code head  {', '.join(status.heads)}{created}"]
    rows = [("environment", "revision", "behind", "gap", "pending")]
    for env in status.environments:
        if not env.reachable:
            rows.append((env.name, f"{env.problem}: {env.error}", "", "", ""))
            continue
        gap = status.gap_days(env)
        rows.append(
            (
                env.name,
                ", ".join(env.current) or "<base>",
                str(env.behind),
                "" if gap is None else f"{gap:g} days",
                ", ".join(p.revision for p in env.pending) or "up to date",
            )
        )
    widths = [max(len(row[i]) for row in rows if row[2] or i == 0) for i in range(4)]
    for row in rows:
        if not row[2] and row is not rows[0]:
            lines.append(f"{row[0].ljust(widths[0])}  {row[1]}")
        else:
            lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
    return [line.rstrip() for line in lines]
