"""When sending goes wrong: errors, lost answers, two senders, conflicts, captive portals.

Pitfalls 1, 5 (scenario b), 6, 7 and 9 of docs/offline-sync.md. Answers the server "gives" are
injected with context.route, which catches the service worker's requests too.
"""
import json
import uuid

import pytest
from e2e_helpers import (
    WORKER,
    fill_incident,
    open_form_online,
    outbox,
    queue_report_offline,
    sign_in,
    submit_incident,
    user_id_of,
    wait_until,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

SYNC = "**/api/v1/sync"
SESSION = "**/api/v1/session"


def _signed_in_phone(new_phone):
    context = new_phone()
    page = context.new_page()
    sign_in(page)
    open_form_online(page)
    return context, page


def _json(status: int, body: dict) -> dict:
    return {"status": status, "content_type": "application/json", "body": json.dumps(body)}


def _answer_with(answer: dict):
    def handler(route):
        route.fulfill(**answer)
    return handler


def test_server_errors_keep_the_record_until_the_server_stores_it_once(new_phone, database):
    """Pitfall 1: a 500, then a 400, delete nothing; after recovery exactly one row exists."""
    context, page = _signed_in_phone(new_phone)
    description = "Pitfall 1: shouting in the children's area."
    result = queue_report_offline(context, page, description)

    answers = []

    def failing_server(route):
        status = 500 if not answers else 400
        answers.append(status)
        route.fulfill(**_json(status, {"error": {"code": "x", "message": f"injected {status}"}}))

    context.route(SYNC, failing_server)
    context.set_offline(False)                 # the 'online' event sends: the server answers 500
    wait_until(page, "id => SaferOutbox.get(id).then(r => r && r.attempts >= 1)", result["id"])
    page.click("#send-now")                    # and again: 400
    wait_until(page, "n => SaferOutbox.list().then(([r]) => r && r.attempts >= n)", len(answers) + 1)
    assert answers[:2] == [500, 400]

    [kept] = outbox(page)
    assert kept["id"] == result["id"] and kept["status"] == "pending"
    assert kept["attempts"] >= 2 and "400" in kept["last_error"]
    expect(page.locator("#outbox-status")).to_have_attribute("data-state", "waiting")
    expect(page.locator("#outbox-message")).to_contain_text("1 report waiting on this phone")
    assert database.incidents(description) == []

    context.unroute(SYNC)                      # the server recovers
    page.evaluate("SaferSync.drain({ userId: document.body.dataset.userId })")
    page.reload()
    expect(page.locator("#outbox-status")).to_have_attribute("data-state", "empty")
    assert outbox(page) == []
    [stored] = database.incidents(description)
    assert stored["id"] == result["id"] and stored["reporter"] == WORKER
    assert database.receipt_count(result["id"]) == 1


def test_answer_lost_after_the_server_stored_it_is_retried_and_stored_once(new_phone, database):
    """Scenario b / pitfall 5: the server commits, the connection drops before the answer."""
    context, page = _signed_in_phone(new_phone)
    answers = []

    def drop_first_answer(route):
        response = route.fetch()               # the request reaches the server, which stores it
        answers.append(response.json())
        if len(answers) == 1:
            route.abort("connectionreset")     # ...and the phone never hears back
        else:
            route.fulfill(response=response)

    context.route(SYNC, drop_first_answer)
    description = "Pitfall 5: a reader filmed staff and would not stop."
    fill_incident(page, description, kinds=("filming",))
    result = submit_incident(page)

    # The phone could not know it arrived: it says saved, and keeps it.
    assert result["outcome"] == "saved"
    assert answers[0]["results"] == [{"id": result["id"], "status": "created"}]
    assert len(database.incidents(description)) == 1
    # Kept after the lost answer, unless a retry (Background Sync fires at once while online) has
    # already been answered "duplicate" and removed it: either way it was never lost.
    kept = outbox(page)
    assert kept == [] or ([r["id"] for r in kept] == [result["id"]] and kept[0]["attempts"] >= 1), kept

    # The retry: whichever comes first, Background Sync in the service worker or this drain.
    page.evaluate("SaferSync.drain({ userId: document.body.dataset.userId })")
    page.reload()
    expect(page.locator("#outbox-status")).to_have_attribute("data-state", "empty")
    assert answers[1]["results"] == [{"id": result["id"], "status": "duplicate"}]
    assert outbox(page) == []
    assert len(database.incidents(description)) == 1
    assert database.receipt_count(result["id"]) == 1


def test_two_senders_at_once_store_one_row(new_phone, database):
    """Pitfall 6: the same record sent in parallel (and a tab and the service worker draining at once)."""
    context, page = _signed_in_phone(new_phone)
    branch = database.branch_id()
    record = {"id": str(uuid.uuid4()), "type": "incident", "schema_version": 1,
              "recorded_at": page.evaluate("SaferOutbox.isoWithOffset(new Date())"),
              "data": {"occurred_at": page.evaluate("SaferOutbox.isoWithOffset(new Date(Date.now() - 600000))"),
                       "branch_id": branch, "location": "counter", "kinds": ["aggressive"], "severity": "low",
                       "description": "Pitfall 6: sent five times at once."}}
    answers = page.evaluate("""async (record) => {
        const session = await (await fetch('/api/v1/session')).json();
        const body = JSON.stringify({ sent_at: SaferOutbox.isoWithOffset(new Date()), records: [record] });
        const send = () => fetch('/api/v1/sync', { method: 'POST', body,
            headers: { 'Content-Type': 'application/json', 'X-CSRFToken': session.csrf_token } })
            .then(response => response.json());
        return Promise.all([send(), send(), send(), send(), send()]);
    }""", record)
    statuses = sorted(answer["results"][0]["status"] for answer in answers)
    assert statuses == ["created", "duplicate", "duplicate", "duplicate", "duplicate"]
    assert len(database.incidents("Pitfall 6: sent five times at once.")) == 1

    # The page and the service worker drain the same outbox at the same moment.
    description = "Pitfall 6: drained by the page and the service worker together."
    added = page.evaluate("""([data, user]) => SaferOutbox.add({ type: 'incident', data, user_id: user })""",
                          [{**record["data"], "description": description}, user_id_of(page)])
    summaries = page.evaluate("""() => Promise.all([
        SaferSync.drain({ userId: document.body.dataset.userId }),
        new Promise(resolve => {
            const channel = new MessageChannel();
            channel.port1.onmessage = event => resolve(event.data);
            navigator.serviceWorker.controller.postMessage({ type: 'drain' }, [channel.port2]);
        }),
    ])""")
    assert all(summary["state"] in ("sent", "nothing") for summary in summaries)
    assert sum(summary["sent"] for summary in summaries) >= 1
    assert all(summary["rejected"] == 0 for summary in summaries)
    assert outbox(page) == []
    [stored] = database.incidents(description)
    assert stored["id"] == added["id"]


def test_same_id_with_other_content_is_refused_as_a_conflict_and_nothing_is_overwritten(new_phone, database):
    """Pitfall 7: a resent id with changed content is rejected; the stored report stays as it was."""
    context, page = _signed_in_phone(new_phone)
    description = "Pitfall 7: the original words."
    fill_incident(page, description)
    result = submit_incident(page)
    assert result["outcome"] == "sent"
    expect(page.locator("#submit-outcome")).to_have_text("Sent")
    # Once sent, nothing of it is left on the phone to edit.
    assert page.evaluate("id => SaferOutbox.get(id)", result["id"]) is None

    changed = {**result["record"]["data"], "description": "Pitfall 7: words changed afterwards."}
    page.evaluate("""([id, data, user]) => SaferOutbox.add({ id, type: 'incident', data, user_id: user })""",
                  [result["id"], changed, user_id_of(page)])
    page.reload()                              # page load sends what waits
    wait_until(page, "id => SaferOutbox.get(id).then(r => r && r.status === 'rejected')", result["id"])

    [refused] = outbox(page)
    assert refused["conflict"] is True and "different record" in refused["errors"]["id"][0]
    [stored] = database.incidents(description)
    assert stored["id"] == result["id"]
    assert database.incidents("Pitfall 7: words changed afterwards.") == []
    # Adding the same id again on the phone is refused too (the outbox never overwrites).
    error = page.evaluate("""([id, data, user]) => SaferOutbox.add({ id, type: 'incident', data, user_id: user })
        .then(() => 'overwritten', e => e.name)""", [result["id"], changed, user_id_of(page)])
    assert error == "ConstraintError"

    expect(page.locator("#outbox-status")).to_have_attribute("data-state", "rejected")
    expect(page.locator("#outbox-message")).to_have_text("1 report needs your attention")
    page.click("#outbox-message a")
    page.wait_for_url("**/waiting")
    item = page.locator(f'.waiting-item[data-record-id="{result["id"]}"]')
    expect(item).to_have_attribute("data-status", "rejected")
    expect(item.locator(".errors")).to_contain_text("A different record with this id was already received")
    expect(item.locator(".fix-link")).to_have_text("Send as a new report")


def test_a_captive_portal_or_fallback_page_is_not_taken_for_signal(new_phone, live_server, database):
    """Pitfall 9: the session check answered by an HTML page (200), a redirect, or JSON that is not ours."""
    context, page = _signed_in_phone(new_phone)
    offline_page = page.evaluate("caches.match('/offline').then(response => response.text())")
    assert "No signal" in offline_page
    description = "Pitfall 9: someone shouted in the toilets."
    result = queue_report_offline(context, page, description)

    portals = [
        {"status": 200, "content_type": "text/html", "body": offline_page},
        {"status": 302, "headers": {"Location": "http://portal.example/login"}},
        _json(200, {"welcome": "Free Wi-Fi", "user": None}),
    ]
    for answer in portals:
        context.route(SESSION, _answer_with(answer))
        context.set_offline(False)
        mark = len(live_server.access_lines())
        summary = page.evaluate("SaferSync.drain({ userId: document.body.dataset.userId })")
        assert summary["state"] == "offline" and summary["sent"] == 0 and summary["waiting"] == 1
        assert live_server.requests_since(mark, "/api/v1/sync") == [], "it sent to a portal"
        [kept] = outbox(page)
        assert kept["id"] == result["id"] and kept["status"] == "pending"
        context.unroute(SESSION)
        context.set_offline(True)

    page.reload()
    expect(page.locator("#outbox-status")).to_have_attribute("data-state", "offline")
    assert database.incidents(description) == []
    context.set_offline(False)                 # real signal
    expect(page.locator("#outbox-status")).to_have_attribute("data-state", "empty", timeout=20000)
    assert len(database.incidents(description)) == 1


def test_outbox_sends_most_urgent_first_in_batches_of_fifty(new_phone, database):
    """Alarm-like records (priority 0) go before older ordinary ones; 60 records go as 50 + 10."""
    context, page = _signed_in_phone(new_phone)
    branch = database.branch_id()
    bodies = []

    def capture(route):
        bodies.append(json.loads(route.request.post_data))
        route.continue_()

    context.route(SYNC, capture)
    page.evaluate("""async ([branch, user]) => {
        const data = n => ({ occurred_at: SaferOutbox.isoWithOffset(new Date(Date.now() - 60000)), branch_id: branch,
                             location: 'outside', kinds: ['other'], severity: 'low', description: 'Batch ' + n });
        for (let n = 0; n < 59; n++) await SaferOutbox.add({ type: 'incident', data: data(n), user_id: user });
        await SaferOutbox.add({ type: 'incident', data: data('urgent'), user_id: user, priority: 0 });
    }""", [branch, user_id_of(page)])
    summary = page.evaluate("SaferSync.drain({ userId: document.body.dataset.userId })")

    assert summary == {"state": "sent", "sent": 60, "rejected": 0, "waiting": 0, "user_id": user_id_of(page)}
    assert [len(body["records"]) for body in bodies] == [50, 10]
    assert bodies[0]["records"][0]["data"]["description"] == "Batch urgent"
    assert [r["data"]["description"] for r in bodies[0]["records"][1:4]] == ["Batch 0", "Batch 1", "Batch 2"]
    assert len(database.incidents()) >= 60
