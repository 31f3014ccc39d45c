"""Every route checks sign-in (docs/design.md, security and privacy: "a test walks the URL map").

The test walks app.url_map, so a route added later without a sign-in check fails here until it
is protected or deliberately added to PUBLIC_ENDPOINTS.
"""
import uuid

import pytest
from support import csrf_from

from app.incidents.models import IncidentAccess

# Reachable signed out, on purpose: the shell a phone needs before and without signing in.
PUBLIC_ENDPOINTS = {
    "static": "/static/css/app.css",
    "main.healthz": "/healthz",
    "main.service_worker": "/sw.js",
    "main.manifest": "/manifest.webmanifest",
    "main.phone_config": "/phone-config.js",   # labels and kept-page paths: the same for everyone
    "main.offline": "/offline",
    "auth.sign_in": "/auth/sign-in",
    "sync.openapi": "/api/v1/openapi.json",
}
SAMPLE_VALUES = {"UUIDConverter": lambda: str(uuid.uuid4()), "IntegerConverter": lambda: "1",
                 "PathConverter": lambda: "x", "UnicodeConverter": lambda: "x"}


def _protected_routes(app):
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        values = {name: SAMPLE_VALUES[type(converter).__name__]() for name, converter in rule._converters.items()}
        with app.test_request_context():
            path = app.url_for(rule.endpoint, _external=False, **values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, path, rule.endpoint))
    return routes


def _form_csrf_token(client) -> str:
    """A valid CSRF token for this signed-out client, so a POST is refused for sign-in, not CSRF."""
    return csrf_from(client.get("/auth/sign-in").get_data(as_text=True))


def test_the_route_list_is_not_empty_and_the_allow_list_is_current(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(PUBLIC_ENDPOINTS) <= endpoints, "an allow-listed endpoint no longer exists"
    assert len(_protected_routes(app)) >= 8


def test_every_route_refuses_a_signed_out_request(app, client):
    token = _form_csrf_token(client)
    checked = []
    for method, path, endpoint in _protected_routes(app):
        response = client.open(path, method=method, data={"csrf_token": token} if method != "GET" else None,
                               headers={"X-CSRFToken": token})
        where = f"{method} {path} ({endpoint})"
        if path.startswith("/api/"):
            assert response.status_code == 401, where
            assert response.get_json()["error"]["code"] == "signed_out", where
        else:
            assert response.status_code == 302, f"{where} answered {response.status_code}"
            assert response.headers["Location"].startswith("/auth/sign-in"), where
        checked.append(where)
    assert any(w.startswith("POST /api/v1/sync") for w in checked)
    assert any(w.startswith("POST /incidents/new") for w in checked)


def test_every_route_answers_a_signed_out_json_client_with_401_not_a_redirect(app, client):
    token = _form_csrf_token(client)
    for method, path, endpoint in _protected_routes(app):
        response = client.open(path, method=method, data={"csrf_token": token} if method != "GET" else None,
                               headers={"X-CSRFToken": token, "Accept": "application/json"})
        assert response.status_code == 401, f"{method} {path} ({endpoint}) answered {response.status_code}"
        assert "Location" not in response.headers


def test_public_endpoints_answer_signed_out(client):
    for endpoint, path in PUBLIC_ENDPOINTS.items():
        with client.get(path) as response:  # closed: a static file answer holds the file open
            assert response.status_code == 200, f"{endpoint} {path} answered {response.status_code}"


def test_staff_get_404_for_another_persons_incident(app, auth, incident_record, count_rows):
    """Scope, not just sign-in: worker2 (another team) cannot open worker's report, nor learn it exists."""
    auth.sign_in("worker@demo.example")
    record = incident_record()
    assert auth.sync([record]).get_json()["results"][0]["status"] == "created"
    other = type(auth)(app.test_client())
    other.sign_in("worker2@demo.example")
    response = other.client.get(f"/incidents/{record['id']}")
    assert response.status_code == 404
    missing = other.client.get(f"/incidents/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert count_rows(IncidentAccess) == 0
    # The supervisor-only review list shows worker2 nothing of worker's.
    assert record["id"] not in other.client.get("/incidents/").get_data(as_text=True)


@pytest.fixture
def count_rows(app):
    import sqlalchemy as sa

    from app.extensions import db

    def count(model):
        with app.app_context():
            return db.session.scalar(sa.select(sa.func.count()).select_from(model))

    return count
