"""Which PostgreSQL release the plan runs on, and the verdicts that change with it.

Several verdicts depend on the server: ADD COLUMN with a constant default only
writes the catalog since 11, SET NOT NULL trusts a validated CHECK since 12, a
foreign key on a partitioned table can be added NOT VALID only since 18. With a
database URL the release is the target's ``server_version_num``; without one
the linter assumes the oldest release the PostgreSQL community still supports,
and says so wherever a verdict depends on it.
"""

from __future__ import annotations

from dataclasses import dataclass

# PostgreSQL 14 is the oldest release still supported (until November 2026): assuming it keeps
# verdicts safe for any supported server without flagging what every supported release does well.
ASSUMED_SERVER_VERSION_NUM = 140000


@dataclass(frozen=True)
class Feature:
    """A behaviour that appeared in one release: ``since`` is its server_version_num."""

    since: int
    what: str

    @property
    def release(self) -> str:
        return major_text(self.since)


CONSTANT_DEFAULT = Feature(110000, "ADD COLUMN with a constant default only writes the catalog")
NOT_NULL_FROM_CHECK = Feature(
    120000, "SET NOT NULL uses a validated CHECK (col IS NOT NULL) instead of scanning"
)
REINDEX_CONCURRENTLY = Feature(120000, "REINDEX CONCURRENTLY")
ENUM_VALUE_IN_TRANSACTION = Feature(120000, "ALTER TYPE ... ADD VALUE inside a transaction block")
ATTACH_SHARE_UPDATE_EXCLUSIVE = Feature(
    120000, "ATTACH PARTITION takes only SHARE UPDATE EXCLUSIVE on the partitioned table"
)
DETACH_CONCURRENTLY = Feature(140000, "DETACH PARTITION ... CONCURRENTLY")
PARTITIONED_FK_NOT_VALID = Feature(180000, "a NOT VALID foreign key on a partitioned table")


def major_text(num: int) -> str:
    """150020 -> 'PostgreSQL 15'; 90624 -> 'PostgreSQL 9.6'."""
    if num >= 100000:
        return f"PostgreSQL {num // 10000}"
    return f"PostgreSQL {num // 10000}.{num // 100 % 100}"


@dataclass(frozen=True)
class ServerVersion:
    """The target's release, or the one assumed without a database."""

    num: int = ASSUMED_SERVER_VERSION_NUM
    assumed: bool = True

    @classmethod
    def of(cls, num: int | None) -> ServerVersion:
        return cls() if num is None else cls(int(num), assumed=False)

    def has(self, feature: Feature) -> bool:
        return self.num >= feature.since

    @property
    def major(self) -> str:
        return major_text(self.num)

    def text(self) -> str:
        """For a report header: 'PostgreSQL 15', or 'PostgreSQL 14 (assumed: no database to ask)'."""
        return f"{self.major} (assumed: no database to ask)" if self.assumed else self.major

    def here(self) -> str:
        """For the middle of a sentence: 'on PostgreSQL 15 here', 'on PostgreSQL 14, assumed without a database'."""
        return f"on {self.major}, assumed without a database URL" if self.assumed else f"on {self.major} here"

    def as_json(self) -> dict[str, object]:
        return {"server_version_num": self.num, "server_version_assumed": self.assumed}
