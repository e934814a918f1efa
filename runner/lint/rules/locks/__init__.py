"""LK, lock hazards: statements that hold a lock ordinary traffic waits on."""

from runner.lint.rules.locks import (  # noqa: F401  (registration on import)
    attach,
    constraints,
    held,
    indexes,
    partitions,
)
from runner.lint.rules.locks.indexes import create_index_code

__all__ = ["create_index_code"]
