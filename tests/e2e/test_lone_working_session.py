"""Issue 3 in the browser: a lone-working session on the worker's phone, with and without signal.

- a check-in made with no signal waits on the phone, survives a reload with no signal (the status
  screen comes from this phone's memory, not from the server), and reaches the supervisor's board
  with both clocks when the signal returns;
- a finish with the duress PIN looks exactly like an ordinary finish on the phone, and shows as
  duress on the board.
"""
import re
import uuid

import pytest
from e2e_helpers import PASSWORD, SUPERVISOR, WORKER, WORKER2, screenshot, sign_in, user_id_of
from lw_e2e import (
    HERE,
    LoneWorkingRows,
    arm_saved,
    board_row,
    go_offline,
    open_lone_working_online,
    poll,
    start_session,
    submit,
    wait_for_saved,
    wait_outbox_empty,
    worker_phone,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def rows(database):
    return LoneWorkingRows(database)


def test_check_in_made_offline_waits_on_the_phone_survives_a_reload_and_reaches_the_board(
        new_phone, live_server, rows):
    context = worker_phone(new_phone)
    page = context.new_page()
    sign_in(page, WORKER)
    open_lone_working_online(page)
    assert page.locator("#lw-start").is_visible() and not page.locator("#lw-status").is_visible()
    screenshot(page, "lw-01-start-form")

    # Start with signal: sent at once, and the phone switches to the status screen by itself.
    started = start_session(page, "12 Elm Road", interval="5")
    assert started["sent"] is True
    session_id = started["id"]
    page.wait_for_selector("#lw-status", state="visible")
    assert not page.locator("#lw-start").is_visible()
    assert page.inner_text("#lw-status-title") == "Lone working: Central Library \u00b7 12 Elm Road"
    assert re.match(r"Next check-in due in 4 min \d\d s, at \d\d:\d\d$", page.inner_text("#lw-next-due"))
    stored = poll(lambda: rows.session(session_id))
    assert stored["status"] == "active" and stored["worker"] == WORKER and stored["place"] == "12 Elm Road"
    assert stored["latitude"] == pytest.approx(HERE["latitude"])   # the worker allowed location
    # The next event of this session carries its id and the next sequence number.
    assert page.input_value("#lw-check-in-form input[name=session_id]") == session_id
    assert page.input_value("#lw-check-in-form input[name=sequence]") == "1"
    # Five minutes to the first check-in: the phone vibrated and showed a reminder already.
    poll(lambda: page.evaluate("window.__vibrations.length") > 0)
    titles = poll(lambda: page.evaluate(
        "navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns => ns.map(n => n.title))"))
    assert titles == ["Check-in due in 5 minutes"]
    page.wait_for_selector('#lw-last-action[data-status="sent"]')
    assert page.inner_text("#lw-last-action").startswith("Started at ")

    # No signal (and the harness proves it): "I'm OK" is kept on the phone.
    mark = go_offline(context, page, live_server)
    checked = submit(page, "#lw-ok")
    assert checked["sent"] is False and checked["type"] == "check_in"
    assert checked["data"]["session_id"] == session_id and checked["data"]["sequence"] == "1"
    assert checked["data"]["latitude"] == f"{HERE['latitude']:.6f}"
    assert page.get_attribute("#submit-result", "data-outcome") == "saved"
    page.wait_for_selector('#lw-last-action[data-status="waiting"]')
    assert "waiting on this phone" in page.inner_text("#lw-last-action")
    screenshot(page, "lw-02-status-check-in-waiting")

    # A reload with no signal: the service worker's copy of the page was made before the session
    # started, yet the phone shows the running session, the check-in waiting, the next numbers.
    page.reload()
    assert page.locator("#lw-status").is_visible() and not page.locator("#lw-start").is_visible()
    page.wait_for_selector('#lw-last-action[data-status="waiting"]')
    assert page.inner_text("#lw-last-action").startswith("Checked in at ")
    assert re.match(r"Next check-in due in 4 min \d\d s", page.inner_text("#lw-next-due"))
    assert page.input_value("#lw-check-in-form input[name=session_id]") == session_id
    assert page.input_value("#lw-check-in-form input[name=sequence]") == "2"
    assert page.input_value("#lw-finish-form input[name=session_id]") == session_id
    assert live_server.phone_requests_since(mark) == [], "the server saw the phone while it was offline"
    assert rows.session(session_id)["last_check_in_at"] is None

    # Signal again: the check-in leaves the phone, the screen says so, the server has it once.
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_outbox_empty(page)
    page.wait_for_selector('#lw-last-action[data-status="sent"]')
    events = rows.events(session_id)
    assert [(e["kind"], e["sequence"]) for e in events] == [("session_started", 0), ("check_in", 1)]
    check_in = events[1]
    assert check_in["id"] == checked["id"]
    assert check_in["received_at"] > check_in["recorded_at"]   # made offline, received later
    assert check_in["data"]["latitude"] == pytest.approx(HERE["latitude"])

    # The supervisor's board (another phone) shows the check-in with both clocks.
    board = new_phone().new_page()
    sign_in(board, SUPERVISOR)
    board.goto("/supervise/")
    row = board_row(board, "Wendy Worker")
    text = row.inner_text()
    phone_clock = check_in["recorded_at"].astimezone(_london()).strftime("%H:%M")
    server_clock = check_in["received_at"].astimezone(_london()).strftime("%H:%M")
    assert re.search(rf"Last contact: .*{phone_clock} \(UTC\+0[01]:00\) \(phone\), "
                     rf"received .*{server_clock} \(server\)", text), text
    assert row.get_attribute("data-urgency") == "due_soon"   # 5-minute check-ins: always within 10 min
    assert "12 Elm Road" in text

    # Tidy: the worker finishes (this module's other test uses another worker).
    arm_saved(page)
    page.click("#lw-finish")
    assert wait_for_saved(page)["sent"] is True
    assert poll(lambda: rows.session(session_id)["status"] == "finished")


def _london():
    from zoneinfo import ZoneInfo
    return ZoneInfo("Europe/London")


FINISH_PIN, DURESS_PIN = "2468", "1357"


def _visible_outcome(page) -> str:
    """Everything the worker can see after finishing, with clock times blanked."""
    text = page.inner_text("body")
    return re.sub(r"\d\d:\d\d(:\d\d)?", "HH:MM", text)


def _start_and_finish(page, place: str, pin: str) -> tuple[str, str]:
    page.goto("/lone-working/")
    started = start_session(page, place, interval="30")
    assert started["sent"] is True
    page.reload()   # the status screen as the server renders it, as after any reopening of the app
    assert page.locator("#lw-status").is_visible()
    page.fill("#pin", pin)
    arm_saved(page)
    page.click("#lw-finish")
    finished = wait_for_saved(page)
    assert finished["sent"] is True and finished["type"] == "session_finished"
    page.wait_for_selector("#lw-finished", state="visible")
    return started["id"], _visible_outcome(page)


def test_a_duress_finish_looks_like_an_ordinary_finish_and_shows_as_duress_on_the_board(new_phone, rows):
    page = worker_phone(new_phone).new_page()
    sign_in(page, WORKER2)
    page.goto("/lone-working/pins")
    page.fill("#password", PASSWORD)
    page.fill("#finish_pin", FINISH_PIN)
    page.fill("#duress_pin", DURESS_PIN)
    page.click("#pins-form button[type=submit]")
    page.wait_for_url("**/lone-working/")
    assert user_id_of(page)

    normal_id, normal_screen = _start_and_finish(page, "Route 7, Mill Lane stop", FINISH_PIN)
    duress_id, duress_screen = _start_and_finish(page, "Route 7, Mill Lane stop", DURESS_PIN)

    # On the phone: word for word the same, and it says the worker is safe.
    assert duress_screen == normal_screen
    assert "Finished. Glad you are safe." in duress_screen
    assert page.locator("#lw-start").is_visible() and not page.locator("#lw-status").is_visible()
    assert page.get_attribute("#submit-result", "data-outcome") == "sent"

    # On the server: both sessions finished; only the second raised a (silent) duress alert.
    assert rows.session(normal_id)["status"] == "finished" and rows.session(duress_id)["status"] == "finished"
    assert [e["finish_pin"] for e in rows.events(normal_id) if e["kind"] == "session_finished"] == ["normal"]
    assert [e["finish_pin"] for e in rows.events(duress_id) if e["kind"] == "session_finished"] == ["duress"]
    assert [(a["kind"], a["session_id"]) for a in rows.alerts(kind="duress")] == [("duress", duress_id)]
    assert rows.alerts(session_id=uuid.UUID(normal_id)) == []

    # The board: the duress alarm is on top, named as duress.
    board = new_phone().new_page()
    sign_in(board, SUPERVISOR)
    board.goto("/supervise/")
    takeover = board.locator("#alarm-takeover")
    assert takeover.is_visible()
    item = takeover.locator('li[data-alert-kind="duress"]')
    assert item.count() == 1
    assert "DURESS" in item.inner_text() and "Will Walker" in item.inner_text()
    first_row = board.locator("#board-live li.board-row").first
    assert first_row.get_attribute("data-worker") == "Will Walker"
    assert first_row.get_attribute("data-urgency") == "alarm"
