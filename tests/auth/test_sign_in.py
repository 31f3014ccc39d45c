"""Signing in and out: remember-me, wrong passwords, rate limits, CSRF on sign-out, scrypt."""
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from support import csrf_from

from app import create_app
from app.auth.models import User
from app.extensions import db as _db


def _token(client, path="/auth/sign-in") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def _signed_in(client) -> bool:
    return client.get("/api/v1/session").status_code == 200


def test_sign_in_with_remember_me_sets_a_cookie_for_about_90_days(auth, app):
    response = auth.sign_in(remember=True)
    assert response.status_code == 302
    cookie = auth.client.get_cookie("remember_token", domain="localhost")
    assert cookie is not None
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=90)
    lifetime = cookie.expires - datetime.now(UTC)
    assert timedelta(days=89) < lifetime <= timedelta(days=90)
    assert cookie.http_only
    header = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token=")][0]
    assert "SameSite=Lax" in header and "HttpOnly" in header


def test_remember_cookie_signs_the_phone_back_in_after_the_session_cookie_is_gone(auth, app):
    auth.sign_in(remember=True)
    auth.client.delete_cookie("session", domain="localhost")
    assert _signed_in(auth.client)


def test_sign_in_without_remember_me_sets_no_remember_cookie(auth):
    auth.sign_in(remember=False)
    assert auth.client.get_cookie("remember_token", domain="localhost") is None
    assert _signed_in(auth.client)
    auth.client.delete_cookie("session", domain="localhost")
    assert not _signed_in(auth.client)


def test_sign_in_goes_to_the_page_asked_for_but_never_off_site(auth):
    response = auth.client.get("/incidents/new")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/sign-in?next=")
    token = _token(auth.client)
    answer = auth.client.post("/auth/sign-in?next=/incidents/new",
                              data={"email": "worker@demo.example", "password": "correct horse battery",
                                    "csrf_token": token})
    assert answer.headers["Location"] == "/incidents/new"
    auth.client.post("/auth/sign-out", data={"csrf_token": _token(auth.client, "/")})
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        token = _token(auth.client)
        answer = auth.client.post(f"/auth/sign-in?next={target}",
                                  data={"email": "worker@demo.example", "password": "correct horse battery",
                                        "csrf_token": token})
        assert answer.headers["Location"] == "/", target
        auth.client.post("/auth/sign-out", data={"csrf_token": _token(auth.client, "/")})


@pytest.mark.parametrize("email, password", [
    ("worker@demo.example", "wrong password"),
    ("nobody@demo.example", "correct horse battery"),
    ("worker@demo.example", ""),
    ("not an email", "correct horse battery"),
    ("worker@demo.example\u0000", "correct horse battery"),
])
def test_wrong_credentials_give_an_error_and_no_session(client, email, password):
    token = _token(client)
    response = client.post("/auth/sign-in", data={"email": email, "password": password, "csrf_token": token,
                                                  "remember": "y"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="error"' in html or "error" in html
    assert client.get_cookie("remember_token", domain="localhost") is None
    assert not _signed_in(client)


def test_email_is_matched_without_regard_to_case_or_spaces(client):
    token = _token(client)
    response = client.post("/auth/sign-in", data={"email": "  Worker@Demo.Example ",
                                                  "password": "correct horse battery", "csrf_token": token})
    assert response.status_code == 302
    assert _signed_in(client)


def test_deactivated_account_cannot_sign_in(app, client):
    with app.app_context():
        user = _db.session.scalar(sa.select(User).where(User.email == "worker@demo.example"))
        user.active = False
        _db.session.commit()
    token = _token(client)
    response = client.post("/auth/sign-in", data={"email": "worker@demo.example",
                                                  "password": "correct horse battery", "csrf_token": token})
    assert response.status_code == 400
    assert not _signed_in(client)


def test_sign_in_form_without_csrf_is_refused(client):
    client.get("/auth/sign-in")
    response = client.post("/auth/sign-in", data={"email": "worker@demo.example", "password": "correct horse battery"})
    assert response.status_code == 400
    assert not _signed_in(client)


@pytest.fixture
def rate_limited_app(app):
    """The same database, in an app with rate limiting on (the test app has it off)."""
    limited = create_app({**{key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "SERVER_NAME")},
                          "TESTING": True, "RATELIMIT_ENABLED": True, "SIGN_IN_RATE_LIMIT": "5 per minute"})
    yield limited
    with limited.app_context():
        _db.engine.dispose()


def test_sign_in_is_rate_limited(rate_limited_app):
    client = rate_limited_app.test_client()
    token = _token(client)
    for attempt in range(5):
        response = client.post("/auth/sign-in", data={"email": "worker@demo.example", "password": f"guess {attempt}",
                                                      "csrf_token": token})
        assert response.status_code == 400
    blocked = client.post("/auth/sign-in", data={"email": "worker@demo.example", "password": "correct horse battery",
                                                 "csrf_token": token})
    assert blocked.status_code == 429
    assert "Retry-After" in blocked.headers
    assert not _signed_in(client)
    # Only sign-in attempts are limited: the page itself and the rest of the app still answer.
    assert client.get("/auth/sign-in").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_sign_out_requires_post_with_csrf(auth):
    auth.sign_in()
    assert auth.client.get("/auth/sign-out").status_code == 405
    assert _signed_in(auth.client)
    without_token = auth.client.post("/auth/sign-out")
    assert without_token.status_code == 400
    assert _signed_in(auth.client)
    forged = auth.client.post("/auth/sign-out", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    assert _signed_in(auth.client)
    response = auth.client.post("/auth/sign-out", data={"csrf_token": _token(auth.client, "/")})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/sign-in")
    assert not _signed_in(auth.client)
    # Signing out forgets the phone too: the remember cookie is cleared.
    assert auth.client.get_cookie("remember_token", domain="localhost") is None


def test_passwords_are_stored_with_scrypt(app):
    with app.app_context():
        hashes = _db.session.scalars(sa.select(User.password_hash)).all()
    assert hashes and all(h.startswith("scrypt:") for h in hashes)
    assert not any("correct horse battery" in h for h in hashes)
    assert len(set(hashes)) == len(hashes)  # salted: the same password hashes differently per account
