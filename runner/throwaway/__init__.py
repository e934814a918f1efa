"""Throwaway PostgreSQL for rehearsals, the drift head and tests: made on demand, always cleaned up.

``targets.throwaway_target`` is the one interface (a local cluster, a container or
temporary databases on a server); ``cluster``, ``container`` and ``server`` make
each kind; ``markers`` and ``reaper`` clean up after a run that was killed.
"""
