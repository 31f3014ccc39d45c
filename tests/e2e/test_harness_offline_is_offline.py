"""Pitfall 15: an offline test that is not offline. The harness checks itself."""
import pytest
from e2e_helpers import open_form_online, service_worker, sign_in

pytestmark = pytest.mark.e2e

FETCH_SESSION = """() => fetch('/api/v1/session', { cache: 'no-store' })
    .then(response => 'answered ' + response.status, error => 'failed: ' + error.message)"""


def test_offline_phone_reaches_nothing_not_even_from_its_service_worker(new_phone, live_server):
    context = new_phone()
    page = context.new_page()
    sign_in(page)
    open_form_online(page)
    worker = service_worker(context)

    # Online, both the page and the service worker reach the server, and the log sees them:
    # so the checks below can tell "offline" from "not looking".
    mark = len(live_server.access_lines())
    assert page.evaluate(FETCH_SESSION) == "answered 200"
    assert worker.evaluate(FETCH_SESSION) == "answered 200"
    assert len(live_server.requests_since(mark, "/api/v1/session")) == 2

    context.set_offline(True)
    mark = live_server.quiet_mark()
    assert page.evaluate(FETCH_SESSION).startswith("failed")
    assert worker.evaluate(FETCH_SESSION).startswith("failed")
    # A navigation is answered by the service worker's copy, not by the server.
    page.goto("/incidents/new")
    assert page.locator("#incident-form").is_visible()
    page.evaluate("SaferSync.drain({ userId: document.body.dataset.userId })")
    seen = live_server.phone_requests_since(mark)
    assert seen == [], "the server saw the phone while it was offline:\n" + "\n".join(seen)

    context.set_offline(False)
    assert page.evaluate(FETCH_SESSION) == "answered 200"
    assert len(live_server.requests_since(mark, "/api/v1/session")) >= 1


def test_live_server_runs_on_the_migrated_schema(live_server):
    """The browser tests run on what `flask db upgrade` builds, as in production: no table had to
    be made from the models because a migration was missing."""
    assert live_server.tables_without_migration == []
