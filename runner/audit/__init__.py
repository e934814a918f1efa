"""The audit trail: an append-only, hash-chained JSON-lines log and its checks."""

from runner.audit.chain import GENESIS, chain_hash
from runner.audit.log import AuditLog, Event
from runner.audit.verify import VerifyResult, verify_file

__all__ = ["GENESIS", "AuditLog", "Event", "VerifyResult", "chain_hash", "verify_file"]
