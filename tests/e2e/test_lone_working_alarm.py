"""Issue 3 in the browser: "I need help" with no signal, and the supervisor's live board.

- the alarm is protected against pocket presses (press and hold about 3 s; letting go early
  cancels and says so, with the keyboard as with a finger);
- raised with no signal, it waits on the phone first in line, and the screen offers what still
  works: tel: links to 999 and the duty contact, an sms: link with who, where and coordinates;
- with signal again it reaches the server and takes over the top of the supervisor's board;
- the board refreshes itself (a new alarm appears without a reload) without losing what the
  supervisor is typing.
"""
import time
import uuid
from urllib.parse import quote

import pytest
from e2e_helpers import SUPERVISOR, WORKER, WORKER2, outbox, screenshot, sign_in, wait_until
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

DUTY_PHONE = "+447700900123"   # the demo service's duty manager (shown on the alarm screen)


@pytest.fixture(scope="module")
def rows(database):
    return LoneWorkingRows(database)


def _hold(page, seconds: float, screenshot_name: str | None = None) -> None:
    """Press and hold the alarm button with a finger-like pointer, then let go."""
    page.locator("#lw-alarm-button").hover()
    page.mouse.down()
    if screenshot_name:
        time.sleep(1.3)
        screenshot(page, screenshot_name)
        time.sleep(max(0.0, seconds - 1.3))
    else:
        time.sleep(seconds)
    page.mouse.up()


def test_alarm_raised_offline_offers_calls_and_text_waits_first_in_line_and_reaches_the_board(
        new_phone, live_server, rows):
    context = worker_phone(new_phone)
    page = context.new_page()
    sign_in(page, WORKER)
    open_lone_working_online(page)
    session_id = start_session(page, "12 Elm Road", interval="30")["id"]
    assert poll(lambda: rows.session(session_id))

    mark = go_offline(context, page, live_server)
    assert submit(page, "#lw-ok")["sent"] is False           # a check-in already waiting...
    page.click("#lw-help")                                   # ...and the worker needs help
    page.wait_for_selector("#lw-alarm-button.lw-hold")
    # The copy of this page was kept before the session started: the phone fills in the session.
    assert page.input_value("#lw-alarm-form input[name=session_id]") == session_id
    assert page.input_value("#lw-alarm-form input[name=sequence]") == "2"

    # A tap or a short press sends nothing, and the screen says so.
    page.click("#lw-alarm-button")
    page.focus("#lw-alarm-button")
    page.keyboard.down("Space")
    time.sleep(1.0)
    page.keyboard.up("Space")
    assert page.get_attribute("#lw-hold-status", "data-state") == "cancelled"
    assert "NOT sent" in page.inner_text("#lw-hold-status")
    assert [r["type"] for r in outbox(page)] == ["check_in"]

    # Press and hold: a visible fill and a countdown, then the alarm is kept on the phone.
    arm_saved(page)
    _hold(page, 3.6, screenshot_name="lw-03-alarm-hold-in-progress")
    alarm = wait_for_saved(page)
    assert alarm["type"] == "alarm_raised" and alarm["sent"] is False
    assert alarm["data"]["session_id"] == session_id
    assert alarm["data"]["latitude"] == f"{HERE['latitude']:.6f}"
    waiting = outbox(page)
    assert [(r["type"], r["priority"]) for r in waiting] == [("alarm_raised", 0), ("check_in", 1)]   # it sends first

    # What still works with no signal, big and at the top.
    state = page.wait_for_selector('#lw-alarm-state[data-state="waiting"]')
    assert "Alarm saved on this phone" in state.inner_text()
    assert page.get_attribute("#call-999", "href") == "tel:999"
    assert page.get_attribute('a[data-contact-role^="Duty manager"]', "href") == f"tel:{DUTY_PHONE}"
    message = ("HELP: Wendy Worker needs help. At: Central Library \u00b7 12 Elm Road. "
               f"Location: {HERE['latitude']:.5f},{HERE['longitude']:.5f} (Safer Libraries)")
    assert page.get_attribute("#lw-sms", "href") == f"sms:{DUTY_PHONE}?body={quote(message)}"
    for link in ("#call-999", "#lw-sms"):
        box = page.locator(link).bounding_box()
        assert box["height"] >= 90 and box["y"] + box["height"] <= 844 - 60, f"{link} is not big and in view"
    # The hold button is ready for another alarm (and says so), not stuck on "Sending".
    wait_until(page, "() => document.querySelector('#lw-alarm-button').textContent.startsWith('Hold to send another')")
    screenshot(page, "lw-04-alarm-offline")
    assert live_server.phone_requests_since(mark) == [], "the server saw the phone while it was offline"
    assert rows.alerts(kind="alarm") == []

    # Signal: the alarm leaves the phone and the screen says it was sent.
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_outbox_empty(page)
    page.wait_for_selector('#lw-alarm-state[data-state="sent"]')
    event = rows.event(alarm["id"])
    assert event["kind"] == "alarm_raised" and event["session_id"] == session_id
    assert event["received_at"] > event["recorded_at"]
    alerts = rows.alerts(kind="alarm", session_id=uuid.UUID(session_id))
    assert len(alerts) == 1 and alerts[0]["latitude"] == pytest.approx(HERE["latitude"])

    # The board: the alarm takes over the top, with the worker's place and coordinates.
    board = new_phone().new_page()
    sign_in(board, SUPERVISOR)
    board.goto("/supervise/")
    item = board.locator(f'#alarm-takeover li[data-alert-id="{alerts[0]["id"]}"]')
    assert item.is_visible()
    assert "ALARM" in item.inner_text() and "Wendy Worker" in item.inner_text() and "12 Elm Road" in item.inner_text()
    assert f"{HERE['latitude']:.5f}" in item.inner_text()
    first = board.locator("#board-live li.board-row").first
    assert first.get_attribute("data-worker") == "Wendy Worker" and first.get_attribute("data-urgency") == "alarm"
    assert board.title().startswith("(")          # the tab title says ALARM too
    screenshot(board, "lw-05-board-with-alarm")


def test_the_board_shows_a_new_alarm_without_a_reload_and_keeps_what_the_supervisor_types(new_phone, rows):
    board = new_phone().new_page()
    sign_in(board, SUPERVISOR)
    board.goto("/supervise/")
    board.evaluate("window.__sameDocument = true")
    before = board.locator('#alarm-takeover li[data-alert-kind="alarm"]').count()
    board.click("#past-q")
    board.keyboard.type("Mill La")

    # A worker on another phone raises an alarm (with signal).
    worker = worker_phone(new_phone).new_page()
    sign_in(worker, WORKER2)
    worker.goto("/lone-working/alarm")
    worker.wait_for_selector("#lw-alarm-button.lw-hold")
    arm_saved(worker)
    _hold(worker, 3.5)
    assert wait_for_saved(worker)["sent"] is True
    assert len([a for a in rows.alerts(kind="alarm") if a["worker"] == WORKER2]) == 1

    # Within a refresh (10 s) the board shows it: same document, nothing typed lost, focus kept.
    board.wait_for_selector('#alarm-takeover li[data-alert-kind="alarm"] >> text=Will Walker', timeout=25000)
    assert board.locator('#alarm-takeover li[data-alert-kind="alarm"]').count() == before + 1
    assert board.evaluate("window.__sameDocument") is True
    assert board.input_value("#past-q") == "Mill La"
    assert board.evaluate("document.activeElement.id") == "past-q"
    board.keyboard.type("ne")
    assert board.input_value("#past-q") == "Mill Lane"
    assert board_row(board, "Will Walker").get_attribute("data-urgency") == "alarm"


def test_without_javascript_the_alarm_button_still_posts_and_raises_the_alarm(new_phone, rows):
    """No script (an old phone, a failed load): one tap posts the form, online, as before."""
    page = new_phone(java_script_enabled=False).new_page()
    sign_in(page, WORKER2)
    before = len([a for a in rows.alerts(kind="alarm") if a["worker"] == WORKER2])
    page.goto("/lone-working/alarm")
    assert page.inner_text("#lw-alarm-button") == "Send alarm"
    page.click("#lw-alarm-button")
    assert page.locator("#alarm-sent").is_visible()
    assert page.get_attribute("#call-999", "href") == "tel:999"
    assert len([a for a in rows.alerts(kind="alarm") if a["worker"] == WORKER2]) == before + 1
