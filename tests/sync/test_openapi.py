"""The OpenAPI document: valid OpenAPI 3, public, and describing the sync contract."""
from openapi_spec_validator import validate


def test_openapi_document_is_valid_openapi_3(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    validate(document)  # raises OpenAPIValidationError when the document is not valid


def test_openapi_document_describes_sync_and_session(client, app):
    document = client.get("/api/v1/openapi.json").get_json()
    sync = document["paths"]["/api/v1/sync"]["post"]
    assert set(sync["responses"]) >= {"200", "400", "401", "413"}
    assert sync["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/SyncBatch"}
    assert any(p["name"] == "X-CSRFToken" and p["in"] == "header" for p in sync["parameters"])
    session = document["paths"]["/api/v1/session"]["get"]
    assert set(session["responses"]) >= {"200", "401"}
    schemas = document["components"]["schemas"]
    assert set(schemas["SyncBatch"]["required"]) == {"sent_at", "records"}
    assert set(schemas["RecordEnvelope"]["required"]) >= {"id", "type", "recorded_at", "data"}
    # The limits the server enforces are the ones the document states.
    description = document["info"]["description"]
    assert str(app.config["SYNC_MAX_BODY_BYTES"]) in description
    assert str(app.config["SYNC_MAX_RECORDS"]) in description


def test_openapi_document_is_public(client):
    """Other tools read the contract before anyone signs in."""
    response = client.get("/api/v1/openapi.json", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert "/healthz" in response.get_json()["paths"]
