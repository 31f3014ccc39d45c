"""What the lone-working browser tests do on a phone, and what they read from the server's database."""
import time
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from e2e_helpers import service_worker, wait_for_service_worker, wait_until

LW_PAGES = ("/lone-working/", "/lone-working/alarm")
FETCH_PING = """() => fetch('/api/v1/session', { cache: 'no-store' })
    .then(response => 'answered ' + response.status, error => 'failed: ' + error.message)"""
# Records what the page asked the phone to vibrate (the call itself still happens).
RECORD_VIBRATIONS = """(() => {
    const real = navigator.vibrate ? navigator.vibrate.bind(navigator) : null;
    window.__vibrations = [];
    navigator.vibrate = (pattern) => { window.__vibrations.push(pattern); return real ? real(pattern) : true; };
})();"""
HERE = {"latitude": 52.62872, "longitude": 1.29346, "accuracy": 12}   # outside a library in Norwich


def worker_phone(new_phone, **options):
    """A phone whose worker allowed notifications and location."""
    context = new_phone(permissions=["notifications", "geolocation"], geolocation=HERE, **options)
    context.add_init_script(RECORD_VIBRATIONS)
    return context


def open_lone_working_online(page) -> None:
    """With signal: the lone-working page under the service worker, and both worker pages kept."""
    page.goto("/lone-working/")
    wait_for_service_worker(page)
    wait_until(page, """async (wanted) => {
        const paths = [];
        for (const name of (await caches.keys()).filter(n => n.startsWith('safer-pages-'))) {
            for (const request of await (await caches.open(name)).keys()) paths.push(new URL(request.url).pathname);
        }
        return wanted.every(path => paths.includes(path));
    }""", list(LW_PAGES))
    page.reload()   # now controlled from the first byte, as a worker's phone is on any later day


def go_offline(context, page, live_server) -> int:
    """Cut the phone off and prove it (pitfall 15): the page and its service worker reach nothing.

    Returns the access-log mark for live_server.phone_requests_since (the server saw nothing)."""
    context.set_offline(True)
    mark = live_server.quiet_mark()
    assert page.evaluate(FETCH_PING).startswith("failed"), "the page still reaches the server"
    assert service_worker(context).evaluate(FETCH_PING).startswith("failed"), \
        "the service worker still reaches the server"
    return mark


# The 'outbox:saved' detail a page promised in window.__saved, as plain values.
SAVED_DETAIL = "window.__saved.then(d => ({ id: d.record.id, sent: d.sent, type: d.record.type, data: d.record.data }))"


def submit(page, selector: str) -> dict:
    """Click a submit button of an outbox form; answer the 'outbox:saved' detail (record, sent)."""
    page.evaluate("""() => { window.__saved = new Promise(resolve => document.addEventListener(
        'outbox:saved', event => resolve(event.detail), { once: true })); }""")
    page.click(selector)
    return page.evaluate(SAVED_DETAIL)


def wait_for_saved(page) -> dict:
    return page.evaluate(SAVED_DETAIL)


def arm_saved(page) -> None:
    page.evaluate("""() => { window.__saved = new Promise(resolve => document.addEventListener(
        'outbox:saved', event => resolve(event.detail), { once: true })); }""")


def in_two_hours() -> str:
    """A finish time for the start form's time field (the phone is in Europe/London)."""
    from zoneinfo import ZoneInfo
    return (datetime.now(ZoneInfo("Europe/London")) + timedelta(hours=2)).strftime("%H:%M")


def start_session(page, place: str, interval: str = "5") -> dict:
    """Start a home visit from the start form; answer the saved record."""
    page.check('#lw-start-form input[name="place_kind"][value="home_visit"]')
    page.fill("#place", place)
    page.fill("#planned_end_at", in_two_hours())
    page.select_option("#check_in_interval_minutes", interval)
    return submit(page, "#lw-start-button")


def outbox_ids(page) -> list[str]:
    return page.evaluate("SaferOutbox.list(document.body.dataset.userId).then(rs => rs.map(r => r.id))")


def wait_outbox_empty(page, timeout: float = 30) -> None:
    wait_until(page, "() => SaferOutbox.list(document.body.dataset.userId).then(rs => rs.length === 0)",
               timeout=timeout)


def board_row(page, worker_name: str):
    return page.locator(f'#board-live li.board-row[data-worker="{worker_name}"]')


class LoneWorkingRows:
    """The lone-working rows the live server stored, read straight from its database."""

    def __init__(self, database):
        self.database = database

    def session(self, session_id: str):
        from app.lone_working.models import LoneWorkingSession

        def run(s):
            row = s.get(LoneWorkingSession, uuid.UUID(session_id))
            if row is None:
                return None
            return {"status": row.status, "place": row.place, "has_start": row.has_start,
                    "last_check_in_at": row.last_check_in_at,
                    "last_check_in_received_at": row.last_check_in_received_at,
                    "worker": row.worker.email, "last_sequence": row.last_sequence, "latitude": row.latitude}
        return self.database._query(run)

    def events(self, session_id: str) -> list[dict]:
        from app.lone_working.models import LoneWorkingEvent

        def run(s):
            rows = s.scalars(sa.select(LoneWorkingEvent).where(LoneWorkingEvent.session_id == uuid.UUID(session_id))
                             .order_by(LoneWorkingEvent.recorded_at, LoneWorkingEvent.sequence)).all()
            return [{"id": str(e.id), "kind": e.kind, "sequence": e.sequence, "recorded_at": e.recorded_at,
                     "received_at": e.received_at, "data": dict(e.data or {}), "finish_pin": e.finish_pin}
                    for e in rows]
        return self.database._query(run)

    def event(self, event_id: str) -> dict | None:
        from app.lone_working.models import LoneWorkingEvent

        def run(s):
            e = s.get(LoneWorkingEvent, uuid.UUID(event_id))
            if e is None:
                return None
            return {"id": str(e.id), "kind": e.kind, "session_id": str(e.session_id) if e.session_id else None,
                    "sequence": e.sequence, "recorded_at": e.recorded_at, "received_at": e.received_at,
                    "data": dict(e.data or {}), "worker": e.worker_id}
        return self.database._query(run)

    def alerts(self, **filters) -> list[dict]:
        from app.lone_working.models import Alert

        def run(s):
            rows = s.scalars(sa.select(Alert).filter_by(**filters).order_by(Alert.id)).all()
            return [{"id": a.id, "kind": a.kind, "session_id": str(a.session_id) if a.session_id else None,
                     "worker": a.worker.email, "level": a.level, "latitude": a.latitude, "longitude": a.longitude,
                     "resolved_at": a.resolved_at} for a in rows]
        return self.database._query(run)

    def notifications(self) -> list[dict]:
        from app.lone_working.models import Notification

        def run(s):
            return [{"alert_id": n.alert_id, "level": n.level, "to": n.recipient_email, "status": n.status}
                    for n in s.scalars(sa.select(Notification).order_by(Notification.id))]
        return self.database._query(run)


def poll(fn, timeout: float = 15, interval: float = 0.2):
    """fn() until it answers something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s")
        time.sleep(interval)


class Inbox:
    """What a real SMTP server (aiosmtpd on 127.0.0.1) received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy
        self.messages.append({"to": list(envelope.rcpt_tos),
                              "message": message_from_bytes(envelope.content, policy=policy.default)})
        return "250 Message accepted for delivery"


def run_sweep(live_server, shift_minutes: float, **env: str):
    """`flask escalate` once, in its own process, on the live server's database and environment,
    with the server's clock `shift_minutes` later (see moved_clock_app.py)."""
    import subprocess

    from e2e_helpers import ROOT, VENV_BIN
    environment = live_server._environment({"SAFER_E2E_CLOCK_SHIFT_MINUTES": str(shift_minutes),
                                            "PYTHONPATH": str(ROOT / "tests" / "e2e"), **env})
    result = subprocess.run([str(VENV_BIN / "flask"), "--app", "moved_clock_app", "escalate"], cwd=ROOT,
                            env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
