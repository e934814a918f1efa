"""A throwaway PostgreSQL in a container (testcontainers), where a Docker engine answers.

The container's id goes into a marker as soon as it runs, so a run killed
before it could remove the container has it removed by the next run (as well
as by testcontainers' own reaper, where that runs).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from runner.errors import ConfigError
from runner.throwaway.markers import Marker, MarkerBook

IMAGE = "postgres:{major}-alpine"
DEFAULT_MAJOR = 16


def docker_unavailable_reason() -> str | None:
    """None when a Docker engine answers; otherwise why not (shown when tests skip)."""
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception as exc:  # DockerException, connection refused, no socket, no package
        return f"no Docker engine answers ({type(exc).__name__}: {str(exc)[:160]})"
    return None


@contextmanager
def container_postgres(markers: MarkerBook, major: int | None = None) -> Iterator[str]:
    """Yield the admin URL of a PostgreSQL container (image ``postgres:MAJOR-alpine``); removed afterwards."""
    reason = docker_unavailable_reason()
    if reason:
        raise ConfigError(f"A throwaway container was asked for, but {reason}.")
    from testcontainers.postgres import PostgresContainer

    path = markers.write(Marker.new("container"))
    try:
        with PostgresContainer(IMAGE.format(major=major or DEFAULT_MAJOR), driver=None) as container:
            wrapped = container.get_wrapped_container()
            markers.update(path, Marker.new("container", container_id=wrapped.id))
            yield container.get_connection_url()
    finally:
        markers.remove(path)


def remove_container(marker: Marker) -> str:
    """Remove an abandoned container by id; raises when no Docker engine answers (the marker is kept)."""
    if not marker.container_id:
        return "no container had started"
    import docker

    client = docker.from_env(timeout=10)
    try:
        client.containers.get(marker.container_id).remove(force=True)
    except docker.errors.NotFound:
        return "container already gone"
    return f"container {str(marker.container_id)[:12]} removed"
