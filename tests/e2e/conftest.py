"""End-to-end harness: the real app in a subprocess (gunicorn), driven by Debian's Chromium.

- One live server per test module, on a fresh database: SQLite in a temporary directory, or,
  when TEST_DATABASE_URL is set, a schema of its own in that PostgreSQL database (created
  here, dropped afterwards). Migrated with `flask db upgrade`, demo accounts from
  `flask demo-data --password ...`.
- The server writes an access log, so a test can prove the phone sent nothing while offline.
- A module sets LIVE_SERVER_ENV = {...} for its server's environment; `live_server.restart(**env)`
  restarts it on the same port (same origin: the phone's service worker and IndexedDB stay).
- Browser contexts are phones: 390x844, Europe/London, each with its own storage.
"""
import os
import uuid

import pytest
import sqlalchemy as sa
from e2e_helpers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PHONE, Database, LiveServer


def _driver_url(base: str) -> str:
    """A PostgreSQL URL for psycopg 3, as the app itself would build it."""
    for prefix in ("postgres://", "postgresql://"):
        if base.startswith(prefix):
            return "postgresql+psycopg://" + base[len(prefix):]
    return base


def _postgres_url(base: str, schema: str) -> str:
    """The same database, with `schema` first on the search path (our own tables, our own alembic_version)."""
    url = _driver_url(base)
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="module")
def live_server(request, tmp_path_factory):
    """This module's server, on its own fresh database."""
    workdir = tmp_path_factory.mktemp("live")
    base = os.environ.get("TEST_DATABASE_URL")
    engine = schema = None
    if base:
        schema = f"e2e_{uuid.uuid4().hex[:10]}"
        engine = sa.create_engine(_driver_url(base))
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = _postgres_url(base, schema)
    else:
        url = f"sqlite:///{workdir / 'e2e.db'}"
    server = LiveServer(workdir, url, getattr(request.module, "LIVE_SERVER_ENV", {}))
    try:
        server.prepare_database()
        server.start()
        yield server
    finally:
        server.stop()
        if engine is not None:
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()


@pytest.fixture(scope="module")
def database(live_server):
    probe = Database(live_server.database_url)
    yield probe
    from app.extensions import db
    with probe.app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    """One Chromium (Debian's); every test gets fresh contexts (phones) with their own storage."""
    from playwright.sync_api import expect

    # A loaded 2-core CI machine answers slower than a laptop: give assertions time to come true.
    expect.set_options(timeout=10_000)
    yield from _launch_browser()


def _launch_browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def new_phone(browser, live_server):
    """new_phone(**context_options) -> a fresh browser context set up like a phone."""
    contexts = []

    def make(**options):
        context = browser.new_context(base_url=live_server.url, service_workers="allow", **{**PHONE, **options})
        context.set_default_timeout(15000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def phone(new_phone):
    """A worker's phone, with one page open."""
    context = new_phone()
    return context.new_page()


@pytest.fixture(scope="session", autouse=True)
def _artifacts_dir():
    ARTIFACTS.mkdir(exist_ok=True)
