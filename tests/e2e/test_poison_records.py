"""Issue 6 point 1 on the phone: one record the server cannot store never holds back an alarm, nor
anything else.

- the alarm goes first, in a batch of its own, so a batch the server fails cannot take it down;
- a batch the server fails as a whole (500) is sent again record by record in the same drain:
  every record but the bad one is stored, and the bad one stays on the phone, shown in the
  waiting list with the server's words;
- a 200 answer saying "error" for one record keeps that record (never deleted), shows the
  server's words, and removes the others; on the next drain it goes after the others.

The server's failures are injected with context.route (which sees the service worker's requests
too); everything else reaches the real server.
"""
import json
import time
import uuid

import pytest
from e2e_helpers import (
    KEPT_PAGES,
    SUPERVISOR,
    WORKER,
    WORKER2,
    fill_incident,
    open_form_online,
    outbox,
    screenshot,
    sign_in,
    submit_incident,
    user_id_of,
    wait_until,
)
from lw_e2e import (
    LW_PAGES,
    LoneWorkingRows,
    arm_saved,
    go_offline,
    open_lone_working_online,
    poll,
    start_session,
    submit,
    wait_for_saved,
    worker_phone,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

SYNC = "**/api/v1/sync"
POISON_WORDS = "Something went wrong on the server storing this record (reference E2E-7F3A)."
ERROR_WORDS = "The server could not store this record. Nothing was lost on your phone (reference E2E-R42)."
ONLY = """([user, ids]) => SaferOutbox.list(user).then(rs => rs.length === ids.length &&
    rs.every(r => ids.includes(r.id)))"""


@pytest.fixture(scope="module")
def rows(database):
    return LoneWorkingRows(database)


class SyncRecorder:
    """Every POST /api/v1/sync the phone (page or service worker) makes: the ids in each body,
    in the order posted. `answer(route, ids)` answers it, or None lets it through to the server."""

    def __init__(self, context, answer=None):
        self.bodies: list[list[str]] = []
        self.answer = answer
        context.route(SYNC, self._handle)

    def _handle(self, route):
        ids = [record["id"] for record in json.loads(route.request.post_data)["records"]]
        self.bodies.append(ids)
        if not (self.answer and self.answer(route, ids)):
            route.continue_()


def _wait_for_kept(page, paths) -> None:
    wait_until(page, """async (wanted) => {
        const paths = [];
        for (const name of (await caches.keys()).filter(n => n.startsWith('safer-pages-'))) {
            for (const request of await (await caches.open(name)).keys()) paths.push(new URL(request.url).pathname);
        }
        return wanted.every(path => paths.includes(path));
    }""", list(paths), timeout=20)


def _hold_alarm(page) -> dict:
    """From the lone-working page: "I need help", press and hold; answer the saved alarm."""
    page.click("#lw-help")
    page.wait_for_selector("#lw-alarm-button.lw-hold")
    arm_saved(page)
    page.locator("#lw-alarm-button").hover()
    page.mouse.down()
    time.sleep(3.6)
    page.mouse.up()
    return wait_for_saved(page)


def test_a_record_the_server_cannot_store_never_holds_back_the_alarm_or_the_records_after_it(
        new_phone, live_server, rows, database):
    context = worker_phone(new_phone)
    page = context.new_page()
    sign_in(page, WORKER)
    open_lone_working_online(page)
    _wait_for_kept(page, KEPT_PAGES + LW_PAGES)
    user = user_id_of(page)

    # No signal: a session start, two check-ins, an incident report, then the alarm.
    go_offline(context, page, live_server)
    start = start_session(page, "4 Mill Lane", interval="30")
    first_check_in = submit(page, "#lw-ok")
    second_check_in = submit(page, "#lw-ok")
    assert [start["sent"], first_check_in["sent"], second_check_in["sent"]] == [False, False, False]
    assert first_check_in["data"]["session_id"] == second_check_in["data"]["session_id"] == start["id"]
    page.goto("/incidents/new")
    description = "Poison records: a reader threw a chair at the door while the worker was alone."
    fill_incident(page, description)
    incident = submit_incident(page)
    assert incident["outcome"] == "saved"
    page.goto("/lone-working/")
    alarm = _hold_alarm(page)
    assert alarm["type"] == "alarm_raised" and alarm["sent"] is False
    assert alarm["data"]["session_id"] == start["id"]
    assert len(outbox(page, user)) == 5

    # The server cannot store the first check-in: any batch holding it fails as a whole (500).
    poison = first_check_in["id"]

    def fail_the_batch_with_the_poison(route, ids):
        if poison not in ids:
            return False
        route.fulfill(status=500, content_type="application/json",
                      body=json.dumps({"error": {"code": "server_error", "message": POISON_WORDS}}))
        return True

    recorder = SyncRecorder(context, fail_the_batch_with_the_poison)
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_until(page, ONLY, [user, [poison]], timeout=30)

    # The alarm went first, in a batch of its own; the rest, after it.
    others = [start["id"], poison, second_check_in["id"], incident["id"]]
    assert recorder.bodies[0] == [alarm["id"]], recorder.bodies
    assert sorted(recorder.bodies[1]) == sorted(others), recorder.bodies
    # That batch failed as a whole: its records were sent again one by one, in the same drain.
    for record_id in (start["id"], second_check_in["id"], incident["id"]):
        assert [record_id] in recorder.bodies[2:], recorder.bodies

    # The alarm reached the server and the supervisor's board.
    assert rows.event(alarm["id"])["kind"] == "alarm_raised"
    [alert] = rows.alerts(kind="alarm", session_id=uuid.UUID(start["id"]))
    board = new_phone().new_page()
    sign_in(board, SUPERVISOR)
    board.goto("/supervise/")
    expect(board.locator(f'#alarm-takeover li[data-alert-id="{alert["id"]}"]')).to_contain_text("ALARM")
    screenshot(board, "poison-01-board-with-alarm")

    # Every other record is stored; the poison is not, and stays on the phone.
    assert rows.event(start["id"])["kind"] == "session_started"
    assert rows.event(second_check_in["id"])["kind"] == "check_in"
    [stored] = database.incidents(description)
    assert stored["id"] == incident["id"] and stored["reporter"] == WORKER
    assert rows.event(poison) is None and database.receipt_count(poison) == 0
    [kept] = outbox(page, user)
    assert kept["id"] == poison and kept["status"] == "pending"
    assert kept["failed_alone"] is True and kept["attempts"] >= 1
    assert POISON_WORDS in kept["last_error"]

    # The worker sees it waiting, with the server's words.
    page.goto("/waiting")
    item = page.locator(f'.waiting-item[data-record-id="{poison}"]')
    expect(item).to_have_attribute("data-status", "pending")
    expect(item).to_have_attribute("data-failed-alone", "true")
    expect(item.locator("h2")).to_have_text("Check-in (I’m OK)")
    expect(item.locator(".status")).to_contain_text("the server could not store this one")
    expect(item.locator(".server-words")).to_have_text("The server said: The server answered 500. " + POISON_WORDS)
    expect(page.locator(".waiting-item")).to_have_count(1)
    screenshot(page, "poison-02-waiting-with-server-words")

    # Once the server can store it, it goes, and nothing is stored twice.
    recorder.answer = None
    summary = page.evaluate("SaferSync.drain({ userId: document.body.dataset.userId })")
    assert summary["state"] in ("sent", "nothing")
    wait_until(page, ONLY, [user, []])
    assert rows.event(poison)["kind"] == "check_in"
    assert all(database.receipt_count(i) == 1 for i in [alarm["id"], *others])


def test_a_200_answer_saying_error_for_one_record_keeps_it_with_the_servers_words_and_it_goes_last_next_time(
        new_phone, database):
    context = new_phone()
    page = context.new_page()
    sign_in(page, WORKER2)
    open_form_online(page)
    user = user_id_of(page)

    context.set_offline(True)
    page.goto("/incidents/new")
    made = []
    for n in range(3):
        fill_incident(page, f"Error result {n}: shouting at the counter.")
        result = submit_incident(page)
        assert result["outcome"] == "saved"
        made.append(result["id"])
    bad = made[1]

    # The server (as changed for issue 6) stores the rest of the batch and answers "error" for
    # the record it could not store, in a 200.
    def error_for_one(route, ids):
        if bad not in ids:
            return False
        body = json.loads(route.request.post_data)
        rest = [record for record in body["records"] if record["id"] != bad]
        stored = {}
        if rest:
            response = route.fetch(post_data=json.dumps({**body, "records": rest}))
            assert response.status == 200, response.text()
            stored = {result["id"]: result for result in response.json()["results"]}
        results = [stored[i] if i != bad else {"id": bad, "status": "error", "message": ERROR_WORDS,
                                               "reference": "E2E-R42"} for i in ids]
        route.fulfill(status=200, content_type="application/json",
                      body=json.dumps({"results": results, "server_time": "2026-01-01T00:00:00+00:00"}))
        return True

    recorder = SyncRecorder(context, error_for_one)
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_until(page, ONLY, [user, [bad]], timeout=30)
    assert sorted(recorder.bodies[0]) == sorted(made)   # one batch: the server answered each record

    # The others are stored and gone from the phone; the bad one stays, pending, with the words.
    for n, record_id in enumerate(made):
        found = database.incidents(f"Error result {n}: shouting at the counter.")
        assert [i["id"] for i in found] == ([] if record_id == bad else [record_id])
    [kept] = outbox(page, user)
    assert kept["id"] == bad and kept["status"] == "pending" and kept["failed_alone"] is True
    assert kept["last_error"] == ERROR_WORDS and kept["error_reference"] == "E2E-R42"
    expect(page.locator("#outbox-message")).to_contain_text("1 report waiting on this phone")

    page.goto("/waiting")
    item = page.locator(f'.waiting-item[data-record-id="{bad}"]')
    expect(item).to_have_attribute("data-status", "pending")
    expect(item.locator(".server-words")).to_have_text("The server said: " + ERROR_WORDS)
    expect(item).to_contain_text("Error result 1: shouting at the counter.")
    expect(page.locator(".waiting-item")).to_have_count(1)
    screenshot(page, "poison-03-waiting-error-result")

    # The next report goes first, in a batch without the one the server could not store, which
    # follows it in the same drain.
    page.goto("/incidents/new")
    fill_incident(page, "Error result 3: sent after the first three.")
    newer = submit_incident(page)
    wait_until(page, ONLY, [user, [bad]], timeout=30)
    assert [newer["id"]] in recorder.bodies, recorder.bodies
    after = recorder.bodies.index([newer["id"]]) + 1
    poll(lambda: len(recorder.bodies) > after)
    assert recorder.bodies[after] == [bad], recorder.bodies
    assert [i["id"] for i in database.incidents("Error result 3: sent after the first three.")] == [newer["id"]]
    [still] = outbox(page, user)
    assert still["id"] == bad and still["attempts"] >= 2
