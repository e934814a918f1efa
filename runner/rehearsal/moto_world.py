"""AWS for a rehearsal: an in-process moto server holding the playbook's RDS instance or Aurora cluster.

The rehearsal's snapshot, its wait, tags and record, and the restore runbook
then run the very code a production run does, over real HTTP, against a stand-in
that answers like RDS. Its credentials are dummies made here: whatever AWS
credentials the operator has are never used, and nothing leaves this machine.
moto is the ``rehearse`` extra; without it the rehearsal goes on without the
AWS paths, and says so.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from runner.aws.clients import AwsSettings, BotoClients
from runner.aws.specs import SnapshotSpec

DEFAULT_REGION = "us-east-1"
NOT_INSTALLED = (
    "moto is not installed, so the snapshot and restore paths are not rehearsed "
    "(pip install 'migration-runner[rehearse]')"
)


def moto_missing() -> str | None:
    """Why AWS can't be stood in for here; None when it can."""
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
        return NOT_INSTALLED
    return None


@contextmanager
def moto_aws(spec: SnapshotSpec) -> Iterator[BotoClients]:
    """A moto server with ``spec``'s source in it, and clients for it; stopped when the block ends."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        settings = AwsSettings(region=spec.region or DEFAULT_REGION, endpoint_url=f"http://{host}:{port}")
        clients = BotoClients(settings, session_factory=_dummy_session)
        _make_source(clients("rds"), spec)
        yield clients
    finally:
        server.stop()


def _dummy_session(**kwargs: Any) -> Any:
    import boto3

    kwargs.pop("profile_name", None)  # the operator's profile is never read in a rehearsal
    return boto3.session.Session(
        aws_access_key_id="rehearsal", aws_secret_access_key="rehearsal-not-a-secret", **kwargs
    )


def _make_source(rds: Any, spec: SnapshotSpec) -> None:
    common = {"MasterUsername": "rehearsal", "MasterUserPassword": "rehearsal-not-a-secret"}
    if spec.aurora_cluster:
        rds.create_db_cluster(DBClusterIdentifier=spec.aurora_cluster, Engine="aurora-postgresql", **common)
        rds.create_db_instance(
            DBInstanceIdentifier=f"{spec.aurora_cluster}-1",
            DBClusterIdentifier=spec.aurora_cluster,
            Engine="aurora-postgresql",
            DBInstanceClass="db.r6g.large",
        )
    elif spec.rds_instance:
        rds.create_db_instance(
            DBInstanceIdentifier=spec.rds_instance,
            Engine="postgres",
            DBInstanceClass="db.t3.medium",
            AllocatedStorage=20,
            **common,
        )
