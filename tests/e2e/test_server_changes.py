"""The server changes under a phone that has records waiting: its clock moves on, a new version ships.

Pitfalls 3 (a CSRF token frozen into the queued request) and 11 (a new app version while the
outbox holds old-format records). Each test restarts this module's server with other settings
and puts it back afterwards.
"""
import re
import time
import uuid

import pytest
from e2e_helpers import WORKER, kept_pages, open_form_online, outbox, queue_report_offline, sign_in, wait_until
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

SHELL_VERSIONS = """() => caches.keys().then(names => names.filter(n => n.startsWith('safer-shell-'))
    .map(n => n.slice('safer-shell-'.length)))"""


@pytest.fixture
def restore_server(live_server):
    yield live_server
    live_server.restart()


def test_token_is_fetched_when_sending_so_an_expired_page_token_does_not_block_the_outbox(
        new_phone, restore_server, database):
    """Pitfall 3: the page's CSRF token has expired by the time signal returns; the record still goes."""
    context = new_phone()
    page = context.new_page()
    sign_in(page)
    open_form_online(page)
    description = "Pitfall 3: sent long after the form's token expired."
    result = queue_report_offline(context, page, description)
    page_token = page.input_value("#incident-form input[name=csrf_token]")

    restore_server.restart(WTF_CSRF_TIME_LIMIT="2")
    time.sleep(3)                              # the clock moves past the token's time limit
    # Hold the outbox back (only the stale-token request below gets through) until it is checked.
    context.route("**/api/v1/sync", lambda route: route.continue_()
                  if route.request.headers.get("x-csrftoken") == page_token else route.abort("connectionreset"))
    context.set_offline(False)

    # The token the page was rendered with is refused now...
    stale = page.evaluate("""async (token) => {
        const response = await fetch('/api/v1/sync', { method: 'POST',
            headers: { 'Content-Type': 'application/json', 'X-CSRFToken': token },
            body: JSON.stringify({ sent_at: SaferOutbox.isoWithOffset(new Date()), records: [] }) });
        return { status: response.status, body: await response.json() };
    }""", page_token)
    assert stale["status"] == 400 and stale["body"]["error"]["code"] == "csrf_failed"

    # ...and the outbox, which asks for a fresh token each time it sends, goes through.
    context.unroute("**/api/v1/sync")
    page.evaluate("SaferSync.drain({ userId: document.body.dataset.userId })")
    page.reload()
    expect(page.locator("#outbox-status")).to_have_attribute("data-state", "empty")
    [stored] = database.incidents(description)
    assert stored["id"] == result["id"] and stored["reporter"] == WORKER
    # Nothing in the outbox ever held a token.
    assert "csrf" not in str(result["record"]).lower()


def test_new_version_accepts_queued_old_format_records_and_never_shows_the_old_cached_form(
        new_phone, restore_server, database):
    """Pitfall 11: a record of schema 1 made by the old version is sent after a deploy; the old
    pages cache is gone, and the form served (online and offline) is the new one."""
    context = new_phone()
    page = context.new_page()
    sign_in(page)
    open_form_online(page)
    [old_version] = page.evaluate(SHELL_VERSIONS)
    description = "Pitfall 11: made by the old version of the app."
    result = queue_report_offline(context, page, description)
    assert result["record"]["schema_version"] == 1

    restore_server.restart(ASSET_VERSION=f"e2e-deploy-{uuid.uuid4().hex[:6]}")
    # The outbox must not send before the new version has taken over: hold the API until then.
    context.route("**/api/v1/**", lambda route: route.abort("connectionreset"))
    context.set_offline(False)
    page.goto("/incidents/new")                # a navigation makes the browser check /sw.js
    new_version_active = f"() => ({SHELL_VERSIONS})().then(v => v.length === 1 && v[0] !== '{old_version}')"
    try:
        wait_until(page, new_version_active, timeout=20)
    except AssertionError:
        # Chromium activates a waiting worker (even one that called skipWaiting) only once the
        # old worker has no event in flight; now and then one lingers. A worker who closes and
        # reopens the app gets the new version then, and so must this phone.
        page.close()
        page = context.new_page()
        page.goto("/incidents/new")
        wait_until(page, new_version_active, timeout=40)
    [new_version] = page.evaluate(SHELL_VERSIONS)
    assert not any(old_version in name for name in page.evaluate("caches.keys()"))
    assert outbox(page)[0]["id"] == result["id"]

    context.unroute("**/api/v1/**")
    page.reload()
    expect(page.locator("#outbox-status")).to_have_attribute("data-state", "empty")
    [stored] = database.incidents(description)
    assert stored["id"] == result["id"] and stored["schema_version"] == 1

    # The page served after the update is the new version, online and from the cache.
    stylesheet = page.locator('link[rel="stylesheet"][href*="app.css"]')
    expect(stylesheet).to_have_attribute("href", re.compile(f"v={new_version}"))
    wait_until(page, "() => navigator.serviceWorker.controller && navigator.serviceWorker.controller.scriptURL"
                     ".endsWith('/sw.js')")
    wait_until(page, "() => caches.keys().then(n => n.some(x => x.startsWith('safer-pages-')))")
    assert "/incidents/new" in kept_pages(page)
    context.set_offline(True)
    page.goto("/incidents/new")
    expect(page.locator("#incident-form")).to_be_visible()
    expect(stylesheet).to_have_attribute("href", re.compile(f"v={new_version}"))
    assert f"v={old_version}" not in page.content()
