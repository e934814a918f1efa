"""The run's anchor in one call: prove the URL reaches the source, then take (or reuse) its snapshot.

This is the order the run must keep, so it is written once: nothing is
snapshotted before the endpoint is proven (or named as an alias), and nothing
is applied before the snapshot is available. The run records both values
(``snapshot_available`` with the proof) before its first ``step_started``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from runner.aws import identity
from runner.aws.identity import EndpointProof, Resolver, prove_endpoint, system_resolver
from runner.aws.snapshot import RunFacts, SnapshotRecord, reuse_snapshot, take_snapshot, utc_now
from runner.aws.snapshot_kinds import kind_for
from runner.aws.waiting import ProgressCallback

if TYPE_CHECKING:
    from runner.aws.specs import SnapshotSpec


@dataclass(frozen=True)
class Anchor:
    proof: EndpointProof
    snapshot: SnapshotRecord

    def as_event(self) -> dict[str, Any]:
        return {**self.snapshot.as_event(), "endpoint_proof": self.proof.as_event()}


def anchor_run(
    rds: Any,
    spec: SnapshotSpec,
    facts: RunFacts,
    host: str,
    *,
    snapshot_id: str | None = None,
    server_addr: str | None = None,
    resolver: Resolver = system_resolver,
    on_proof: Callable[[EndpointProof], object] | None = None,
    on_progress: ProgressCallback | None = None,
    now: Callable[[], datetime] = utc_now,
    delay_s: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    stand_in: bool = False,
) -> Anchor:
    """Prove, then snapshot: ``snapshot_id`` (or the playbook's reuse.snapshot_id) reuses instead of taking one."""
    kind = kind_for(spec)
    source = spec.rds_instance or spec.aurora_cluster or ""
    if stand_in:  # a rehearsal: the throwaway database plays the source
        proof = identity.stand_in(rds, kind.source_kind, source, host)
    else:
        proof = prove_endpoint(
            rds,
            kind.source_kind,
            source,
            host,
            aliases=spec.endpoint_aliases,
            server_addr=server_addr,
            resolver=resolver,
        )
    if on_proof is not None:
        on_proof(proof)
    reuse = snapshot_id or spec.reuse_snapshot_id
    if reuse:
        return Anchor(proof, reuse_snapshot(rds, reuse, spec, now=now))
    record = take_snapshot(rds, spec, facts, now=now, on_progress=on_progress, delay_s=delay_s, sleep=sleep)
    return Anchor(proof, record)
