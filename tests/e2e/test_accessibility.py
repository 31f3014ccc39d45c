"""Accessible pages (issue 7 point 6): every page of every role passes an axe-core audit with no
violations, at phone size (390x844) and desktop size (1280x800).

axe-core is a test tool only: scripts/test installs it from the npm registry into the
git-ignored .cache/npm, and each audit injects axe.min.js into the page under test
(page.add_script_tag) and runs axe.run() on the whole document. The app itself fetches nothing.

The scene is built once per module through the real app: a worker sends a report and starts a
session twenty minutes ago (on the phone's clock) with a five-minute check-in, so it is overdue
by the server's own clock, and one run of the escalation sweep raises its alert; a second worker
raises an alarm. Each page is audited as the person who would see it, with the state that makes
it busiest: validation errors shown by the server and by the phone, a refused record waiting on
the phone, an open alarm and an overdue session on the board.
"""
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from e2e_helpers import (
    PHONE,
    ROOT,
    SUPERVISOR,
    WORKER,
    WORKER2,
    fill_incident,
    screenshot,
    sign_in,
    submit_incident,
    wait_until,
)
from lw_e2e import LoneWorkingRows, poll, run_sweep

pytestmark = pytest.mark.e2e

AXE = ROOT / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
ADMIN = "admin@demo.example"
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1, "is_mobile": False,
           "has_touch": False}
SIZES = {"phone": {}, "desktop": DESKTOP}   # options over the harness's phone (PHONE)
# Rules axe leaves off by default that matter here: thumbs (often gloved, often shaking) need
# targets of 24x24 CSS px at least (WCAG 2.2 AA), and an id used twice sends a label or an
# aria-describedby to the wrong field.
EXTRA_RULES = {"target-size": {"enabled": True}, "duplicate-id": {"enabled": True},
               "duplicate-id-active": {"enabled": True}}
# axe looks at the page at one scroll position, where the sticky status bar, the fixed bottom bar
# and the sticky "I need help" band lie over whatever happens to scroll beneath them: a control
# half under a bar would count as a tiny target at this position and a full-size one a flick
# later. The bars are put back in the flow for axe (so they and what they cover are measured
# as laid out), and FOCUS_OBSCURED checks separately that no bar hides a focused control.
RUN_AXE_WITH_BARS_IN_FLOW = """async (rules) => {
    const bars = Array.from(document.querySelectorAll('body *')).filter(el =>
        ['fixed', 'sticky'].includes(getComputedStyle(el).position));
    const saved = bars.map(el => el.style.position);
    bars.forEach(el => { el.style.position = 'static'; });
    try {
        return await axe.run(document, { resultTypes: ['violations'], rules: rules });
    } finally {
        bars.forEach((el, i) => { el.style.position = saved[i]; });
    }
}"""
FOCUS_OBSCURED = """() => {
    const covered = [];
    const controls = document.querySelectorAll(
        'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])');
    for (const el of controls) {
        if (el.disabled || !el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
        el.focus();
        if (document.activeElement !== el) continue;
        const box = el.getBoundingClientRect();
        // Where the eye and the caret go first: the middle of its top 44px (a whole button, a
        // text box's first line); a tall box's lower part may rest under a bar (2.4.11 minimum).
        const hit = document.elementFromPoint(box.left + box.width / 2, box.top + Math.min(box.height, 44) / 2);
        if (!hit || !(el.contains(hit) || (hit !== document.body && hit.contains(el)))) {
            const id = el.id ? '#' + el.id : el.tagName.toLowerCase() + '[name=' + (el.name || '') + ']';
            covered.push({ target: [id + ' under ' + (hit ? hit.tagName.toLowerCase() + (hit.id ? '#' + hit.id : '')
                                                          + '.' + hit.className : 'nothing')] });
        }
    }
    if (document.activeElement) document.activeElement.blur();
    window.scrollTo(0, 0);
    return covered;
}"""
REPORT_TEXT = "A man shouted at the desk and threw a chair."


def _axe_source_or_fail():
    if not AXE.exists():
        pytest.fail(f"axe-core is missing ({AXE.relative_to(ROOT)}): run scripts/test, which installs it with "
                    "`npm install --no-save --prefix .cache/npm axe-core@4`")


def _context(browser, live_server, size: str):
    # bypass_csp: the app's CSP (script-src 'self') forbids the inline script add_script_tag makes.
    # The templates carry no inline style for the CSP to block, so the pages look the same.
    return browser.new_context(base_url=live_server.url, service_workers="allow", bypass_csp=True,
                               **{**PHONE, **SIZES[size]})


def _phone_time(minutes_ago: float) -> str:
    return (datetime.now(ZoneInfo("Europe/London")) - timedelta(minutes=minutes_ago)).isoformat(timespec="seconds")


def _sync(page, records: list[dict]) -> list[str]:
    token = page.request.get("/api/v1/session").json()["csrf_token"]
    answer = page.request.post("/api/v1/sync", data={"sent_at": _phone_time(0), "records": records},
                               headers={"X-CSRFToken": token})
    return [r["status"] for r in answer.json()["results"]]


@pytest.fixture(scope="module")
def scene(browser, live_server, database):
    """A report, an overdue session with its alert, and an alarm, made through the real app."""
    _axe_source_or_fail()
    rows = LoneWorkingRows(database)
    context = _context(browser, live_server, "phone")
    try:
        page = context.new_page()
        sign_in(page, WORKER)
        page.goto("/incidents/new")
        fill_incident(page, REPORT_TEXT)
        assert submit_incident(page)["sent"] is True
        session_id = str(uuid.uuid4())
        assert _sync(page, [{"id": session_id, "type": "session_started", "schema_version": 1,
                             "recorded_at": _phone_time(20),
                             "data": {"place_kind": "home_visit", "place": "12 Elm Road", "duration_minutes": 120,
                                      "check_in_interval_minutes": 5, "note": "Dog in the house", "sequence": 0,
                                      "latitude": 52.62872, "longitude": 1.29346}}]) == ["created"]
        page.context.clear_cookies()

        other = context.new_page()
        sign_in(other, WORKER2)
        assert _sync(other, [{"id": str(uuid.uuid4()), "type": "alarm_raised", "schema_version": 1,
                              "recorded_at": _phone_time(1),
                              "data": {"message": "Locked in the van", "sequence": 0}}]) == ["created"]
    finally:
        context.close()
    run_sweep(live_server, 0)
    [overdue] = poll(lambda: rows.alerts(kind="overdue"))
    [alarm] = rows.alerts(kind="alarm")
    incident_id = database.incidents(REPORT_TEXT)[0]["id"]
    return {"session_id": session_id, "overdue_alert": overdue["id"], "alarm_alert": alarm["id"],
            "incident_id": incident_id}


def _describe(violations: list[dict]) -> list[str]:
    lines = []
    for v in violations:
        targets = "; ".join(" ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"])
                            for n in v["nodes"][:6])
        more = f" (+{len(v['nodes']) - 6} more)" if len(v["nodes"]) > 6 else ""
        lines.append(f"    {v['id']} [{v['impact']}] {v['help']}: {targets}{more}")
        why = " ".join((v["nodes"][0].get("failureSummary") or "").split()) if v["nodes"] else ""
        if why:
            lines.append(f"      first: {why[:400]}")
    return lines


class Auditor:
    """Runs axe on pages and collects what it finds, named by page and size."""

    def __init__(self, size: str):
        self.size = size
        self.found: dict[str, list[dict]] = {}
        self.audited: list[str] = []

    def audit(self, page, name: str) -> None:
        page.wait_for_load_state("load")
        screenshot(page, f"a11y-{self.size}-{name}")
        violations = self._focus_obscured(page)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(RUN_AXE_WITH_BARS_IN_FLOW, EXTRA_RULES)
        violations += result["violations"] + self._python_none_in_attributes(page)
        self.audited.append(name)
        if violations:
            self.found[name] = violations

    @staticmethod
    def _focus_obscured(page) -> list[dict]:
        """Controls that, once focused (and so scrolled into view by the browser), are still
        covered (the middle of their top 44px) by something else: the sticky status bar, the bottom bar or the
        "I need help" band (WCAG 2.4.11). Reported in axe's shape."""
        nodes = page.evaluate(FOCUS_OBSCURED)
        if not nodes:
            return []
        return [{"id": "focus-obscured", "impact": "serious",
                 "help": "A focused control must not be hidden behind a sticky or fixed bar", "nodes": nodes}]

    @staticmethod
    def _python_none_in_attributes(page) -> list[dict]:
        """Attributes whose value is "None": a Python None printed into the page (axe only sees
        the ARIA ones). Reported in axe's shape."""
        nodes = page.evaluate("""() => Array.from(document.querySelectorAll('*')).flatMap(el =>
            Array.from(el.attributes).filter(a => a.value === 'None').map(a =>
                ({ target: [el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + '[' + a.name + '="None"]'] })))""")
        if not nodes:
            return []
        return [{"id": "python-none-in-attribute", "impact": "serious",
                 "help": "No attribute may hold a Python None printed as text", "nodes": nodes}]

    def assert_clean(self) -> None:
        report = []
        for name, violations in self.found.items():
            report.append(f"  {name} ({self.size}):")
            report.extend(_describe(violations))
        if self.found:
            pytest.fail("axe-core violations (id [impact] help: targets):\n" + "\n".join(report), pytrace=False)
        assert len(self.audited) >= 3, self.audited


@pytest.fixture
def auditor(request):
    size = request.node.callspec.params["size"]
    return Auditor(size)


@pytest.mark.parametrize("size", list(SIZES))
def test_signed_out_pages_have_no_axe_violations(browser, live_server, scene, auditor, size):
    context = _context(browser, live_server, size)
    try:
        page = context.new_page()
        page.goto("/auth/sign-in")
        auditor.audit(page, "sign-in")
        page.fill("#email", WORKER)
        page.fill("#password", "not the password")
        page.click("form.stack button[type=submit]")
        page.wait_for_selector(".error")
        auditor.audit(page, "sign-in-with-error")
        page.goto("/offline")
        auditor.audit(page, "offline")
    finally:
        context.close()
    auditor.assert_clean()


@pytest.mark.parametrize("size", list(SIZES))
def test_worker_pages_have_no_axe_violations(browser, live_server, scene, auditor, size):
    context = _context(browser, live_server, size)
    try:
        page = context.new_page()
        sign_in(page, WORKER)
        page.goto("/")
        auditor.audit(page, "home")
        page.goto("/incidents/new")
        auditor.audit(page, "report-form")
        # The server's own answer to an empty form (as without JavaScript): errors on the fields.
        page.evaluate("HTMLFormElement.prototype.submit.call(document.getElementById('incident-form'))")
        page.wait_for_selector(".error-summary")
        auditor.audit(page, "report-form-server-errors")
        # Through the outbox: the server refuses the record and the phone marks the fields.
        page.goto("/incidents/new")
        page.fill("#description", "x" * 5)
        submit_incident(page)
        page.wait_for_selector(".js-error")
        auditor.audit(page, "report-form-phone-errors")
        page.goto("/waiting")
        wait_until(page, "() => !document.querySelector('#waiting-list').textContent.includes('Looking')")
        auditor.audit(page, "waiting-with-refused-record")
        page.goto("/incidents/")
        auditor.audit(page, "my-reports")
        page.goto(f"/incidents/{scene['incident_id']}")
        auditor.audit(page, "report")
        page.goto("/lone-working/")
        page.wait_for_selector("#lw-status", state="visible")
        auditor.audit(page, "lone-working-status-overdue")
        page.goto("/lone-working/alarm")
        auditor.audit(page, "alarm")
        page.goto("/lone-working/pins")
        auditor.audit(page, "pins")
        page.click("#pins-form button[type=submit]")
        page.wait_for_selector(".error")
        auditor.audit(page, "pins-with-errors")

        other = context.new_page()
        page.context.clear_cookies()
        sign_in(other, WORKER2)
        other.goto("/lone-working/")
        other.wait_for_selector("#lw-start", state="visible")
        auditor.audit(other, "lone-working-start-form")
    finally:
        context.close()
    auditor.assert_clean()


@pytest.mark.parametrize("size", list(SIZES))
def test_supervisor_pages_have_no_axe_violations(browser, live_server, scene, auditor, size):
    context = _context(browser, live_server, size)
    try:
        page = context.new_page()
        sign_in(page, SUPERVISOR)
        page.goto("/supervise/")
        page.wait_for_selector("#alarm-takeover")
        page.wait_for_selector('#board-live li.board-row >> text="Overdue alert, open"')
        auditor.audit(page, "board-with-alarm-and-overdue")
        page.goto(f"/supervise/alerts/{scene['alarm_alert']}")
        auditor.audit(page, "alarm-alert")
        page.goto(f"/supervise/alerts/{scene['overdue_alert']}")
        auditor.audit(page, "overdue-alert")
        page.goto(f"/supervise/sessions/{scene['session_id']}")
        auditor.audit(page, "session-timeline")
        page.goto("/supervise/past?q=Elm")
        auditor.audit(page, "past-sessions")
        page.goto("/incidents/")
        auditor.audit(page, "review-list")
        page.goto(f"/incidents/{scene['incident_id']}")
        auditor.audit(page, "review-report")
        page.goto(f"/incidents/{uuid.uuid4()}")
        auditor.audit(page, "not-found")
        page.goto("/")
        auditor.audit(page, "supervisor-home")
    finally:
        context.close()
    auditor.assert_clean()


@pytest.mark.parametrize("size", list(SIZES))
def test_admin_pages_have_no_axe_violations(browser, live_server, scene, auditor, size):
    context = _context(browser, live_server, size)
    try:
        page = context.new_page()
        sign_in(page, ADMIN)
        page.goto("/supervise/")
        page.wait_for_selector("#alarm-takeover")
        auditor.audit(page, "admin-board")
        page.goto("/incidents/")
        auditor.audit(page, "admin-review-list")
        page.goto("/supervise/past")
        auditor.audit(page, "admin-past-sessions")
    finally:
        context.close()
    auditor.assert_clean()


STYLESHEET_BUDGET = 4_000   # bytes on the wire (brotli), the one stylesheet every page waits for


def test_every_page_waits_for_one_small_stylesheet_cached_for_a_year(browser, live_server, scene):
    """Render-blocking CSS: the CSP allows no inline style, so the first paint waits for the
    stylesheet's round trip; one file (not one per area), small, and immutable under its ?v=
    so a phone fetches it once per deploy."""
    context = _context(browser, live_server, "phone")
    try:
        page = context.new_page()
        hrefs = set()
        pages = (("/auth/sign-in", None), ("/", WORKER), ("/lone-working/", WORKER), ("/supervise/", SUPERVISOR))
        for path, who in pages:
            if who:
                context.clear_cookies()
                sign_in(page, who)
            page.goto(path)
            blocking = page.evaluate("""() => Array.from(document.querySelectorAll('link[rel=stylesheet]'))
                .map(link => link.getAttribute('href'))""")
            assert len(blocking) == 1, f"{path} waits for {len(blocking)} stylesheets: {blocking}"
            hrefs.update(blocking)
        [href] = hrefs
        answer = page.request.get(href, headers={"Accept-Encoding": "br, gzip"})
        assert answer.status == 200
        assert "immutable" in answer.headers["cache-control"] and "max-age=31536000" in answer.headers["cache-control"]
        assert answer.headers.get("content-encoding") in ("br", "gzip")
        assert int(answer.headers["content-length"]) <= STYLESHEET_BUDGET, answer.headers
    finally:
        context.close()
