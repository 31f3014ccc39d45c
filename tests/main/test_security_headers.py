"""Strict security headers on every kind of answer.

docs/design.md, security and privacy: a CSP with no inline script."""
import re

import pytest


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    directives = [part.strip().split(None, 1) for part in policy.split(";") if part.strip()]
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


@pytest.mark.parametrize("path", ["/auth/sign-in", "/healthz", "/api/v1/session", "/offline", "/sw.js",
                                  "/no-such-page"])
def test_security_headers_on_every_answer(client, path):
    response = client.get(path)
    csp = _csp(response)
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert csp["script-src"] == "'self'"
    assert csp["default-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_signed_in_pages_have_no_inline_script(auth):
    """The CSP forbids inline script, so a page that had one would break: none may exist."""
    auth.sign_in()
    for path in ("/", "/incidents/new", "/incidents/", "/waiting"):
        html = auth.client.get(path).get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, f"inline script on {path}: {tag}"
        assert " onclick=" not in html and " onload=" not in html and " onsubmit=" not in html


def test_api_answers_are_not_cached(auth):
    auth.sign_in()
    assert auth.client.get("/api/v1/session").headers["Cache-Control"] == "no-store"


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    response = client.get("/healthz", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
