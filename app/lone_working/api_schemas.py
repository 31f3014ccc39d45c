"""marshmallow schemas of the worker's own lone-working state, as the phone reads it.

Two instants are named differently everywhere: `deadline_at` is when the next check-in or the
planned end falls (the phone counts down to it); `overdue_at` is the deadline plus the service's
grace period, when the server raises an overdue alert.
"""
from marshmallow import Schema, fields


class ContactTimeSchema(Schema):
    """A moment the phone recorded, with when the server received it (both clocks)."""

    phone_time = fields.AwareDateTime(required=True, metadata={"description": "The phone's clock (UTC)."})
    phone_offset_minutes = fields.Integer(required=True,
                                          metadata={"description": "The phone's UTC offset then, in minutes."})
    received_at = fields.AwareDateTime(allow_none=True, metadata={"description": "The server's clock."})


class WorkerAlertSchema(Schema):
    """The session's most recent alert the worker may see (never a duress alert: it is silent)."""

    kind = fields.String(required=True, metadata={"description": "alarm or overdue."})
    kind_label = fields.String(required=True)
    raised_at = fields.AwareDateTime(required=True)
    acknowledged = fields.Boolean(required=True)
    acknowledged_by = fields.String(allow_none=True, metadata={"description": "Who said \"I've got this\"."})
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    resolved = fields.Boolean(required=True)
    resolved_at = fields.AwareDateTime(allow_none=True)


class WorkerSessionSchema(Schema):
    """The server's projection of the worker's running session."""

    id = fields.UUID(required=True)
    status = fields.String(required=True, metadata={"description": "active or finished."})
    place_label = fields.String(required=True)
    started_at = fields.AwareDateTime(allow_none=True)
    planned_end_at = fields.AwareDateTime(allow_none=True)
    check_in_interval_minutes = fields.Integer(required=True)
    next_check_in_due_at = fields.AwareDateTime(allow_none=True)
    deadline_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "The next check-in or the planned end, whichever is first."})
    overdue_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "deadline_at plus the service's grace period: the server raises an overdue alert then."})
    last_sequence = fields.Integer(required=True, metadata={
        "description": "The highest event sequence number the server has for this session."})
    last_check_in = fields.Nested(ContactTimeSchema, allow_none=True)
    last_contact = fields.Nested(ContactTimeSchema, allow_none=True)
    alert = fields.Nested(WorkerAlertSchema, allow_none=True)


class LoneWorkingSettingsSchema(Schema):
    grace_minutes = fields.Integer(required=True)
    due_soon_minutes = fields.Integer(required=True)
    default_check_in_minutes = fields.Integer(required=True)
    clock_skew_limit_seconds = fields.Integer(required=True, metadata={
        "description": "A phone clock further off than this is corrected by the measured skew (pitfall 13)."})


class WorkerSessionStateSchema(Schema):
    """GET /api/v1/lone-working/session."""

    session = fields.Nested(WorkerSessionSchema, allow_none=True, required=True,
                            metadata={"description": "null when no session runs."})
    settings = fields.Nested(LoneWorkingSettingsSchema, required=True)
    server_time = fields.AwareDateTime(required=True, metadata={
        "description": "The server's clock: the phone keeps server_time minus its own clock and counts down with it."})
