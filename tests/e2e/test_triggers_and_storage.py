"""The outbox drains without Background Sync, and old records are never dropped.

Pitfalls 8 (no Background Sync: Safari, Firefox) and 10 (queue expiry or storage eviction).
"""
from datetime import UTC, datetime, timedelta

import pytest
from e2e_helpers import (
    WORKER,
    fill_incident,
    open_form_online,
    outbox,
    screenshot,
    sign_in,
    submit_incident,
    user_id_of,
    wait_until,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

NO_BACKGROUND_SYNC = """
delete window.SyncManager;
if (window.ServiceWorkerRegistration) delete ServiceWorkerRegistration.prototype.sync;
"""

PERSIST_REFUSED = """
window.__persistRequests = 0;
if (navigator.storage) {
  navigator.storage.persisted = () => Promise.resolve(false);
  navigator.storage.persist = () => { window.__persistRequests += 1; return Promise.resolve(false); };
}
"""


def _save_while_api_unreachable(context, page, description: str) -> dict:
    """Signal for the page, none for the API (so only the trigger under test can send it)."""
    context.route("**/api/v1/**", lambda route: route.abort("internetdisconnected"))
    page.goto("/incidents/new")
    fill_incident(page, description)
    result = submit_incident(page)
    assert result["outcome"] == "saved"
    expect(page.locator("#send-now")).to_be_visible()
    context.unroute("**/api/v1/**")
    return result


def test_outbox_drains_without_background_sync_on_online_load_visibility_and_send_now(new_phone, database):
    """Pitfall 8: with SyncManager removed, each of the page's own triggers sends what waits.
    The retry timer starts at 15 s, so a send within 5 s is the trigger's doing."""
    context = new_phone()
    context.add_init_script(NO_BACKGROUND_SYNC)
    page = context.new_page()
    sign_in(page)
    open_form_online(page)
    assert page.evaluate("'SyncManager' in window") is False
    status = page.locator("#outbox-status")

    # 1. The 'online' event.
    context.set_offline(True)
    page.goto("/incidents/new")
    fill_incident(page, "Pitfall 8: sent by the online event.")
    assert submit_incident(page)["outcome"] == "saved"
    context.set_offline(False)
    expect(status).to_have_attribute("data-state", "empty", timeout=5000)

    # 2. Loading a page.
    _save_while_api_unreachable(context, page, "Pitfall 8: sent on page load.")
    page.reload()
    expect(status).to_have_attribute("data-state", "empty", timeout=5000)

    # 3. Coming back to the app (the page becomes visible again).
    _save_while_api_unreachable(context, page, "Pitfall 8: sent when the app became visible.")
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    expect(status).to_have_attribute("data-state", "empty", timeout=5000)

    # 4. The "Send now" button.
    _save_while_api_unreachable(context, page, "Pitfall 8: sent with the Send now button.")
    page.click("#send-now")
    expect(status).to_have_attribute("data-state", "empty", timeout=5000)

    assert outbox(page) == []
    for description in ("Pitfall 8: sent by the online event.", "Pitfall 8: sent on page load.",
                        "Pitfall 8: sent when the app became visible.", "Pitfall 8: sent with the Send now button."):
        [stored] = database.incidents(description)
        assert stored["reporter"] == WORKER


def test_nine_day_old_record_is_sent_not_dropped_and_persistent_storage_is_asked_for(new_phone, database):
    """Pitfall 10: no expiry in the outbox; the app asks for persistent storage and warns when refused."""
    context = new_phone()
    context.add_init_script(PERSIST_REFUSED)
    page = context.new_page()
    sign_in(page)
    open_form_online(page)
    wait_until(page, "() => window.__persistRequests >= 1")

    nine_days_ago = datetime.now(UTC) - timedelta(days=9)
    description = "Pitfall 10: recorded nine days ago, then the phone sat in a drawer."
    record = {
        "id": "0b7f3a56-9d53-4a4e-9a40-5b8f2f5d9a10", "type": "incident", "schema_version": 1,
        "recorded_at": nine_days_ago.isoformat(timespec="milliseconds"),
        "data": {"occurred_at": (nine_days_ago - timedelta(minutes=30)).isoformat(timespec="milliseconds"),
                 "branch_id": str(database.branch_id()), "location": "mobile_stop", "kinds": ["aggressive"],
                 "severity": "moderate", "description": description},
        "user_id": user_id_of(page), "priority": 10, "created_at": int(nine_days_ago.timestamp() * 1000),
        "status": "pending", "errors": None, "conflict": False, "attempts": 4, "last_error": "No answer",
        "last_attempt_at": int(nine_days_ago.timestamp() * 1000),
    }
    context.set_offline(True)
    # Straight into IndexedDB, as an older copy of the app would have left it.
    page.evaluate("""(record) => new Promise((resolve, reject) => {
        const open = indexedDB.open('safer-outbox');
        open.onsuccess = () => {
            const tx = open.result.transaction('records', 'readwrite');
            tx.objectStore('records').put(record);
            tx.oncomplete = () => { open.result.close(); resolve(); };
            tx.onerror = () => reject(tx.error);
        };
        open.onerror = () => reject(open.error);
    })""", record)
    page.reload()                              # from the kept copy: no signal
    expect(page.locator("#outbox-status")).to_have_attribute("data-state", "offline")
    expect(page.locator("#storage-warning")).to_be_visible()
    expect(page.locator("#storage-warning")).to_contain_text("may clear unsent reports")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "06-storage-warning")

    page.close()                               # "restart": a fresh page with signal back
    context.set_offline(False)
    page = context.new_page()
    page.goto("/incidents/new")
    expect(page.locator("#outbox-status")).to_have_attribute("data-state", "empty")
    expect(page.locator("#storage-warning")).to_be_hidden()
    assert page.evaluate("window.__persistRequests") >= 1
    assert outbox(page) == []
    [stored] = database.incidents(description)
    assert stored["id"] == record["id"] and stored["reporter"] == WORKER
    assert abs(stored["recorded_at"] - nine_days_ago) < timedelta(seconds=1)
    assert stored["received_at"] - stored["recorded_at"] > timedelta(days=8)
