"""The form contract, in the browser: every form the phone can send is accepted by the server.

Whatever a worker's page puts in a record (its fields, and what outbox_forms.js and lw_position.js add:
the session id, the sequence, the phone's location when the worker allowed it), the record
type's schema must accept. A field the schema refuses ("Unknown field") makes the server answer
`rejected`, and for a lone-working event that is a worker whose "Extend" or "I'm OK" never
counted: a false overdue, or worse, a check-in that was not one.

Each form is submitted in real Chromium once with the location allowed and once with it refused,
and the server's answer in /api/v1/sync's results must be `created` (read from the responses the
phone got, page and service worker alike) and the row must be in the database.

So that a later form is hard to forget, test_every_outbox_form_on_the_workers_pages_is_covered
walks every page a worker can reach and fails on a <form data-outbox-type> that is not in
COVERED_FORMS (and on a COVERED_FORMS entry that no longer exists).
"""
import time
import uuid
from urllib.parse import urlsplit

import pytest
from e2e_helpers import PASSWORD, WORKER, WORKER2, fill_incident, sign_in, submit_incident, wait_until
from lw_e2e import HERE, LoneWorkingRows, in_two_hours, poll

pytestmark = pytest.mark.e2e

# Every outbox form on the worker's pages, as "<outbox type> <#id or .class>" (see _form_key),
# and where it lives. test_every_form_is_accepted_... submits each of them.
COVERED_FORMS = {
    "incident #incident-form": "/incidents/new",
    "session_started #lw-start-form": "/lone-working/",
    "session_started .lw-start-again": "/lone-working/",
    "check_in #lw-check-in-form": "/lone-working/",
    "session_extended #lw-extend-form": "/lone-working/",
    "session_finished #lw-finish-form": "/lone-working/",
    "alarm_raised #lw-alarm-form": "/lone-working/alarm",
}
LOCATION_FIELDS = ("latitude", "longitude", "location_accuracy_m")
FINISH_PIN, DURESS_PIN = "2468", "1357"

# The key of a form element: its outbox type and its id, or its first class when it has no id.
FORM_KEY_JS = """form => form.dataset.outboxType + ' ' +
    (form.id ? '#' + form.id : (form.classList.length ? '.' + form.classList[0] : form.getAttribute('action')))"""


@pytest.fixture(scope="module")
def rows(database):
    return LoneWorkingRows(database)


class SyncAnswers:
    """The server's answer for each record, from every /api/v1/sync response this phone got
    (the page's own sends and the service worker's)."""

    def __init__(self, context):
        self._responses = []
        self._read = 0
        self.results: dict[str, dict] = {}
        context.on("response", self._seen)

    def _seen(self, response):
        if response.request.method == "POST" and urlsplit(response.url).path == "/api/v1/sync":
            self._responses.append(response)

    def _read_new(self):
        while self._read < len(self._responses):
            response = self._responses[self._read]
            self._read += 1
            if response.status == 200:
                for result in response.json().get("results", []):
                    self.results.setdefault(result["id"], result)

    def for_record(self, page, record_id: str, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            self._read_new()
            if record_id in self.results:
                return self.results[record_id]
            if time.monotonic() > deadline:
                raise AssertionError(f"the server never answered for record {record_id}")
            page.wait_for_timeout(100)   # lets Playwright deliver the response events


class FormRun:
    """Submit a phone's outbox forms one by one and hold each to the contract."""

    def __init__(self, context, page, location_allowed: bool):
        self.answers = SyncAnswers(context)
        self.page = page
        self.location_allowed = location_allowed
        self.sent: dict[str, dict] = {}

    def send(self, form_selector: str, click=None) -> dict:
        """Submit the form (click its submit button, or `click()`), then require `created`."""
        page = self.page
        form = page.locator(form_selector).first
        key = form.evaluate(FORM_KEY_JS)
        page.evaluate("""() => { window.__saved = new Promise(resolve => document.addEventListener(
            'outbox:saved', event => resolve(event.detail), { once: true })); }""")
        if click is None:
            form.locator("button[type=submit]").first.click()
        else:
            click()
        saved = page.evaluate(
            "window.__saved.then(d => ({ id: d.record.id, type: d.record.type, data: d.record.data }))")
        answer = self.answers.for_record(page, saved["id"])
        assert answer["status"] == "created", f"{key}: the server answered {answer} for data {saved['data']}"
        if saved["type"] != "incident":
            self._check_location_sent(key, saved["data"])
        self.sent[key] = saved
        return saved

    def _check_location_sent(self, key: str, data: dict) -> None:
        """The phone really sent its location when allowed, and nothing when refused."""
        if self.location_allowed:
            assert data.get("latitude") == f"{HERE['latitude']:.6f}", f"{key} went without the location: {data}"
            assert data.get("longitude") == f"{HERE['longitude']:.6f}", f"{key}: {data}"
            assert float(data.get("location_accuracy_m")) == HERE["accuracy"], f"{key}: {data}"
        else:
            assert all(not data.get(name) for name in LOCATION_FIELDS), f"{key} sent a location it was refused: {data}"


def _phone(new_phone, location_allowed: bool):
    # The phone knows where it is either way; only the worker's permission differs.
    permissions = ["geolocation"] if location_allowed else []
    return new_phone(permissions=permissions, geolocation=HERE)


def _wait_for_position(page) -> None:
    """lw_position.js has a fix (it asks in the background as the page opens when allowed)."""
    wait_until(page, """() => {
        const state = JSON.parse(localStorage.getItem('safer-lw:' + document.body.dataset.userId) || '{}');
        return !!(state && state.position);
    }""")


def _set_pins(page) -> None:
    page.goto("/lone-working/pins")
    page.fill("#password", PASSWORD)
    page.fill("#finish_pin", FINISH_PIN)
    page.fill("#duress_pin", DURESS_PIN)
    page.click("#pins-form button[type=submit]")
    page.wait_for_url("**/lone-working/")


def _hold_alarm(page) -> None:
    page.wait_for_selector("#lw-alarm-button.lw-hold")
    page.locator("#lw-alarm-button").hover()
    page.mouse.down()
    time.sleep(3.5)
    page.mouse.up()


@pytest.mark.parametrize("location_allowed, worker", [(True, WORKER), (False, WORKER2)],
                         ids=["location-allowed", "location-refused"])
def test_every_form_the_phone_sends_is_created_by_the_server(new_phone, live_server, database, rows,
                                                             location_allowed, worker):
    context = _phone(new_phone, location_allowed)
    page = context.new_page()
    run = FormRun(context, page, location_allowed)
    sign_in(page, worker)
    permission = page.evaluate("navigator.permissions.query({ name: 'geolocation' }).then(s => s.state)")
    assert (permission == "granted") is location_allowed

    # The incident report.
    description = f"Contract check {uuid.uuid4()}: shouted at staff by the returns desk."
    page.goto("/incidents/new")
    fill_incident(page, description)
    report = submit_incident(page)
    answer = run.answers.for_record(page, report["id"])
    assert answer["status"] == "created", f"incident: the server answered {answer} for data {report['record']['data']}"
    run.sent[page.locator("#incident-form").evaluate(FORM_KEY_JS)] = report
    assert [i["id"] for i in database.incidents(description)] == [report["id"]]

    # A session from the start form, then "I'm OK", "Extend" and "Finish: I'm safe".
    page.goto("/lone-working/")
    if location_allowed:
        _wait_for_position(page)
    page.check('#lw-start-form input[name="place_kind"][value="home_visit"]')
    page.fill("#place", "Contract Close, 4")
    page.fill("#planned_end_at", in_two_hours())
    page.select_option("#check_in_interval_minutes", "30")
    started = run.send("#lw-start-form")
    session_id = started["id"]
    page.wait_for_selector("#lw-status", state="visible")
    run.send("#lw-check-in-form")
    extended = run.send("#lw-extend-form")
    run.send("#lw-finish-form")

    events = {e["id"]: e for e in rows.events(session_id)}
    assert [events[r["id"]]["kind"] for r in (started, extended)] == ["session_started", "session_extended"]
    assert len(events) == 4
    stored = events[extended["id"]]["data"]
    if location_allowed:
        # The extension's location is kept like every other event's.
        assert stored["latitude"] == pytest.approx(HERE["latitude"])
        assert stored["longitude"] == pytest.approx(HERE["longitude"])
        assert stored["location_accuracy_m"] == pytest.approx(HERE["accuracy"])
    else:
        assert stored.get("latitude") is None and stored.get("longitude") is None
    assert rows.session(session_id)["status"] == "finished"

    # "Start again" (one tap, from the last session), then "I need help" on the alarm page.
    page.reload()
    page.wait_for_selector("form.lw-start-again")
    again = run.send("form.lw-start-again")
    assert poll(lambda: rows.session(again["id"]))["status"] == "active"
    page.goto("/lone-working/alarm")
    alarm = run.send("#lw-alarm-form", click=lambda: _hold_alarm(page))
    assert alarm["data"]["session_id"] == again["id"]
    assert rows.alerts(kind="alarm", session_id=uuid.UUID(again["id"]))

    # With PINs set, the finish form carries the PIN as well.
    _set_pins(page)
    page.wait_for_selector("#lw-status", state="visible")
    page.fill("#pin", FINISH_PIN)
    finished = run.send("#lw-finish-form")
    assert finished["data"]["pin"] == FINISH_PIN
    assert poll(lambda: rows.session(again["id"])["status"] == "finished")

    assert set(run.sent) == set(COVERED_FORMS), "every covered form is submitted in this test"


def _outbox_forms_and_links(page) -> dict:
    return page.evaluate("""(formKey) => {
        const key = new Function('return ' + formKey)();
        return {
            forms: Array.from(document.querySelectorAll('form[data-outbox-type]')).map(key),
            links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
        };
    }""", FORM_KEY_JS)


def test_every_outbox_form_on_the_workers_pages_is_covered(new_phone, live_server):
    """Walk every page a worker reaches by links; each outbox form found must be in COVERED_FORMS."""
    page = _phone(new_phone, True).new_page()
    sign_in(page, WORKER)
    _set_pins(page)   # as the submitting test leaves this worker, whichever runs first
    # A past session, so that the "start again" forms are on the page too.
    token = page.request.get("/api/v1/session").json()["csrf_token"]
    session_id = str(uuid.uuid4())
    now = page.evaluate("SaferOutbox.isoWithOffset(new Date())")
    records = [
        {"id": session_id, "type": "session_started", "schema_version": 1, "recorded_at": now,
         "data": {"place_kind": "home_visit", "place": "Walk Lane, 1", "duration_minutes": 60, "sequence": 0}},
        {"id": str(uuid.uuid4()), "type": "session_finished", "schema_version": 1, "recorded_at": now,
         "data": {"session_id": session_id, "sequence": 1, "pin": FINISH_PIN}},
    ]
    answer = page.request.post("/api/v1/sync", data={"sent_at": now, "records": records},
                               headers={"X-CSRFToken": token})
    assert [r["status"] for r in answer.json()["results"]] == ["created", "created"]

    origin = urlsplit(live_server.url).netloc
    to_visit = ["/"] + sorted(set(COVERED_FORMS.values()))
    visited, found = set(), {}
    while to_visit and len(visited) < 60:
        path = to_visit.pop(0)
        if path in visited:
            continue
        visited.add(path)
        response = page.goto(path)
        if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        seen = _outbox_forms_and_links(page)
        for key in seen["forms"]:
            found.setdefault(key, path)
        for href in seen["links"]:
            parts = urlsplit(href)
            if parts.scheme in ("http", "https") and parts.netloc == origin and not parts.path.startswith(
                    ("/auth/sign-out", "/static/")):
                to_visit.append(parts.path)

    assert {"/", "/incidents/new", "/lone-working/", "/lone-working/alarm"} <= visited
    missing = {key: path for key, path in found.items() if key not in COVERED_FORMS}
    assert not missing, f"outbox forms with no contract test (add them to COVERED_FORMS and submit them): {missing}"
    gone = set(COVERED_FORMS) - set(found)
    assert not gone, f"COVERED_FORMS names forms no worker page has any more: {gone}"
