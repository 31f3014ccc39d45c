"""The OpenAPI document, built with apispec from the same marshmallow schemas the API uses."""
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from app.lone_working.api_schemas import WorkerSessionStateSchema
from app.sync.registry import record_types
from app.sync.schemas import RecordEnvelopeSchema, SessionSchema, SyncBatchSchema, SyncResponseSchema

# The one error shape (app/errors.py api_error): every member always there, `details` an empty
# object when there is nothing to add.
ERROR_COMPONENT = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message", "details"],
        "properties": {
            "code": {"type": "string", "description": "Stable, for programs: e.g. signed_out, csrf_failed, "
                                                      "bad_json, bad_shape, too_large, too_many_records."},
            "message": {"type": "string", "description": "For people: what happened and what to do."},
            "details": {"type": "object", "additionalProperties": True,
                        "description": "Per field, what was wrong (bad_shape); an empty object otherwise."},
        },
    }},
}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": "Error"}}}


def build_openapi(app) -> dict:
    spec = APISpec(title="Safer Libraries sync API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   info={"description": (
                       "Phones send immutable records made offline. Each record's id is made on the phone; "
                       "the same id with the same content answers `duplicate` and stores nothing; with "
                       "different content it is `rejected` as a conflict. Sign in with the web form (a session "
                       "cookie); send the CSRF token from GET /session in the X-CSRFToken header. "
                       f"Limits: a body of at most {app.config['SYNC_MAX_BODY_BYTES']} bytes and at most "
                       f"{app.config['SYNC_MAX_RECORDS']} records a batch (413 beyond).")})
    spec.components.schema("Error", component=ERROR_COMPONENT)
    spec.components.schema("Session", schema=SessionSchema)
    spec.components.schema("SyncBatch", schema=SyncBatchSchema)
    spec.components.schema("RecordEnvelope", schema=RecordEnvelopeSchema)
    spec.components.schema("SyncResponse", schema=SyncResponseSchema)
    spec.components.schema("WorkerSessionState", schema=WorkerSessionStateSchema)
    for name, record_type in sorted(record_types().items()):
        for version, schema in sorted(record_type.schemas.items()):
            spec.components.schema(f"{name}_data_v{version}", schema=schema,
                                   description=record_type.description)
    spec.path(path="/api/v1/session", operations={"get": {
        "summary": "Who is signed in, with a fresh CSRF token",
        "responses": {"200": {"description": "Signed in", "content": {"application/json": {"schema": "Session"}}},
                      "401": _error("Signed out")}}})
    spec.path(path="/api/v1/sync", operations={"post": {
        "summary": "Send a batch of records made on the phone",
        "parameters": [{"in": "header", "name": "X-CSRFToken", "required": True, "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": "SyncBatch"}}},
        "responses": {
            "200": {"description": "One result per record, in order",
                    "content": {"application/json": {"schema": "SyncResponse"}}},
            "400": _error("Malformed JSON, a wrong shape, or a missing or stale CSRF token"),
            "401": _error("Signed out (answered before any CSRF check)"),
            "413": _error("Body or batch over the limit")}}})
    spec.path(path="/api/v1/lone-working/session", operations={"get": {
        "summary": "The signed-in worker's running lone-working session as the server sees it (null when none)",
        "responses": {"200": {"description": "Signed in",
                              "content": {"application/json": {"schema": "WorkerSessionState"}}},
                      "401": _error("Signed out")}}})
    spec.path(path="/healthz", operations={"get": {
        "summary": "Health: 200 when the database answers, 503 otherwise",
        "responses": {"200": {"description": "ok"}, "503": {"description": "database unreachable"}}}})
    document = spec.to_dict()
    document["x-record-types"] = {name: sorted(rt.schemas) for name, rt in record_types().items()}
    return document
