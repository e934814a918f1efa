"""A hypothesis strategy that builds documents from a JSON Schema, as ``runner playbook schema`` prints it.

It understands what pydantic writes for the playbook's models: ``$ref`` into
``$defs``, ``anyOf``/``oneOf``, ``const``, ``enum``, objects with ``required``,
optional and ``additionalProperties``, arrays, strings with a ``pattern``,
``minLength`` or ``format: date``, and bounded numbers. Hints, by property name,
mix in values that mean something to the example project (its revision ids,
the example ``alembic.ini``, the variable holding the test database's URL), so
that many documents get past the shape and reach the checks of consistency and
meaning; the schema's own values keep coming too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

Schema = Mapping[str, Any]
KEY = "[key]"  # a hint for the keys of a mapping property: hints["steps[key]"]

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=12),
)


class SchemaStrategy:
    """Strategies for the nodes of one JSON Schema document, with hints by property name."""

    def __init__(
        self,
        document: Schema,
        hints: Mapping[str, st.SearchStrategy[Any]] | None = None,
        *,
        hints_only: bool = False,
    ) -> None:
        """With ``hints_only``, a hinted property always takes its hint (plausible documents)."""
        self.document = document
        self.hints = dict(hints or {})
        self.hints_only = hints_only
        self._refs: dict[str, st.SearchStrategy[Any]] = {}

    def root(self) -> st.SearchStrategy[Any]:
        return self.node(self.document)

    def node(self, schema: Schema, name: str | None = None) -> st.SearchStrategy[Any]:
        hint = self.hints.get(name) if name else None
        if hint is not None and self.hints_only:
            return hint
        made = self._plain(schema, name)
        return st.one_of(hint, made) if hint is not None else made

    def _plain(self, schema: Schema, name: str | None) -> st.SearchStrategy[Any]:
        if "$ref" in schema:
            return self._ref(schema["$ref"], name)
        if "const" in schema:
            return st.just(schema["const"])
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return st.one_of([self._plain(option, name) for option in schema[key]])
        kind = schema.get("type")
        if kind == "object":
            return self._object(schema, name)
        if kind == "array":
            return st.lists(
                self.node(schema.get("items", {})), min_size=schema.get("minItems", 0), max_size=3
            )
        if kind == "string":
            return self._string(schema)
        if kind == "integer":
            return st.integers(schema.get("minimum"), schema.get("maximum"))
        if kind == "number":
            return st.floats(
                schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False
            )
        if kind == "boolean":
            return st.booleans()
        if kind == "null":
            return st.none()
        return SCALARS  # no type: anything JSON can hold (a check's expected scalar)

    def _ref(self, ref: str, name: str | None) -> st.SearchStrategy[Any]:
        if ref not in self._refs:
            target: Any = self.document
            for part in ref.removeprefix("#/").split("/"):
                target = target[part]
            self._refs[ref] = st.deferred(lambda: self._plain(target, None))
        return self._refs[ref]

    def _object(self, schema: Schema, name: str | None) -> st.SearchStrategy[Any]:
        properties: Mapping[str, Schema] = schema.get("properties", {})
        required = set(schema.get("required", ()))
        fixed = {key: self.node(value, key) for key, value in properties.items() if key in required}
        optional = {key: self.node(value, key) for key, value in properties.items() if key not in required}
        extra = schema.get("additionalProperties")
        if isinstance(extra, Mapping) and not properties:
            keys = self.hints.get(f"{name}{KEY}") if name else None
            key_strategy = self._string(schema.get("propertyNames", {}))
            if keys is not None:
                key_strategy = keys if self.hints_only else st.one_of(keys, key_strategy)
            return st.dictionaries(key_strategy, self.node(extra), max_size=3)
        return st.fixed_dictionaries(fixed, optional=optional)

    @staticmethod
    def _string(schema: Schema) -> st.SearchStrategy[str]:
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        if schema.get("format") == "date":
            return st.dates().map(lambda day: day.isoformat())
        return st.text(min_size=schema.get("minLength", 0), max_size=24)
