"""Error answers keep the headers HTTP gives them (issue 6, point 6b).

Every route answered with a method it does not take says 405 with an `Allow` header listing the
methods it does take, whether the answer is JSON or an HTML page. The test walks app.url_map,
so a route added later is covered without touching this file. /healthz is read by machines
and answers JSON whatever the Accept header says, its 405 too. Other errors keep their own
headers as well (Retry-After on a 429, WWW-Authenticate on a 401).
"""
import uuid

import pytest
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import ServiceUnavailable, TooManyRequests, Unauthorized

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
SAMPLE_VALUES = {"UUIDConverter": lambda: str(uuid.uuid4()), "IntegerConverter": lambda: "1",
                 "PathConverter": lambda: "css/app.css", "UnicodeConverter": lambda: "x"}
ACCEPTS = {"html": "text/html,application/xhtml+xml,*/*;q=0.8", "json": "application/json"}


def _wrong_method_cases(app):
    """(path, wrong method, the methods the path does take) for every rule in the URL map."""
    allowed_by_rule: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        allowed_by_rule.setdefault(rule.rule, set()).update(rule.methods)
    cases = []
    for rule in app.url_map.iter_rules():
        values = {name: SAMPLE_VALUES[type(converter).__name__]() for name, converter in rule._converters.items()}
        with app.test_request_context():
            path = app.url_for(rule.endpoint, _external=False, **values)
        allowed = allowed_by_rule[rule.rule]
        for method in METHODS:
            if method not in allowed:
                cases.append((path, method, allowed))
    return cases


def _allow(response) -> set[str]:
    assert "Allow" in response.headers, f"no Allow header: {dict(response.headers)}"
    return {method.strip() for method in response.headers["Allow"].split(",")}


def _machine_path(path: str) -> bool:
    return path.startswith("/api/") or path == "/healthz"


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed-out", "signed-in"])
def test_every_route_answers_a_wrong_method_with_405_and_allow(app, auth, signed_in):
    if signed_in:
        auth.sign_in()
    cases = _wrong_method_cases(app)
    assert len({path for path, _, _ in cases}) >= 25, "the URL map walk found too few routes"
    for path, method, allowed in cases:
        for accept_name, accept in ACCEPTS.items():
            response = auth.client.open(path, method=method, headers={"Accept": accept})
            where = f"{method} {path} (Accept: {accept_name})"
            assert response.status_code == 405, where
            assert _allow(response) == allowed, where
            if _machine_path(path) or accept_name == "json":
                assert response.mimetype == "application/json", where
                assert response.get_json()["error"] == {
                    "code": "method_not_allowed", "details": {},
                    "message": "The method is not allowed for the requested URL."}, where
            else:
                assert response.mimetype == "text/html", where
                assert "Method Not Allowed" in response.get_data(as_text=True), where


@pytest.mark.parametrize("accept", list(ACCEPTS.values()), ids=list(ACCEPTS))
def test_healthz_answers_json_whatever_is_asked(client, accept):
    assert client.get("/healthz", headers={"Accept": accept}).get_json() == {"status": "ok"}
    response = client.post("/healthz", headers={"Accept": accept})
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert _allow(response) == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize("accept", list(ACCEPTS.values()), ids=list(ACCEPTS))
def test_other_errors_keep_their_own_headers(app, accept):
    """Retry-After and WWW-Authenticate survive the error handler, on JSON and on HTML answers."""
    def too_many():
        raise TooManyRequests(retry_after=30)

    def unauthorised():
        raise Unauthorized(www_authenticate=WWWAuthenticate("Bearer", {"realm": "safer-libraries"}))

    def down():
        raise ServiceUnavailable(retry_after=120)

    app.add_url_rule("/test-errors/too-many", "test_too_many", too_many)
    app.add_url_rule("/test-errors/unauthorised", "test_unauthorised", unauthorised)
    app.add_url_rule("/test-errors/down", "test_down", down)
    client = app.test_client()

    response = client.get("/test-errors/too-many", headers={"Accept": accept})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    response = client.get("/test-errors/unauthorised", headers={"Accept": accept})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer realm=")
    response = client.get("/test-errors/down", headers={"Accept": accept})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "120"
    # The body's own type is the handler's, not that of werkzeug's HTML page it replaced.
    expected = "application/json" if accept == "application/json" else "text/html"
    assert response.mimetype == expected
    assert response.headers["Content-Length"] == str(len(response.get_data()))
