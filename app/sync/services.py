"""Ingesting phone-made records: idempotent, order-free, and honest about both clocks."""
import functools
import hashlib
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import ServiceUnavailable

from app import clock
from app.extensions import db
from app.sync.models import RecordReceipt
from app.sync.registry import RecordRejected, get_record_type
from app.sync.schemas import RecordEnvelopeSchema

log = logging.getLogger(__name__)

CONFLICT_MESSAGE = ("A different record with this id was already received. "
                    "Nothing was changed; this copy stays on the phone.")
ERROR_MESSAGE = ("The server could not store this record (reference {reference}). It stays on this "
                 "phone and will be sent again; if this keeps happening, tell your supervisor the reference.")
# A deadlock or a busy database is tried again this many times in all, then answered 503.
TRANSIENT_TRIES = 5
UNSTORABLE_TEXT_MESSAGE = "Remove the unusual characters (NUL or a broken emoji) from this text."
# The receipt's skew column is a 32-bit integer (about 68 years of seconds).
MAX_STORED_SKEW_SECONDS = 2**31 - 1
# Records dated further than this after the phone said it sent them, or this long before, are flagged.
RECORDED_AT_FUTURE_TOLERANCE = timedelta(minutes=5)
RECORDED_AT_PAST_LIMIT = timedelta(days=60)

_envelope_schema = RecordEnvelopeSchema()


class StorageBusy(ServiceUnavailable):
    """The database stayed busy (deadlocks, locks) through every try: answered 503, nothing lost."""

    description = "The server is busy. Nothing was lost; try again in a moment."
    retry_after = 5


@dataclass
class IngestContext:
    """What a store function may need, with a per-batch cache for look-ups (say, branches)."""

    user: "User"  # noqa: F821
    received_at: datetime
    cache: dict = field(default_factory=dict)
    # Phone clocks further out than this are flagged (read from the config once a batch).
    skew_limit: int = field(default_factory=lambda: current_app.config["CLOCK_SKEW_FLAG_SECONDS"])


class _Earlier(NamedTuple):
    content_hash: str
    user_id: int


@dataclass(frozen=True)
class ReceiptFacts:
    """What a record's receipt says; given to the store functions, inserted as a row."""

    id: uuid.UUID
    record_type: str
    schema_version: int
    user_id: int
    content_hash: str
    recorded_at: datetime
    recorded_offset_minutes: int
    received_at: datetime
    clock_skew_seconds: int | None
    clock_flag: str | None
    via: str

    def row(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass
class _Prepared:
    index: int
    id: uuid.UUID
    envelope: dict
    data: dict
    content_hash: str
    record_type: object


def content_hash(record_type: str, schema_version: int, data: dict) -> str:
    """A stable digest of what a record says; the same id with another digest is a conflict."""
    canonical = json.dumps({"type": record_type, "v": schema_version, "data": data},
                           sort_keys=True, separators=(",", ":"), default=_canonical_value)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical_value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def ingest_records(user, raw_records: list, sent_at: datetime | None = None, via: str = "sync") -> list[dict]:
    """Store each new record once; answer created, duplicate, rejected or error for each, in order.

    One record never fails its batch. The new records of a batch are first stored together
    (the rows of bulk types inserted with one statement per table); if that fails for any
    reason, everything is rolled back and each record is stored in a savepoint of its own, so
    an unexpected error in one record gives that record an "error" answer (logged with a
    reference) and the others are stored and answered normally. A deadlock or a busy database
    is retried from the start. A duplicate is found by the receipt's primary key, also when
    another request inserts the same id at the same moment.
    """
    # The signed-in user arrives as Flask-Login's proxy; every attribute read through it costs a
    # context look-up, and store functions read the user several times a record.
    user = user._get_current_object() if hasattr(user, "_get_current_object") else user
    received_at = clock.utcnow()
    skew = round((received_at - sent_at).total_seconds()) if sent_at else None
    if skew is not None:
        skew = max(-MAX_STORED_SKEW_SECONDS, min(MAX_STORED_SKEW_SECONDS, skew))
    context = IngestContext(user=user, received_at=received_at)
    results: list[dict | None] = [None] * len(raw_records)

    prepared: list[_Prepared] = []
    for index, raw in enumerate(raw_records):
        outcome = _validate_safely(raw)
        if isinstance(outcome, _Prepared):
            outcome.index = index
            prepared.append(outcome)
        else:
            results[index] = outcome

    if prepared:
        for attempt in range(1, TRANSIENT_TRIES + 1):
            try:
                stored = _ingest_prepared(context, prepared, skew, via)
                db.session.commit()
                break
            except Exception as error:
                db.session.rollback()
                context.cache.clear()
                if not is_transient(error):
                    raise
                if attempt == TRANSIENT_TRIES:
                    raise StorageBusy() from error
                log.info("sync: %s on attempt %d; trying the batch again", type(error).__name__, attempt)
                time.sleep(random.uniform(0.02, 0.1) * attempt)
        for index, result in stored.items():
            results[index] = result
    _log_outcomes(user, results)
    return results  # type: ignore[return-value]


def _ingest_prepared(context: IngestContext, prepared: list["_Prepared"], skew: int | None, via: str) -> dict:
    """Answers by index for the valid records; the caller commits."""
    _begin_write_transaction()
    results: dict[int, dict] = {}
    existing = _existing_receipts([p.id for p in prepared])
    new: list[_Prepared] = []
    in_batch: dict[uuid.UUID, _Earlier] = {}
    for item in prepared:
        earlier = existing.get(item.id) or in_batch.get(item.id)
        if earlier is not None:
            results[item.index] = _against_earlier(item, earlier, context.user)
            continue
        in_batch[item.id] = _Earlier(item.content_hash, context.user.id)
        new.append(item)
    # One order for every batch, so two batches lock rows in the same order (no deadlock):
    # bulk types first, then by the type's lock key (a session), then by record id.
    new.sort(key=_storage_order)
    try:
        results.update(_store_together(context, new, skew, via))
    except Exception as error:
        if is_transient(error):
            raise
        db.session.rollback()
        context.cache.clear()
        log.info("sync: a batch of %d could not be stored together (%s: %s); storing one at a time",
                 len(new), type(error).__name__, error)
        _begin_write_transaction()
        for item in new:
            results[item.index] = _store_alone(context, item, skew, via)
    return results


def _storage_order(item: "_Prepared"):
    record_type = item.record_type
    lock_key = record_type.lock_key(item.id, item.data) if record_type.lock_key else ""
    return (record_type.rows is None, lock_key or "", str(item.id))


def _store_together(context: IngestContext, items: list["_Prepared"], skew: int | None, via: str) -> dict:
    """Store new records in one go: bulk rows with one INSERT per table, the others one savepoint each.

    Raises if the bulk part fails; the caller then stores each record alone.
    """
    results: dict[int, dict] = {}
    tables: dict[sa.Table, list[dict]] = {RecordReceipt.__table__: []}
    bulk = [item for item in items if item.record_type.rows is not None]
    with db.session.no_autoflush:
        for item in bulk:
            receipt = _receipt(context, item, skew, via)
            try:
                rows = item.record_type.rows(context, receipt, item.data)
            except RecordRejected as rejected:
                results[item.index] = _rejected(item.envelope, rejected.errors)
                continue
            tables[RecordReceipt.__table__].append(receipt.row())
            for table, table_rows in rows:
                tables.setdefault(table, []).extend(table_rows)
            results[item.index] = _created(item)
    for table, table_rows in tables.items():
        if table_rows:
            db.session.execute(sa.insert(table), table_rows)
    for item in items:
        if item.record_type.rows is None:
            results[item.index] = _store_alone(context, item, skew, via)
    return results


def _store_alone(context: IngestContext, item: "_Prepared", skew: int | None, via: str) -> dict:
    """Store one record in a savepoint of its own; whatever goes wrong stays with this record."""
    savepoint = db.session.begin_nested()
    try:
        receipt = _receipt(context, item, skew, via)
        if item.record_type.rows is not None:
            with db.session.no_autoflush:
                rows = item.record_type.rows(context, receipt, item.data)
            db.session.execute(sa.insert(RecordReceipt.__table__), [receipt.row()])
            for table, table_rows in rows:
                if table_rows:
                    db.session.execute(sa.insert(table), table_rows)
        else:
            db.session.execute(sa.insert(RecordReceipt.__table__), [receipt.row()])
            item.record_type.store(context, receipt, item.data)
        savepoint.commit()  # flushes what the store function added, then releases
    except RecordRejected as rejected:
        savepoint.rollback()
        return _rejected(item.envelope, rejected.errors)
    except Exception as error:
        if savepoint.is_active:
            savepoint.rollback()
        context.cache.clear()
        if is_transient(error):
            raise
        if isinstance(error, IntegrityError):
            # Another request stored this id a moment ago: a duplicate or a conflict, not an error.
            earlier = _existing_receipts([item.id]).get(item.id)
            if earlier is not None:
                return _against_earlier(item, earlier, context.user)
        return _error(item.id, item.record_type.name, error)
    return _created(item)


def _begin_write_transaction() -> None:
    """SQLite: take the write lock now (BEGIN IMMEDIATE), waiting for it up to the busy timeout.

    The Python driver opens a transaction only at the first INSERT; a SAVEPOINT before that
    would be the outermost one, and releasing it would commit half a batch. Beginning here also
    means nothing read afterwards can be changed by another writer before this batch commits.
    """
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_transient(error: BaseException) -> bool:
    """A deadlock, a serialization failure or a busy database: trying again will work."""
    if not isinstance(error, DBAPIError):
        return False
    code = getattr(error.orig, "sqlstate", None)
    if code in ("40P01", "40001", "55P03"):  # deadlock, serialization failure, lock not available
        return True
    text = str(error.orig).lower()
    return isinstance(error, OperationalError) and ("database is locked" in text or "database is busy" in text)


def _receipt(context: IngestContext, item: "_Prepared", skew: int | None, via: str) -> "ReceiptFacts":
    recorded_at: datetime = item.envelope["recorded_at"]
    return ReceiptFacts(
        id=item.id,
        record_type=item.record_type.name,
        schema_version=item.envelope["schema_version"],
        user_id=context.user.id,
        content_hash=item.content_hash,
        recorded_at=recorded_at,
        recorded_offset_minutes=int(recorded_at.utcoffset().total_seconds() // 60),
        received_at=context.received_at,
        clock_skew_seconds=skew,
        clock_flag=clock_flag(recorded_at, context.received_at, skew, context.skew_limit),
        via=via,
    )


def _created(item: "_Prepared") -> dict:
    return {"id": str(item.id), "status": "created"}


def _error(record_id, record_type: str, error: BaseException) -> dict:
    """The answer for a record the server could not store because of its own fault; logged."""
    reference = uuid.uuid4().hex[:8]
    log.error("sync: record %s (%s) could not be stored [ref %s]", record_id, record_type, reference,
              exc_info=(type(error), error, error.__traceback__))
    return {"id": str(record_id) if record_id is not None else None, "status": "error", "reference": reference,
            "message": ERROR_MESSAGE.format(reference=reference)}


def _validate_safely(raw) -> "_Prepared | dict":
    """_validate, with an unexpected failure answered for this record alone."""
    try:
        outcome = _validate(raw)
    except Exception as error:  # noqa: BLE001 - one record never fails its batch
        record_id = raw.get("id") if isinstance(raw, dict) else None
        record_type = raw.get("type") if isinstance(raw, dict) else None
        return _error(record_id, str(record_type), error)
    if isinstance(outcome, dict):
        return _rejected(raw, outcome)
    return outcome


def _validate(raw) -> _Prepared | dict:
    """The envelope and the data of one record, or the errors that refuse it."""
    if not isinstance(raw, dict):
        return {"_record": ["Each record must be a JSON object."]}
    try:
        envelope = _envelope_schema.load(raw)
    except ValidationError as error:
        return error.messages
    record_type = get_record_type(envelope["type"])
    if record_type is None:
        return {"type": [f"Unknown record type {envelope['type']!r}."]}
    schema_class = record_type.schemas.get(envelope["schema_version"])
    if schema_class is None:
        return {"schema_version": [f"Version {envelope['schema_version']} of {record_type.name} is not supported "
                                   f"(supported: {sorted(record_type.schemas)})."]}
    unstorable = {str(key): [UNSTORABLE_TEXT_MESSAGE] for key, value in envelope["data"].items()
                  if _has_unstorable_text(key) or _has_unstorable_text(value)}
    if unstorable:
        return unstorable
    try:
        data = _schema_instance(schema_class).load(envelope["data"])
    except ValidationError as error:
        return error.messages
    digest = content_hash(record_type.name, envelope["schema_version"], data)
    return _Prepared(index=-1, id=envelope["id"], envelope=envelope, data=data,
                     content_hash=digest, record_type=record_type)


def _has_unstorable_text(value) -> bool:
    """True if any string in value holds a NUL (PostgreSQL cannot store it) or a lone surrogate
    (not encodable as UTF-8). Walked without recursion: JSON may nest as deep as the decoder allows."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


@functools.cache
def _schema_instance(schema_class):
    """One instance per schema class: building a marshmallow schema costs more than loading with it."""
    return schema_class()


def _existing_receipts(ids: list[uuid.UUID]) -> dict:
    if not ids:
        return {}
    rows = db.session.execute(
        select(RecordReceipt.id, RecordReceipt.content_hash, RecordReceipt.user_id)
        .where(RecordReceipt.id.in_(set(ids)))).all()
    return {row.id: row for row in rows}


def _against_earlier(item: _Prepared, earlier, user) -> dict:
    """Same content from the same person: duplicate. Anything else under that id: conflict."""
    if earlier.content_hash == item.content_hash and earlier.user_id == user.id:
        return {"id": str(item.id), "status": "duplicate"}
    return {"id": str(item.id), "status": "rejected", "conflict": True, "errors": {"id": [CONFLICT_MESSAGE]}}


def clock_flag(recorded_at: datetime, received_at: datetime, skew: int | None, limit: int | None = None) -> str | None:
    """Say why a record's phone time is implausible, or None when it is believable."""
    if limit is None:
        limit = current_app.config["CLOCK_SKEW_FLAG_SECONDS"]
    notes = []
    if skew is not None and abs(skew) > limit:
        direction = "behind" if skew > 0 else "ahead of"
        notes.append(f"phone clock {_duration(abs(skew))} {direction} the server")
    corrected = recorded_at + timedelta(seconds=skew or 0)
    if corrected > received_at + RECORDED_AT_FUTURE_TOLERANCE:
        notes.append("recorded after it was received")
    elif received_at - corrected > RECORDED_AT_PAST_LIMIT:
        notes.append("recorded more than 60 days before it was received")
    return "; ".join(notes) or None


def _duration(seconds: int) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def _rejected(raw, errors: dict) -> dict:
    record_id = raw.get("id") if isinstance(raw, dict) else None
    return {"id": str(record_id) if record_id is not None else None, "status": "rejected", "errors": errors}


def _log_outcomes(user, results) -> None:
    counts: dict[str, int] = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    log.info("sync from user %s: %s", user.id, counts)
