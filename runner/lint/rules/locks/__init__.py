"""LK, lock hazards: statements that hold a lock ordinary traffic waits on."""

from runner.lint.rules.locks import constraints, held, indexes  # noqa: F401  (registration on import)
from runner.lint.rules.locks.indexes import create_index_code

__all__ = ["create_index_code"]
