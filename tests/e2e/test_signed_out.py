"""Sessions that end while records wait, and a phone shared between workers.

Scenario c, and pitfalls 2 (a login redirect taken for success), 4 (CSRF answering before the
sign-in check) and 12 (a shared phone) of docs/offline-sync.md.
"""
import pytest
from e2e_helpers import (
    KEPT_PAGES,
    PASSWORD,
    WORKER,
    WORKER2,
    kept_pages,
    open_form_online,
    outbox,
    queue_report_offline,
    screenshot,
    sign_in,
    user_id_of,
    wait_until,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

DRAIN = "SaferSync.drain({ userId: document.body.dataset.userId })"


def _signed_in_phone(new_phone, email=WORKER):
    context = new_phone()
    page = context.new_page()
    sign_in(page, email)
    open_form_online(page)
    return context, page


def test_session_expiring_while_reports_wait_loses_nothing_and_they_send_as_the_same_worker(new_phone, database):
    """Scenario c."""
    context, page = _signed_in_phone(new_phone)
    description = "Scenario c: a man blocked the van door at the stop."
    result = queue_report_offline(context, page, description)

    context.clear_cookies()                    # the session ends while the phone has no signal
    context.set_offline(False)
    status = page.locator("#outbox-status")
    expect(status).to_have_attribute("data-state", "signed-out")
    expect(page.locator("#outbox-message")).to_have_text("Sign in to send 1 report")
    expect(page.locator("#send-now")).to_be_hidden()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "05-signed-out-prompt")
    [kept] = outbox(page)
    assert kept["id"] == result["id"] and kept["status"] == "pending"
    assert database.incidents(description) == []

    page.click("#outbox-message a")
    page.wait_for_url("**/auth/sign-in?next=%2Fincidents%2Fnew")
    expect(page.locator("#phone-waiting-note")).to_contain_text("1 report is waiting on this phone")
    page.fill("#email", WORKER)
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/incidents/new")      # back where the worker was; page load sends it
    expect(status).to_have_attribute("data-state", "empty")
    assert outbox(page) == []
    [stored] = database.incidents(description)
    assert stored["id"] == result["id"] and stored["reporter"] == WORKER


def test_signed_out_api_answers_401_json_never_a_redirect_to_a_sign_in_page(new_phone, database):
    """Pitfall 2: neither the server's answer nor a redirect (as a proxy might send) is taken for success."""
    context, page = _signed_in_phone(new_phone)
    description = "Pitfall 2: a reader swore at staff at the counter."
    result = queue_report_offline(context, page, description)

    # A redirect to the sign-in page (which a fetch following it would see as a 200 page).
    context.route("**/api/v1/sync", lambda route: route.fulfill(status=302, headers={"Location": "/auth/sign-in"}))
    context.set_offline(False)
    summary = page.evaluate(DRAIN)
    assert summary["state"] == "error" and summary["sent"] == 0 and summary["waiting"] == 1
    [kept] = outbox(page)
    assert kept["status"] == "pending" and kept["attempts"] >= 1 and "redirect" in kept["last_error"]
    context.unroute("**/api/v1/sync")

    context.clear_cookies()
    # The server itself: a signed-out fetch that follows redirects still gets 401 JSON.
    answers = page.evaluate("""async (record) => {
        const ask = (url, options) => fetch(url, options).then(async response => ({
            status: response.status, redirected: response.redirected,
            type: response.headers.get('Content-Type'), body: await response.json() }));
        return [
            await ask('/api/v1/session', {}),
            await ask('/api/v1/sync', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ sent_at: SaferOutbox.isoWithOffset(new Date()), records: [record] }) }),
        ];
    }""", {k: result["record"][k] for k in ("id", "type", "schema_version", "recorded_at", "data")})
    for answer in answers:
        assert answer["status"] == 401 and answer["redirected"] is False
        assert answer["type"].startswith("application/json") and answer["body"]["error"]["code"] == "signed_out"

    summary = page.evaluate(DRAIN)
    assert summary["state"] == "signed-out" and summary["waiting"] == 1
    page.reload()                              # signed out: the server sends the sign-in page
    page.wait_for_url("**/auth/sign-in**")
    sign_in(page)
    wait_until(page, "() => SaferOutbox.list().then(records => records.length === 0)")
    [stored] = database.incidents(description)
    assert stored["id"] == result["id"] and stored["reporter"] == WORKER


def test_expired_session_is_told_to_sign_in_before_any_csrf_check(new_phone, database):
    """Pitfall 4: a stale token and no session: 401 "signed out", not a CSRF 400; the record stays."""
    context, page = _signed_in_phone(new_phone)
    token = page.evaluate("fetch('/api/v1/session').then(r => r.json()).then(s => s.csrf_token)")
    description = "Pitfall 4: threats made outside the branch."
    result = queue_report_offline(context, page, description)
    context.clear_cookies()
    context.set_offline(False)

    record = {k: result["record"][k] for k in ("id", "type", "schema_version", "recorded_at", "data")}
    answers = page.evaluate("""async ([record, token]) => {
        const send = headers => fetch('/api/v1/sync', { method: 'POST',
            headers: Object.assign({ 'Content-Type': 'application/json' }, headers),
            body: JSON.stringify({ sent_at: SaferOutbox.isoWithOffset(new Date()), records: [record] }) })
            .then(async response => ({ status: response.status, body: await response.json() }));
        return [await send({ 'X-CSRFToken': token }), await send({ 'X-CSRFToken': 'not-a-token' }), await send({})];
    }""", [record, token])
    assert [a["status"] for a in answers] == [401, 401, 401]
    assert {a["body"]["error"]["code"] for a in answers} == {"signed_out"}

    expect(page.locator("#outbox-status")).to_have_attribute("data-state", "signed-out")
    [kept] = outbox(page)
    assert kept["id"] == result["id"] and kept["status"] == "pending" and kept["errors"] is None
    assert database.incidents(description) == []


def test_shared_phone_never_sends_one_workers_records_as_another_and_forgets_their_pages(
        new_phone, live_server, database):
    """Pitfall 12: A queues a report and signs out (warned), B signs in: A's report is never sent as B."""
    context, page = _signed_in_phone(new_phone, WORKER)
    worker_a = user_id_of(page)
    description = "Pitfall 12: Wendy's report, made on the shared phone."
    result = queue_report_offline(context, page, description)
    assert sorted(kept_pages(page)) == sorted(KEPT_PAGES)

    # Signal for pages, but sending fails (A's record must still be waiting when A signs out).
    context.route("**/api/v1/sync", lambda route: route.abort("connectionreset"))
    context.set_offline(False)
    page.goto("/")
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.click("#sign-out-form button[type=submit]")
    page.wait_for_url("**/auth/sign-in?signed_out=1")
    assert dialogs == ["1 record is still waiting on this phone. It stays here and sends the next time you sign in. "
                       "Sign out anyway?"]
    wait_until(page, "() => caches.keys().then(names => !names.some(n => n.startsWith('safer-pages-')))")
    assert kept_pages(page) == []
    context.unroute("**/api/v1/sync")

    # With no signal, A's form is no longer on the phone: the next person gets the offline page.
    context.set_offline(True)
    page.goto("/incidents/new")
    expect(page.locator("h1")).to_have_text("No signal")
    assert "Wendy" not in page.content()
    expect(page.locator("#outbox-message")).to_have_text(
        "1 report waiting on this phone — they send when you have signal and are signed in")
    screenshot(page, "08-offline-page-after-sign-out")
    context.set_offline(False)

    mark = len(live_server.access_lines())
    sign_in(page, WORKER2)
    open_form_online(page)
    page.goto("/waiting")
    expect(page.locator("#outbox-status")).to_have_attribute("data-state", "empty")
    expect(page.locator("#waiting-list .others")).to_have_text(
        "1 record made by someone else also waits on this phone. It sends when that person signs in.")
    assert page.evaluate(DRAIN)["state"] == "nothing"
    assert live_server.requests_since(mark, "POST /api/v1/sync") == []
    assert database.incidents(description) == []
    [kept] = outbox(page)
    assert kept["id"] == result["id"] and kept["user_id"] == worker_a

    # B has nothing waiting: signing out asks nothing. Then A signs in and it goes, as A.
    page.goto("/")
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.click("#sign-out-form button[type=submit]")
    page.wait_for_url("**/auth/sign-in?signed_out=1")
    assert len(dialogs) == 1
    sign_in(page, WORKER)
    wait_until(page, "() => SaferOutbox.list().then(records => records.length === 0)")
    [stored] = database.incidents(description)
    assert stored["id"] == result["id"] and stored["reporter"] == WORKER
