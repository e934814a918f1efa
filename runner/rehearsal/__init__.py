"""Rehearsing a run away from production: the starting state, the rollback drill.

``starting`` brings a fresh throwaway database to the starting revision through
env.py and fills it with rows; ``clone`` copies a real database's schema (and its
``alembic_version``) instead; ``baselines`` records the schema before each step's
upgrade; ``drill`` walks the rollback path back down and up again. The throwaway
servers themselves are ``runner.throwaway``.
"""
