"""A worker reports with no signal; the report waits on the phone and reaches the supervisor."""
import re
from datetime import UTC, datetime, timedelta

import pytest
from e2e_helpers import (
    SUPERVISOR,
    WORKER,
    fill_incident,
    open_form_online,
    outbox,
    screenshot,
    sign_in,
    submit_incident,
    user_id_of,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_report_made_offline_waits_on_the_phone_and_reaches_the_supervisor(new_phone, live_server, database):
    context = new_phone()
    page = context.new_page()
    sign_in(page)
    open_form_online(page)
    screenshot(page, "01-incident-form")
    screenshot(page, "01-incident-form-whole-page", full_page=True)

    context.set_offline(True)
    mark = live_server.quiet_mark()
    page.goto("/incidents/new")                      # from the phone's kept copy
    expect(page.locator("h1")).to_have_text("Report an incident")
    description = "Offline: a man kicked the mobile library door and shouted at the driver."
    fill_incident(page, description, location="mobile_stop", kinds=("aggressive", "damage"), severity="high")
    page.click("details.more summary")
    page.check("#police_informed")
    result = submit_incident(page)

    assert result["outcome"] == "saved" and result["sent"] is False
    expect(page.locator("#submit-outcome")).to_have_text("Saved on this phone — will send when you have signal")
    expect(page.locator("#submit-result")).to_contain_text("1 report waiting on this phone")
    screenshot(page, "02-saved-on-this-phone")
    # Ready for the next report: empty, and "when" is now again.
    assert page.input_value("#description") == ""
    occurred = datetime.fromisoformat(page.input_value("#occurred_at"))
    assert abs(occurred - datetime.now(UTC).replace(tzinfo=None)) < timedelta(minutes=2)

    page.reload()                                     # still offline: the page and the record survive
    status = page.locator("#outbox-status")
    expect(status).to_have_attribute("data-state", "offline")
    expect(page.locator("#outbox-message")).to_have_text(
        "No signal. 1 report waiting on this phone — will send when you have signal")
    expect(page.locator("#send-now")).to_be_visible()
    screenshot(page, "03-status-bar-waiting")
    page.goto("/waiting")
    expect(page.locator("#waiting-list .waiting-item")).to_have_count(1)
    expect(page.locator("#waiting-list")).to_contain_text("Waiting to send")
    expect(page.locator("#waiting-list")).to_contain_text(description)

    [waiting] = outbox(page)
    assert waiting["id"] == result["id"] and waiting["status"] == "pending"
    assert waiting["user_id"] == user_id_of(page)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", waiting["recorded_at"])
    assert waiting["data"]["police_informed"] is True and waiting["data"]["kinds"] == ["aggressive", "damage"]
    assert database.incidents(description) == []
    seen = live_server.phone_requests_since(mark)
    assert seen == [], "the phone reached the server while offline:\n" + "\n".join(seen)

    context.set_offline(False)                        # signal returns: the 'online' event sends it
    expect(status).to_have_attribute("data-state", "empty", timeout=20000)
    expect(page.locator("#waiting-list")).to_contain_text("Nothing is waiting on this phone")
    assert outbox(page) == []
    [stored] = database.incidents(description)
    assert stored["id"] == result["id"]
    assert stored["reporter"] == WORKER and stored["severity"] == "high" and stored["location"] == "mobile_stop"
    assert stored["kinds"] == ["aggressive", "damage"] and stored["police_informed"] is True
    assert stored["via"] == "sync" and stored["recorded_offset_minutes"] == 0   # Europe/London in the phone

    supervisor = new_phone().new_page()
    sign_in(supervisor, SUPERVISOR)
    supervisor.goto("/incidents/")
    row = supervisor.locator(f'a[href="/incidents/{result["id"]}"]')
    expect(row).to_contain_text("Wendy Worker")
    expect(row).to_contain_text("Damage to property")
    row.click()
    expect(supervisor.locator("#description")).to_have_text(description)


def test_form_posts_and_is_stored_without_javascript(new_phone, database):
    page = new_phone(java_script_enabled=False).new_page()
    sign_in(page)
    page.goto("/incidents/new")
    description = "No JavaScript: a reader threatened staff at the counter."
    fill_incident(page, description, location="counter", kinds=("threatening",), severity="moderate")
    page.click("#submit-incident")

    page.wait_for_url(re.compile(r"/incidents/[0-9a-f-]{36}$"))
    expect(page.locator(".flash-sent")).to_contain_text("Sent")
    expect(page.locator("#description")).to_have_text(description)
    [stored] = database.incidents(description)
    assert stored["via"] == "form" and stored["reporter"] == WORKER and stored["kinds"] == ["threatening"]
    assert page.url.endswith(stored["id"])
