"""Issue 3 in the browser: a missed check-in, found by the server's clock alone.

The worker starts a session on the phone and then goes silent. One run of the real sweep
(`flask escalate`, its own process, on the live server's database, with the clock moved past
the check-in and the grace period) makes the session overdue on the supervisor's board and
sends exactly one email through a real SMTP server; a second sweep sends no second email.
"""
import re

import pytest
from e2e_helpers import SUPERVISOR, WORKER, sign_in
from lw_e2e import (
    Inbox,
    LoneWorkingRows,
    board_row,
    open_lone_working_online,
    poll,
    run_sweep,
    start_session,
    worker_phone,
)
from support import free_port

pytestmark = pytest.mark.e2e


SMTP_PORT = free_port()
# The live server and the sweep share this environment: mail goes to the local SMTP server.
LIVE_SERVER_ENV = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(SMTP_PORT), "SMTP_STARTTLS": "0",
                   "SMTP_USERNAME": "", "SMTP_SENDER": "alerts@safer.example",
                   "PUBLIC_BASE_URL": "https://safer.example"}


@pytest.fixture(scope="module")
def inbox():
    from aiosmtpd.controller import Controller
    received = Inbox()
    controller = Controller(received, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    yield received
    controller.stop()


def test_missed_check_in_is_overdue_on_the_board_after_one_sweep_with_exactly_one_email(
        new_phone, live_server, database, inbox):
    rows = LoneWorkingRows(database)
    page = worker_phone(new_phone).new_page()
    sign_in(page, WORKER)
    open_lone_working_online(page)
    session_id = start_session(page, "Route 3, Mill Lane stop", interval="5")["id"]
    assert poll(lambda: rows.session(session_id))

    board = new_phone().new_page()
    sign_in(board, SUPERVISOR)
    board.goto("/supervise/")
    row = board_row(board, "Wendy Worker")
    assert row.get_attribute("data-urgency") == "due_soon"     # due in 5 minutes: not overdue
    assert not board.locator("#mail-not-configured").count()

    # Nothing is due yet: a sweep now raises nothing and sends nothing.
    assert "0 overdue alerts raised" in run_sweep(live_server, 0)
    assert inbox.messages == [] and rows.alerts(kind="overdue") == []

    # Eleven minutes on (check-in due at 5, grace 5): the worker never checked in.
    report = run_sweep(live_server, 11)
    assert re.search(r"1 overdue alerts raised, 0 escalations, 1 emails sent, 0 failed", report), report
    alerts = rows.alerts(kind="overdue")
    assert [(a["session_id"], a["worker"], a["level"]) for a in alerts] == [(session_id, WORKER, 1)]
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert mail["to"] == [SUPERVISOR]
    subject = " ".join(str(mail["message"]["Subject"]).split())   # the non-ASCII "·" comes back as encoded words
    assert subject == "[Safer Libraries] OVERDUE: Wendy Worker - Central Library \u00b7 Route 3, Mill Lane stop"
    assert "No check-in yet in this session." in mail["message"].get_content()
    assert [(n["to"], n["status"]) for n in rows.notifications()] == [(SUPERVISOR, "sent")]

    # The board, refreshing itself (no reload), now shows the session overdue with its open alert.
    board.wait_for_selector('#board-live li.board-row[data-worker="Wendy Worker"][data-urgency="overdue"]',
                            timeout=25000)
    assert "Overdue alert, open" in board_row(board, "Wendy Worker").inner_text()

    # A second sweep (another minute on): the same alert, no second email.
    report = run_sweep(live_server, 12)
    assert "0 overdue alerts raised, 0 escalations, 0 emails sent" in report, report
    assert len(inbox.messages) == 1
    assert len(rows.alerts(kind="overdue")) == 1
