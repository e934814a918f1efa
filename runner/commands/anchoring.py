"""The snapshot a production run is anchored on: proven, taken (or reused), recorded before the first step.

Under the run lock, after the plan was assessed and the preflight checks
passed: the database URL must be shown to reach the RDS instance or Aurora
cluster the playbook names (``endpoint_proven``), then the snapshot is taken and
waited on, or an existing one reused (``snapshot_available``, with its
identifier and ARN, before any ``step_started``). Anything that goes wrong is a
RunnerError: the run is refused and no DDL runs. A non-production playbook may
waive the snapshot with a reason (``snapshot_waived``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from runner.database.history import SnapshotRef
from runner.request import RunRequest
from runner.run.hooks import Anchoring, RunView

if TYPE_CHECKING:
    from runner.aws.clients import ClientFactory
    from runner.aws.identity import Resolver
    from runner.aws.waiting import Progress


def anchoring(
    request: RunRequest,
    clients: ClientFactory,
    *,
    progress: Callable[[Progress], None] | None = None,
    resolver: Resolver | None = None,
    stand_in: bool = False,
) -> Anchoring | None:
    """What the run calls before its first step; None when the playbook asks for no snapshot."""
    book = request.playbook
    spec = book.snapshot if book is not None else None
    if spec is None:
        return None
    if not spec.required:

        def waived(view: RunView) -> SnapshotRef | None:
            view.audit.emit("snapshot_waived", reason=spec.reason, source=spec.describe())
            return None

        return waived

    def anchor(view: RunView) -> SnapshotRef | None:
        from runner.aws.anchor import anchor_run
        from runner.aws.identity import system_resolver
        from runner.aws.snapshot import RunFacts

        target = request.target
        assert target is not None
        facts = RunFacts(
            run_id=view.run_id,
            target_name=request.target_name,
            prior=",".join(view.prior_heads) or None,
            target=",".join(r.revision for r in view.plan[-1:]) or None,
            operator=request.operator,
        )
        view.audit.emit(
            "snapshot_requested", source=spec.describe(), reuse=request.snapshot_id or spec.reuse_snapshot_id
        )
        anchored = anchor_run(
            clients("rds"),
            spec,
            facts,
            target.url.host or "",
            snapshot_id=request.snapshot_id,
            server_addr=_server_address(view),
            resolver=resolver or system_resolver,
            on_proof=lambda proof: view.audit.emit("endpoint_proven", **proof.as_event()),
            on_progress=progress,
            stand_in=stand_in,
        )
        view.audit.emit("snapshot_available", **anchored.snapshot.as_event())
        return SnapshotRef(anchored.snapshot.identifier, anchored.snapshot.arn)

    return anchor


def _server_address(view: RunView) -> str | None:
    """The address the server accepted the runner's connection on (NULL over a unix socket)."""
    row = view.conn.execute("SELECT host(inet_server_addr())").fetchone()
    return str(row[0]) if row and row[0] else None
