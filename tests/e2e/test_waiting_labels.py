"""The "Waiting on this phone" list names lone-working records in the server's words (app/labels.py,
handed to the page in <body data-config>), never by their raw type names, also with no signal."""
import pytest
from e2e_helpers import WORKER, sign_in
from lw_e2e import go_offline, open_lone_working_online, start_session, submit, worker_phone

pytestmark = pytest.mark.e2e


def test_waiting_list_says_check_in_in_words_not_check_in_as_a_type_name(new_phone, live_server):
    context = worker_phone(new_phone)
    page = context.new_page()
    sign_in(page, WORKER)
    open_lone_working_online(page)
    assert start_session(page, "12 Elm Road", interval="30")["sent"] is True
    page.wait_for_selector("#lw-status", state="visible")
    go_offline(context, page, live_server)
    assert submit(page, "#lw-ok")["sent"] is False
    page.goto("/waiting")   # the kept copy: no signal
    title = page.wait_for_selector(".waiting-item h2")
    assert title.inner_text() == "Check-in (I\u2019m OK)"
    assert page.inner_text(".waiting-item .status").startswith("Waiting to send")
    assert "check_in" not in page.inner_text("#waiting-list")
    # Tidy: signal again, so the check-in leaves the phone.
    context.set_offline(False)
