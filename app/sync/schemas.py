"""marshmallow schemas for the sync API."""
from datetime import UTC, datetime

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

# Times outside this window are a broken clock or a forged record; refusing them also keeps
# every later calculation (UTC conversion, skew) inside what datetimes and the database hold.
PLAUSIBLE_TIME = validate.Range(
    min=datetime(1970, 1, 1, tzinfo=UTC), max=datetime(2100, 1, 1, tzinfo=UTC),
    max_inclusive=False, error="Give a time between 1970 and 2100; check the phone's clock.")


class SyncBatchSchema(Schema):
    """The batch envelope; each record is validated on its own so one bad record stops nothing."""

    class Meta:
        unknown = RAISE

    sent_at = fields.AwareDateTime(required=True, validate=PLAUSIBLE_TIME, metadata={
        "description": "The phone's clock when it sent the batch: ISO 8601 with a UTC offset, from "
                       "1970-01-01T00:00:00Z up to but not including 2100-01-01T00:00:00Z (outside that the whole "
                       "batch is refused: 400 bad_shape)."})
    records = fields.List(fields.Raw(), required=True)


class RecordEnvelopeSchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.UUID(required=True,
                     metadata={"description": "Made on the phone (UUID); the record's identity forever."})
    type = fields.String(required=True, validate=validate.Length(min=1, max=40))
    schema_version = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1))
    recorded_at = fields.AwareDateTime(required=True, validate=PLAUSIBLE_TIME, metadata={
        "description": "The phone's clock when the record was made: ISO 8601 with a UTC offset, from "
                       "1970-01-01T00:00:00Z up to but not including 2100-01-01T00:00:00Z (outside that this "
                       "record alone is rejected)."})
    data = fields.Dict(required=True)


class RecordResultSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.Raw(required=True)
    status = fields.String(validate=validate.OneOf(["created", "duplicate", "rejected", "error"]), metadata={
        "description": "created or duplicate: stored (the phone may forget it). rejected: refused for the reasons "
                       "in `errors` (keep it and show them). error: the server failed to store this record "
                       "(its fault, not the record's); `message` and `reference` say so; keep it and send it "
                       "again later. One record's answer never depends on the others in the batch."})
    errors = fields.Dict(metadata={"description": "With rejected: field name -> messages for the worker."})
    conflict = fields.Boolean(metadata={"description": "With rejected: this id was already used for other content."})
    message = fields.String(metadata={"description": "With error: words for the worker, with the reference."})
    reference = fields.String(metadata={"description": "With error: the reference the server's log keeps it under."})


class SyncResponseSchema(Schema):
    results = fields.List(fields.Nested(RecordResultSchema))
    server_time = fields.AwareDateTime()


class SessionUserSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    role = fields.String()
    library_service = fields.Function(lambda u: {"id": u.library_service_id, "name": u.library_service.name})
    team = fields.Function(lambda u: {"id": u.team.id, "name": u.team.name} if u.team else None)


class SessionSchema(Schema):
    user = fields.Nested(SessionUserSchema)
    csrf_token = fields.String()
    server_time = fields.AwareDateTime()


class ErrorSchema(Schema):
    error = fields.Dict(metadata={"description": '{"code": str, "message": str, "details": {...}}'})
