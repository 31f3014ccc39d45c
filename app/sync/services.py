"""Ingesting phone-made records: idempotent, order-free, and honest about both clocks."""
import functools
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.clock import utcnow
from app.extensions import db
from app.sync.models import RecordReceipt
from app.sync.registry import RecordRejected, get_record_type
from app.sync.schemas import RecordEnvelopeSchema

log = logging.getLogger(__name__)

CONFLICT_MESSAGE = ("A different record with this id was already received. "
                    "Nothing was changed; this copy stays on the phone.")
UNSTORABLE_TEXT_MESSAGE = "Remove the unusual characters (NUL or a broken emoji) from this text."
# The receipt's skew column is a 32-bit integer (about 68 years of seconds).
MAX_STORED_SKEW_SECONDS = 2**31 - 1
# Records dated further than this after the phone said it sent them, or this long before, are flagged.
RECORDED_AT_FUTURE_TOLERANCE = timedelta(minutes=5)
RECORDED_AT_PAST_LIMIT = timedelta(days=60)

_envelope_schema = RecordEnvelopeSchema()


@dataclass
class IngestContext:
    """What a store function may need, with a per-batch cache for look-ups (say, branches)."""

    user: "User"  # noqa: F821
    received_at: datetime
    cache: dict = field(default_factory=dict)


class _Earlier(NamedTuple):
    content_hash: str
    user_id: int


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
    """Store each new record once; answer created, duplicate or rejected for each, in order.

    Duplicates are found by the receipt's primary key; if another sender inserts the same id
    between our look-up and our commit, the batch is retried one record at a time.
    """
    received_at = utcnow()
    skew = round((received_at - sent_at).total_seconds()) if sent_at else None
    if skew is not None:
        skew = max(-MAX_STORED_SKEW_SECONDS, min(MAX_STORED_SKEW_SECONDS, skew))
    context = IngestContext(user=user, received_at=received_at)
    results: list[dict | None] = [None] * len(raw_records)

    prepared: list[_Prepared] = []
    for index, raw in enumerate(raw_records):
        outcome = _validate(raw)
        if isinstance(outcome, dict):
            results[index] = _rejected(raw, outcome)
        else:
            outcome.index = index
            prepared.append(outcome)

    existing = _existing_receipts([p.id for p in prepared])
    pending: list[tuple[_Prepared, RecordReceipt]] = []
    in_batch: dict[uuid.UUID, _Earlier] = {}
    for item in prepared:
        earlier = existing.get(item.id) or in_batch.get(item.id)
        if earlier is not None:
            results[item.index] = _against_earlier(item, earlier, user)
            continue
        try:
            receipt = _store(context, item, skew, via)
        except RecordRejected as rejected:
            results[item.index] = _rejected(item.envelope, rejected.errors)
            continue
        in_batch[item.id] = _Earlier(item.content_hash, user.id)
        pending.append((item, receipt))
        results[item.index] = {"id": str(item.id), "status": "created"}

    if pending:
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            log.info("sync race on %d records; retrying one at a time", len(pending))
            for item, _ in pending:
                results[item.index] = _ingest_one_alone(context, item, skew, via)
    _log_outcomes(user, results)
    return results  # type: ignore[return-value]


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


def _store(context: IngestContext, item: _Prepared, skew: int | None, via: str) -> RecordReceipt:
    recorded_at: datetime = item.envelope["recorded_at"]
    receipt = RecordReceipt(
        id=item.id,
        record_type=item.record_type.name,
        schema_version=item.envelope["schema_version"],
        user_id=context.user.id,
        content_hash=item.content_hash,
        recorded_at=recorded_at,
        recorded_offset_minutes=int(recorded_at.utcoffset().total_seconds() // 60),
        received_at=context.received_at,
        clock_skew_seconds=skew,
        clock_flag=clock_flag(recorded_at, context.received_at, skew),
        via=via,
    )
    item.record_type.store(context, receipt, item.data)
    db.session.add(receipt)
    return receipt


def _ingest_one_alone(context: IngestContext, item: _Prepared, skew: int | None, via: str) -> dict:
    earlier = _existing_receipts([item.id]).get(item.id)
    if earlier is not None:
        return _against_earlier(item, earlier, context.user)
    try:
        _store(context, item, skew, via)
        db.session.commit()
    except RecordRejected as rejected:
        db.session.rollback()
        return _rejected(item.envelope, rejected.errors)
    except IntegrityError:
        db.session.rollback()
        earlier = _existing_receipts([item.id]).get(item.id)
        if earlier is None:
            raise
        return _against_earlier(item, earlier, context.user)
    return {"id": str(item.id), "status": "created"}


def clock_flag(recorded_at: datetime, received_at: datetime, skew: int | None) -> str | None:
    """Say why a record's phone time is implausible, or None when it is believable."""
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
