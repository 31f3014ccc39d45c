"""GET /healthz: 200 {"status": "ok"} when the database answers, 503 when it does not."""
import pytest
from sqlalchemy.exc import OperationalError

from app import create_app
from app.extensions import db


def test_healthz_is_200_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("database_url", [
    "postgresql+psycopg://postgres@127.0.0.1:1/unreachable?connect_timeout=2",
    "sqlite:////nonexistent-directory/for/health/check.db",
], ids=["postgresql-port-closed", "sqlite-file-cannot-open"])
def test_healthz_is_503_when_the_database_does_not_answer(database_url):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": database_url,
                      "RATELIMIT_ENABLED": False})
    try:
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.get_json()["status"] != "ok"
    finally:
        with app.app_context():
            db.engine.dispose()


def test_healthz_is_503_when_the_connection_breaks_and_recovers_after(app, monkeypatch):
    """A database that stops answering mid-life (the app already had connections) is reported."""
    client = app.test_client()
    assert client.get("/healthz").status_code == 200

    with app.app_context():
        engine = db.engine

    def refuse(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(engine.dialect, "do_execute", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}

    monkeypatch.undo()
    assert client.get("/healthz").status_code == 200
