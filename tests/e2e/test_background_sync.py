"""Background Sync (Chromium): the service worker sends what waits even with no page open."""
import time

import pytest
from e2e_helpers import WORKER, fill_incident, open_form_online, sign_in, submit_incident

pytestmark = pytest.mark.e2e


def test_service_worker_sends_the_outbox_when_signal_returns_with_no_page_open(new_phone, database):
    context = new_phone()
    page = context.new_page()
    sign_in(page)
    open_form_online(page)
    assert page.evaluate("'SyncManager' in window") is True
    context.set_offline(True)
    page.goto("/incidents/new")
    description = "Background Sync: sent by the service worker after the app was closed."
    fill_incident(page, description)
    result = submit_incident(page)
    assert result["outcome"] == "saved"
    assert page.evaluate("navigator.serviceWorker.ready.then(r => r.sync.getTags())") == ["outbox"]
    page.close()                               # the worker puts the phone away

    context.set_offline(False)
    deadline = time.monotonic() + 30
    while not database.incidents(description) and time.monotonic() < deadline:
        time.sleep(0.5)
    [stored] = database.incidents(description)
    assert stored["id"] == result["id"] and stored["reporter"] == WORKER
    page = context.new_page()
    page.goto("/waiting")
    assert page.evaluate("SaferOutbox.list()") == []
