"""A report the server refuses stays on the phone, shown with the server's reasons, to fix and resend."""
import pytest
from e2e_helpers import WORKER, fill_incident, open_form_online, outbox, screenshot, sign_in, submit_incident
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_refused_report_stays_with_its_reasons_and_is_replaced_only_by_its_fixed_copy(new_phone, database):
    context = new_phone()
    page = context.new_page()
    sign_in(page)
    open_form_online(page)
    description = "Refused: no place chosen, then fixed on the phone."
    context.set_offline(True)                  # made with no signal; refused when it arrives
    page.goto("/incidents/new")
    fill_incident(page, description, location=None, kinds=("drugs_alcohol",), severity="low")
    assert submit_incident(page)["outcome"] == "saved"
    context.set_offline(False)

    status = page.locator("#outbox-status")
    expect(status).to_have_attribute("data-state", "rejected")
    expect(page.locator("#outbox-message")).to_have_text("1 report needs your attention")
    [refused] = outbox(page)
    assert refused["status"] == "rejected" and refused["conflict"] is False
    assert refused["errors"] == {"location": ["Choose a place from the list."]}
    assert database.incidents(description) == []

    page.click("#outbox-message a")
    page.wait_for_url("**/waiting")
    item = page.locator(f'.waiting-item[data-record-id="{refused["id"]}"]')
    expect(item).to_have_attribute("data-status", "rejected")
    expect(item.locator(".status")).to_have_text("Not accepted — needs your attention")
    expect(item.locator(".errors")).to_have_text("Where exactly: Choose a place from the list.")
    expect(item).to_contain_text(description)
    screenshot(page, "04-waiting-rejected")

    item.locator(".fix-link").click()
    page.wait_for_url(f"**/incidents/new?fix={refused['id']}")
    expect(page.locator("#fix-summary")).to_be_visible()
    expect(page.locator("#description")).to_have_value(description)
    expect(page.locator('input[name="kinds"][value="drugs_alcohol"]')).to_be_checked()
    expect(page.locator("#field-location .js-error")).to_have_text("Choose a place from the list.")
    expect(page.locator("#location")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "07-fix-and-resend")

    page.select_option("#location", "toilets")
    result = submit_incident(page)
    assert result["outcome"] == "sent" and result["id"] != refused["id"]
    expect(page.locator("#submit-outcome")).to_have_text("Sent")
    expect(page.locator("#submit-result")).to_contain_text("Nothing waiting on this phone")
    expect(status).to_have_attribute("data-state", "empty")
    assert outbox(page) == []                  # the refused copy went once the fixed one was saved
    [stored] = database.incidents(description)
    assert stored["id"] == result["id"] and stored["location"] == "toilets" and stored["reporter"] == WORKER
    assert database.receipt_count(refused["id"]) == 0


def test_report_refused_while_online_is_shown_at_once_next_to_the_answer(new_phone, database):
    page = new_phone().new_page()
    sign_in(page)
    page.goto("/incidents/new")
    description = "Refused at once: the description is there but no kind of behaviour."
    fill_incident(page, description, kinds=())
    result = submit_incident(page)

    assert result["outcome"] == "rejected"
    expect(page.locator("#submit-outcome")).to_contain_text("Not sent")
    expect(page.locator("#field-kinds .js-error")).to_have_text("Choose at least one kind of behaviour.")
    expect(page.locator("#description")).to_have_value(description)   # nothing the worker wrote is lost
    page.check('input[name="kinds"][value="other"]')
    second = submit_incident(page)
    assert second["outcome"] == "sent"
    assert outbox(page) == []
    [stored] = database.incidents(description)
    assert stored["id"] == second["id"] and stored["kinds"] == ["other"]
