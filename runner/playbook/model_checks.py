"""The shape of one check in a playbook: a mapping named by its kind key.

```yaml
- table: payment_methods                  # exists (exists: false for absent)
- column: providers.home_address          # type and nullability are optional
  type: varchar(200)
  nullable: true
- index: ix_payment_methods_provider_id
- constraint: uq_coordinator_notification_preferences_user
- enum: coordinator_action_type
  value: stage_changed
- sql: SELECT count(*) FROM providers WHERE home_state IS NOT NULL
  scalar: 0                               # or rows: N (the number of rows), with op: ==, !=, <, <=, >, >=
- rows_unchanged: providers               # the table's row count is the same after as before
- http: https://credmate.example.com/healthz
  status: 200                             # the default; contains: TEXT and timeout: 10s are optional
- metric: HTTPCode_Target_5XX_Count       # a CloudWatch metric, here divided by a second one: a rate
  namespace: AWS/ApplicationELB
  dimensions: {LoadBalancer: app/credmate/50dc6c495c0c9188}
  statistic: Sum
  per: RequestCount
  period: 1min
  window: 5min
  max: 0.01                               # and/or min:; missing: ok accepts a window without data
```
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, WithJsonSchema
from pydantic_core import PydanticCustomError

from runner.playbook.fields import _positive_duration
from runner.playbook.scalars import raw_text

# The key that names a check's kind, in the order they are listed to operators.
CHECK_KINDS = ("table", "column", "index", "constraint", "enum", "sql", "rows_unchanged", "http", "metric")
TAG_PREFIX = "check:"

Comparison = Literal["==", "!=", "<", "<=", ">", ">="]
ConstraintKind = Literal["primary_key", "foreign_key", "unique", "check", "exclusion"]
Statistic = Literal["Sum", "Average", "Maximum", "Minimum", "SampleCount"]


def _name(value: Any) -> Any:
    return raw_text(value)


Name = Annotated[str, BeforeValidator(_name), Field(min_length=1)]


def _duration(value: Any) -> int:

    return _positive_duration(value)


_DURATION_SCHEMA = {"type": "string", "pattern": r"^\d+(\.\d+)?(ms|s|min|h)$", "examples": ["10s", "5min"]}
Duration = Annotated[int, BeforeValidator(_duration), WithJsonSchema(_DURATION_SCHEMA)]


class _Check(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name | None = Field(None, description="A label for the check in the audit log and messages.")


class TableCheck(_Check):
    table: Name = Field(description="[SCHEMA.]TABLE")
    exists: bool = True


class ColumnCheck(_Check):
    column: Name = Field(description="[SCHEMA.]TABLE.COLUMN")
    exists: bool = True
    type: Name | None = Field(
        None, description="The column's type as PostgreSQL knows it, such as varchar(200)."
    )
    nullable: bool | None = None


class IndexCheck(_Check):
    index: Name = Field(description="[SCHEMA.]INDEX")
    table: Name | None = Field(None, description="The table the index must be on.")
    exists: bool = True
    unique: bool | None = None


class ConstraintCheck(_Check):
    constraint: Name
    table: Name | None = Field(None, description="The table the constraint must be on.")
    exists: bool = True
    kind: ConstraintKind | None = None


class EnumCheck(_Check):
    enum: Name = Field(description="[SCHEMA.]TYPE")
    value: Name | None = Field(
        None, description="A label that must exist (or, with exists: false, must not)."
    )
    values: list[Name] | None = Field(None, description="The exact labels, in order.")
    exists: bool = True


class SqlCheck(_Check):
    sql: Name = Field(
        description="One read-only query (a single SELECT, VALUES or TABLE; no INTO, FOR UPDATE/SHARE, "
        "data-modifying WITH, or function with side effects), run on its own connection in a READ ONLY "
        "transaction with the checks' timeout, as checks.role when set."
    )
    scalar: Any = Field(None, description="Compared with the first column of the first row.")
    rows: int | None = Field(None, ge=0, description="Compared with the number of rows.")
    op: Comparison = "=="


class RowsUnchangedCheck(_Check):
    rows_unchanged: Name = Field(description="[SCHEMA.]TABLE whose row count must not change.")


class HttpCheck(_Check):
    http: Name = Field(
        description="An http:// or https:// URL to GET; its credentials and query are never logged."
    )
    status: int = Field(200, ge=100, le=599, description="The HTTP status the answer must have.")
    contains: Name | None = Field(None, description="Text the answer's body must contain.")
    timeout: Duration = Field("10s", validate_default=True, description="How long to wait for the answer.")


class PerMetric(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: Name = Field(description="The divisor's metric name, such as RequestCount.")
    namespace: Name | None = Field(None, description="Default: the checked metric's namespace.")
    dimensions: dict[Name, Name] | None = Field(None, description="Default: the checked metric's dimensions.")
    statistic: Statistic | None = Field(None, description="Default: the checked metric's statistic.")


class MetricCheck(_Check):
    metric: Name = Field(description="A CloudWatch metric name, such as HTTPCode_Target_5XX_Count.")
    namespace: Name = Field(description="The metric's namespace, such as AWS/ApplicationELB.")
    dimensions: dict[Name, Name] = Field(default_factory=dict, description="The metric's dimensions.")
    statistic: Statistic = Field("Sum", description="Sum, Average, Maximum, Minimum or SampleCount.")
    per: Name | PerMetric | None = Field(
        None,
        description="Divide by this metric (a rate such as errors per request), computed by the runner: a "
        "metric name in the same namespace and dimensions, or a mapping with metric, namespace, dimensions, "
        "statistic.",
    )
    period: Duration = Field("1min", validate_default=True, description="CloudWatch's period per datapoint.")
    window: Duration = Field("5min", validate_default=True, description="How far back from now to look.")
    max: float | None = Field(None, description="The value (or rate) must be at most this.")
    min: float | None = Field(None, description="The value (or rate) must be at least this.")
    missing: Literal["fail", "ok"] = Field(
        "fail", description="A window without datapoints fails, unless this is ok."
    )


def _kinds_in(value: dict[str, Any]) -> list[str]:
    """The kind keys of a check; ``table`` also qualifies an index or a constraint, and then isn't one."""
    found = [kind for kind in CHECK_KINDS if kind in value]
    if "table" in found and ("index" in found or "constraint" in found):
        found.remove("table")
    return found


def _kind_of(value: Any) -> str | None:
    if isinstance(value, dict):
        found = _kinds_in(value)
        if found:
            return TAG_PREFIX + found[0]
    return None


def _one_kind(value: Any) -> Any:
    if isinstance(value, dict):
        found = _kinds_in(value)
        if len(found) > 1:
            raise PydanticCustomError(
                "check_kinds",
                "a check has exactly one kind key, found {found}; split it into one check per kind",
                {"found": " and ".join(found)},
            )
    return value


Check = Annotated[
    Annotated[TableCheck, Tag(TAG_PREFIX + "table")]
    | Annotated[ColumnCheck, Tag(TAG_PREFIX + "column")]
    | Annotated[IndexCheck, Tag(TAG_PREFIX + "index")]
    | Annotated[ConstraintCheck, Tag(TAG_PREFIX + "constraint")]
    | Annotated[EnumCheck, Tag(TAG_PREFIX + "enum")]
    | Annotated[SqlCheck, Tag(TAG_PREFIX + "sql")]
    | Annotated[RowsUnchangedCheck, Tag(TAG_PREFIX + "rows_unchanged")]
    | Annotated[HttpCheck, Tag(TAG_PREFIX + "http")]
    | Annotated[MetricCheck, Tag(TAG_PREFIX + "metric")],
    Discriminator(
        _kind_of,
        custom_error_type="check_kind",
        custom_error_message="a check is a mapping with one kind key",
    ),
    BeforeValidator(_one_kind),
]

CHECK_MODELS: dict[str, type[_Check]] = {
    "table": TableCheck,
    "column": ColumnCheck,
    "index": IndexCheck,
    "constraint": ConstraintCheck,
    "enum": EnumCheck,
    "sql": SqlCheck,
    "rows_unchanged": RowsUnchangedCheck,
    "http": HttpCheck,
    "metric": MetricCheck,
}
