"""Proof that the database URL reaches the instance (or cluster) the playbook snapshots.

A playbook must not snapshot one instance and migrate another. Before any
snapshot the source must be ``available``, run PostgreSQL, have no pending
modifications a reboot would apply, and the URL's host must be one of its
endpoints: the same name, or a name resolving to one of the endpoint's
addresses, or a connection whose ``inet_server_addr()`` is one of them. A
proxy, tunnel or CNAME that none of this can prove is accepted only when the
playbook names it in ``snapshot.endpoint_aliases``, and then it is reported as
accepted because the playbook names it, never as proven.

Name resolution is a seam: moto's endpoints don't resolve, and a test (or a
rehearsal) maps them to the address of the PostgreSQL it really reaches.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from runner.aws.source import POSTGRES_ENGINES, Endpoint, Source, read_source
from runner.errors import Refused

Resolver = Callable[[str], frozenset[str]]

EQUAL = "equal"
RESOLVES = "resolves"
SERVER_ADDRESS = "server_address"
ALIAS = "alias"
STAND_IN = "stand_in"  # a rehearsal: its throwaway database stands in for the source moto plays


def system_resolver(host: str) -> frozenset[str]:
    """Every address ``host`` resolves to here; none when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return frozenset()
    return frozenset(_normal(str(info[4][0])) for info in infos)


def _normal(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address.split("%")[0]))
    except ValueError:
        return address


def _host(name: str) -> str:
    return name.strip().rstrip(".").lower()


@dataclass(frozen=True)
class EndpointProof:
    """How the URL's host was tied to the source: shown at confirmation and written to the audit log."""

    source: str  # "RDS instance credmate-prod"
    host: str
    method: str  # EQUAL, RESOLVES, SERVER_ADDRESS or ALIAS
    endpoint: Endpoint | None
    addresses: tuple[str, ...] = ()  # the addresses the proof rests on

    @property
    def proven(self) -> bool:
        return self.method not in (ALIAS, STAND_IN)

    def describe(self) -> str:
        if self.method == STAND_IN:
            return f"{self.host} stands in for {self.source} in this rehearsal (not proven: AWS is moto here)"
        if self.method == ALIAS:
            return (
                f"{self.host} is accepted as {self.source} because the playbook names it in "
                "snapshot.endpoint_aliases (not proven)"
            )
        assert self.endpoint is not None
        where = f"the {self.endpoint.role} of {self.source} ({self.endpoint.address})"
        if self.method == EQUAL:
            return f"{self.host} is {where}"
        shown = ", ".join(self.addresses)
        if self.method == RESOLVES:
            return f"{self.host} resolves to {shown}, as does {where}"
        return f"the connection to {self.host} reached {shown}, an address of {where}"

    def as_event(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "host": self.host,
            "method": self.method,
            "endpoint": self.endpoint.address if self.endpoint else None,
            "endpoint_role": self.endpoint.role if self.endpoint else None,
            "addresses": list(self.addresses),
            "proven": self.proven,
        }


def prove_endpoint(
    rds: Any,
    kind: str,
    identifier: str,
    host: str,
    *,
    aliases: Iterable[str] = (),
    server_addr: str | None = None,
    resolver: Resolver = system_resolver,
) -> EndpointProof:
    """The proof that ``host`` reaches the source; Refused (nothing snapshotted) when there is none."""
    source = read_source(rds, kind, identifier)
    usable(source)
    return match_endpoint(source, host, aliases=aliases, server_addr=server_addr, resolver=resolver)


def stand_in(rds: Any, kind: str, identifier: str, host: str) -> EndpointProof:
    """A rehearsal's proof: the source exists and is usable; the throwaway database plays its part."""
    source = read_source(rds, kind, identifier)
    usable(source)
    return EndpointProof(source.label(), host or "the throwaway database", STAND_IN, None)


def usable(source: Source) -> None:
    """Refused unless the source is available, PostgreSQL, and has nothing pending."""
    no_snapshot = "no snapshot was taken and nothing was changed"
    if source.kind == "instance" and source.cluster:
        raise Refused(
            f"{source.label()} is a member of Aurora cluster {source.cluster}, whose snapshots are cluster "
            f"snapshots; {no_snapshot}.",
            next_step=f"name the cluster in the playbook (snapshot.aurora_cluster: {source.cluster}) instead of "
            "snapshot.rds_instance.",
        )
    if source.status != "available":
        raise Refused(
            f"{source.label()} is {source.status}, not available, so it can't be snapshotted before the "
            f"migration; {no_snapshot}.",
            next_step="wait until it is available (aws rds describe-db-instances or describe-db-clusters) and "
            "run the same command again.",
        )
    if source.engine not in POSTGRES_ENGINES[source.kind]:
        raise Refused(
            f"{source.label()} runs {source.engine}, not {' or '.join(POSTGRES_ENGINES[source.kind])}; "
            f"{no_snapshot}.",
            next_step="check that the playbook names the database this migration is for.",
        )
    if source.pending:
        raise Refused(
            f"{source.label()} has pending modifications ({', '.join(source.pending)}) that a reboot or the "
            f"maintenance window would apply in the middle of the run; {no_snapshot}.",
            next_step="apply them first (or cancel them), then run the same command again.",
        )


def match_endpoint(
    source: Source,
    host: str,
    *,
    aliases: Iterable[str] = (),
    server_addr: str | None = None,
    resolver: Resolver = system_resolver,
) -> EndpointProof:
    """Equal name, then shared address, then the server's own address, then a named alias."""
    wanted = _host(host)
    label = source.label()
    for endpoint in source.endpoints:
        if _host(endpoint.address) == wanted:
            return EndpointProof(label, host, EQUAL, endpoint)
    host_addresses = resolver(wanted) if wanted and not wanted.startswith("/") else frozenset()
    endpoint_addresses = {endpoint: resolver(_host(endpoint.address)) for endpoint in source.endpoints}
    for endpoint, addresses in endpoint_addresses.items():
        shared = host_addresses & addresses
        if shared:
            return EndpointProof(label, host, RESOLVES, endpoint, tuple(sorted(shared)))
    if server_addr:
        server = _normal(server_addr)
        for endpoint, addresses in endpoint_addresses.items():
            if server in addresses:
                return EndpointProof(label, host, SERVER_ADDRESS, endpoint, (server,))
    if wanted in {_host(alias) for alias in aliases}:
        return EndpointProof(label, host, ALIAS, None)
    raise Refused(_unproven(source, host, host_addresses, endpoint_addresses, server_addr), next_step=_NEXT)


_NEXT = (
    "point the URL at the endpoint, or, if the host is a proxy or tunnel you trust to reach it, add it to "
    "snapshot.endpoint_aliases in the playbook."
)


def _unproven(
    source: Source,
    host: str,
    host_addresses: frozenset[str],
    endpoint_addresses: dict[Endpoint, frozenset[str]],
    server_addr: str | None,
) -> str:
    def shown(addresses: frozenset[str]) -> str:
        return ", ".join(sorted(addresses)) or "does not resolve here"

    endpoints = (
        "; ".join(
            f"{endpoint.role} {endpoint.address} ({shown(addresses)})"
            for endpoint, addresses in endpoint_addresses.items()
        )
        or "none reported"
    )
    server = f"; the connection reached server address {server_addr}" if server_addr else ""
    if not host or host.startswith("/"):
        found = f"it connects over a unix socket, which no RDS endpoint is (endpoints: {endpoints})"
    else:
        one = "its endpoint" if len(endpoint_addresses) == 1 else "one of its endpoints"
        found = f"its host {host} ({shown(host_addresses)}) is not {one} ({endpoints}){server}"
    return (
        f"The database URL can't be shown to reach {source.label()}: {found}. A playbook must not snapshot "
        "one database and migrate another, so no snapshot was taken and nothing was changed."
    )
