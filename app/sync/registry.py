"""The kinds of record a phone can send, each with its schema versions and its store function.

Each domain lists its record types (e.g. `app.incidents.services.incident_record_types`) and the
application factory registers them all in one place (`app.register_record_types`), not an import
side effect. The sync API and the HTML form both ingest through `app.sync.services.ingest_records`,
so idempotency, conflicts and the two clocks are handled in one place.
"""
from collections.abc import Callable
from dataclasses import dataclass, field

from marshmallow import Schema


class RecordRejected(Exception):
    """A record that cannot be stored: `errors` maps field names to messages for the worker."""

    def __init__(self, errors: dict):
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class RecordType:
    name: str
    # schema version -> marshmallow schema class for the record's `data`. Old versions stay
    # accepted after a deploy, because phones may hold records made by the old app for days.
    schemas: dict[int, type[Schema]]
    # store(context, receipt, data) adds the domain rows to the session or raises RecordRejected.
    # It runs in a savepoint of its own, after the record's receipt row was inserted, and may
    # read, lock and write. Give either `store` or `rows`.
    store: Callable | None = None
    # rows(context, receipt, data) -> [(table, [row, ...]), ...]: the record's rows as plain
    # values, built without writing anything (it may read), or RecordRejected. A batch's rows
    # are inserted together with Core, one statement per table, which is much faster than the
    # ORM; a type with few records and rich rules (locks, projections) uses `store` instead.
    rows: Callable | None = None
    # lock_key(record_id, data) -> str: records of a batch are stored in order of this key (then
    # id), so concurrent batches take their row locks in one order and never deadlock.
    lock_key: Callable | None = None
    description: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def current_version(self) -> int:
        return max(self.schemas)


_record_types: dict[str, RecordType] = {}


def register_record_type(record_type: RecordType) -> None:
    """Add or replace a record type (every create_app registers the same ones again)."""
    _record_types[record_type.name] = record_type


def get_record_type(name: str) -> RecordType | None:
    return _record_types.get(name)


def record_types() -> dict[str, RecordType]:
    return dict(_record_types)
