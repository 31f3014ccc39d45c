"""What clients read in the OpenAPI document matches what the server enforces (issue 6, point 6d).

The 1970 to 2100 window on sent_at and recorded_at was only in apispec's `x-minimum` and
`x-maximum` extensions, which client generators and readers ignore. OpenAPI 3.0 has no bounds
for strings, so the window is stated in each property's description, and the document stays
valid OpenAPI.
"""
from openapi_spec_validator import validate

from app.sync.schemas import PLAUSIBLE_TIME


def _window_words() -> tuple[str, str]:
    """The window as the description must state it, taken from the validator the server runs."""
    return (PLAUSIBLE_TIME.min.strftime("%Y-%m-%dT%H:%M:%SZ"), PLAUSIBLE_TIME.max.strftime("%Y-%m-%dT%H:%M:%SZ"))


def test_sent_at_and_recorded_at_state_the_accepted_window_in_their_description(client):
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    schemas = document["components"]["schemas"]
    first, last = _window_words()
    assert (first, last) == ("1970-01-01T00:00:00Z", "2100-01-01T00:00:00Z")
    assert not PLAUSIBLE_TIME.max_inclusive  # the description says "not including" the last instant
    for schema, name in (("SyncBatch", "sent_at"), ("RecordEnvelope", "recorded_at")):
        prop = schemas[schema]["properties"][name]
        assert prop["type"] == "string" and prop["format"] == "date-time"
        description = prop["description"]
        assert first in description and last in description, (schema, name, description)
        assert "not including" in description
        assert "offset" in description


def test_the_error_component_requires_code_message_and_details(client):
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    inner = error["properties"]["error"]
    assert set(inner["required"]) == {"code", "message", "details"}
    assert inner["properties"]["details"]["type"] == "object"
    # Every error answer of the API points at this component.
    for path in document["paths"].values():
        for operation in path.values():
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")) and "content" in answer:
                    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
