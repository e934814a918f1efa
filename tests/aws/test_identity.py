"""The URL must reach the instance (or cluster) being snapshotted, proven before any snapshot is taken."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import psycopg
import pytest

from runner.aws.anchor import anchor_run
from runner.aws.identity import ALIAS, EQUAL, RESOLVES, SERVER_ADDRESS, prove_endpoint
from runner.aws.snapshot import RunFacts
from runner.errors import ExitCode, Refused
from tests import pg
from tests.aws.conftest import cluster_spec, instance_spec, make_cluster, make_instance

ENDPOINT = "credmate-prod.aaaaaaaaaa.us-east-1.rds.amazonaws.com"
FACTS = RunFacts("01JRUN", "credmate-prod", "20260115_0200", "20260131_0000", "alice")
NOW = datetime(2026, 2, 10, 7, 5, tzinfo=UTC)


def resolver(table: Mapping[str, set[str]]):
    """A name service of the test's own: moto's endpoints don't resolve."""
    return lambda host: frozenset(table.get(host, set()))


def _manual(snapshots: list[dict]) -> list[str]:
    """Snapshots anyone took by hand (moto also keeps an automated one per instance)."""
    return [
        s.get("DBSnapshotIdentifier") or s["DBClusterSnapshotIdentifier"]
        for s in snapshots
        if s["SnapshotType"] == "manual"
    ]


def test_the_endpoint_itself_is_proven(rds, network):
    """The URL's host is the instance endpoint (any case, trailing dot): proven as equal."""
    make_instance(rds, network)
    proof = prove_endpoint(rds, "instance", "credmate-prod", ENDPOINT.upper() + ".")
    assert proof.method == EQUAL and proof.proven
    assert proof.describe() == (
        f"{ENDPOINT.upper()}. is the instance endpoint of RDS instance credmate-prod ({ENDPOINT})"
    )


def test_a_name_resolving_to_the_endpoints_address_is_proven(rds, network):
    """A private DNS name resolving to the endpoint's address: proven, with the address shown."""
    make_instance(rds, network)
    names = resolver({ENDPOINT: {"10.0.1.17"}, "db.credmate.internal": {"10.0.1.17"}})
    proof = prove_endpoint(rds, "instance", "credmate-prod", "db.credmate.internal", resolver=names)
    assert (proof.method, proof.addresses) == (RESOLVES, ("10.0.1.17",))
    assert proof.describe() == (
        "db.credmate.internal resolves to 10.0.1.17, as does the instance endpoint of RDS instance credmate-prod "
        f"({ENDPOINT})"
    )


def test_the_connections_server_address_is_proven(rds, network):
    """inet_server_addr() from a real PostgreSQL connection over TCP, among the endpoint's addresses: proven."""
    make_instance(rds, network)
    with psycopg.connect(pg.url_for("postgres"), autocommit=True) as conn:
        row = conn.execute("SELECT host(inet_server_addr())").fetchone()
    assert row is not None and row[0] == "127.0.0.1"
    names = resolver({ENDPOINT: {"127.0.0.1"}})  # the host in the URL (a tunnel's name) resolves nowhere here

    proof = prove_endpoint(
        rds, "instance", "credmate-prod", "tunnel.local", server_addr=row[0], resolver=names
    )

    assert (proof.method, proof.addresses) == (SERVER_ADDRESS, ("127.0.0.1",))
    assert "reached 127.0.0.1, an address of the instance endpoint" in proof.describe()


def test_an_alias_named_in_the_playbook_is_accepted_but_not_proven(rds, network):
    """A pgbouncer host that can't be proven passes only because snapshot.endpoint_aliases names it, and says so."""
    make_instance(rds, network)
    proof = prove_endpoint(
        rds, "instance", "credmate-prod", "pgbouncer.internal", aliases=["PGBouncer.internal"]
    )
    assert proof.method == ALIAS and not proof.proven
    assert proof.describe() == (
        "pgbouncer.internal is accepted as RDS instance credmate-prod because the playbook names it in "
        "snapshot.endpoint_aliases (not proven)"
    )
    assert proof.as_event()["proven"] is False


def test_another_instances_endpoint_is_refused_and_nothing_is_snapshotted(rds, network):
    """The URL reaches credmate-staging while the playbook snapshots credmate-prod: exit 4, and no snapshot exists."""
    make_instance(rds, network)
    make_instance(rds, network, "credmate-staging")
    staging = "credmate-staging.aaaaaaaaaa.us-east-1.rds.amazonaws.com"
    names = resolver({ENDPOINT: {"10.0.1.17"}, staging: {"10.0.2.30"}})

    with pytest.raises(Refused) as caught:
        anchor_run(
            rds, instance_spec(), FACTS, staging, server_addr="10.0.2.30", resolver=names, now=lambda: NOW
        )

    assert caught.value.exit_code == ExitCode.REFUSED
    assert str(caught.value) == (
        f"The database URL can't be shown to reach RDS instance credmate-prod: its host {staging} (10.0.2.30) is not "
        f"its endpoint (instance endpoint {ENDPOINT} (10.0.1.17)); the connection reached server address "
        "10.0.2.30. A playbook must not snapshot one database and migrate another, so no snapshot was taken and "
        "nothing was changed. Next: point the URL at the endpoint, or, if the host is a proxy or tunnel you trust "
        "to reach it, add it to snapshot.endpoint_aliases in the playbook."
    )
    assert _manual(rds.describe_db_snapshots()["DBSnapshots"]) == []


def test_a_unix_socket_is_refused(rds, network):
    """A URL over a unix socket can't be an RDS endpoint."""
    make_instance(rds, network)
    with pytest.raises(Refused) as caught:
        prove_endpoint(rds, "instance", "credmate-prod", "/var/run/postgresql", resolver=resolver({}))
    assert "it connects over a unix socket, which no RDS endpoint is" in caught.value.message


def test_a_stopped_instance_is_refused(rds, network):
    """Not available (stopped): exit 4 before any snapshot."""
    make_instance(rds, network)
    rds.stop_db_instance(DBInstanceIdentifier="credmate-prod")
    with pytest.raises(Refused) as caught:
        anchor_run(rds, instance_spec(), FACTS, ENDPOINT, now=lambda: NOW)
    assert caught.value.message == (
        "RDS instance credmate-prod is stopped, not available, so it can't be snapshotted before the migration; no "
        "snapshot was taken and nothing was changed."
    )
    assert _manual(rds.describe_db_snapshots()["DBSnapshots"]) == []


def test_an_instance_that_is_not_postgresql_is_refused(rds, network):
    """A MySQL instance under the playbook's name: refused."""
    rds.create_db_instance(
        DBInstanceIdentifier="credmate-prod",
        Engine="mysql",
        DBInstanceClass="db.t3.micro",
        MasterUsername="admin",
        MasterUserPassword="not-a-real-password-1",
        AllocatedStorage=20,
    )
    with pytest.raises(Refused) as caught:
        prove_endpoint(rds, "instance", "credmate-prod", ENDPOINT)
    assert caught.value.message.startswith("RDS instance credmate-prod runs mysql, not postgres;")


def test_pending_modifications_are_refused(stub_rds):
    """A class change waiting for the maintenance window would reboot mid-run: refused, naming what is pending."""
    client, stubber = stub_rds
    stubber.add_response(
        "describe_db_instances",
        {
            "DBInstances": [
                {
                    "DBInstanceIdentifier": "credmate-prod",
                    "DBInstanceStatus": "available",
                    "Engine": "postgres",
                    "Endpoint": {"Address": ENDPOINT, "Port": 5432},
                    "PendingModifiedValues": {"DBInstanceClass": "db.r6g.2xlarge", "EngineVersion": "16.2"},
                }
            ]
        },
        {"DBInstanceIdentifier": "credmate-prod"},
    )
    with pytest.raises(Refused) as caught:
        prove_endpoint(client, "instance", "credmate-prod", ENDPOINT)
    assert caught.value.message == (
        "RDS instance credmate-prod has pending modifications (DBInstanceClass, EngineVersion) that a reboot or the "
        "maintenance window would apply in the middle of the run; no snapshot was taken and nothing was changed."
    )


def test_an_aurora_member_named_as_an_instance_is_refused(rds, network):
    """An Aurora writer named as rds_instance: its snapshots are cluster snapshots, so the cluster must be named."""
    make_cluster(rds, network)
    with pytest.raises(Refused) as caught:
        prove_endpoint(
            rds, "instance", "credmate-aurora-1", "credmate-aurora-1.aaaaaaaaaa.us-east-1.rds.amazonaws.com"
        )
    assert caught.value.next_step == (
        "name the cluster in the playbook (snapshot.aurora_cluster: credmate-aurora) instead of snapshot.rds_instance."
    )


def test_an_aurora_clusters_three_endpoints_are_each_proven(rds, network):
    """Cluster endpoint, reader endpoint and the writer instance's endpoint all reach the cluster."""
    cluster = make_cluster(rds, network)
    writer = "credmate-aurora-1.aaaaaaaaaa.us-east-1.rds.amazonaws.com"
    roles = {
        host: prove_endpoint(rds, "cluster", "credmate-aurora", host).endpoint.role  # type: ignore[union-attr]
        for host in (cluster["Endpoint"], cluster["ReaderEndpoint"], writer)
    }
    assert list(roles.values()) == ["cluster endpoint", "reader endpoint", "writer instance endpoint"]

    with pytest.raises(Refused) as caught:
        anchor_run(
            rds, cluster_spec(), FACTS, "elsewhere.example.com", resolver=resolver({}), now=lambda: NOW
        )
    assert f"cluster endpoint {cluster['Endpoint']}" in caught.value.message
    assert f"writer instance endpoint {writer}" in caught.value.message
    assert _manual(rds.describe_db_cluster_snapshots()["DBClusterSnapshots"]) == []


def test_anchor_proves_then_snapshots(rds, network):
    """The proof comes first (reported to on_proof), then the snapshot; both go into the audit event."""
    make_instance(rds, network)
    order: list[str] = []

    anchor = anchor_run(
        rds,
        instance_spec(),
        FACTS,
        ENDPOINT,
        on_proof=lambda proof: order.append(f"proof {proof.method}"),
        on_progress=lambda progress: order.append(f"poll {progress.status}"),
        now=lambda: NOW,
    )

    assert order == ["proof equal", "poll available"]
    event = anchor.as_event()
    assert event["snapshot_id"] == anchor.snapshot.identifier
    assert event["endpoint_proof"]["method"] == "equal"
