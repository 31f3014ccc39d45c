"""Fixtures for the sync API: reading what the database holds, and a live server under gunicorn."""
import pytest
import sqlalchemy as sa
from support import ServerDidNotStart, gunicorn_server

from app.extensions import db as _db


@pytest.fixture
def count_rows(app):
    """count_rows(Model, *where) -> how many rows the database holds, read in a fresh app context."""

    def count(model, *where):
        with app.app_context():
            return _db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))

    return count


LIVE_PASSWORD = "live server password"


@pytest.fixture
def live_server(app, tmp_path, request):
    """The app under gunicorn (2 sync workers, so two requests really run at once) on the test database.

    A test module may set LIVE_SERVER_WORKERS and LIVE_SERVER_THREADS for more at once.

    The `app` fixture has already made the schema and the demo accounts in that database; the
    worker accounts get LIVE_PASSWORD. Yields the base URL.
    """
    from app.auth.models import User

    with app.app_context():
        for user in _db.session.scalars(sa.select(User).where(User.email.like("worker%"))):
            user.set_password(LIVE_PASSWORD)
        _db.session.commit()
        _db.session.remove()
    try:
        with gunicorn_server(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "gunicorn.log",
                             workers=getattr(request.module, "LIVE_SERVER_WORKERS", 2),
                             threads=getattr(request.module, "LIVE_SERVER_THREADS", 1)) as base_url:
            yield base_url
    except ServerDidNotStart as error:
        pytest.fail(str(error))
