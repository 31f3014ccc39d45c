"""The e2e harness's pieces: the live server, a database probe, and what a test does on a phone."""
import os
import re
import string
import subprocess
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from support import ServerDidNotStart, free_port, launch_gunicorn, stop_gunicorn, wait_until_serving

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "en-GB", "timezone_id": "Europe/London"}
PASSWORD = "e2e correct horse battery"
SECRET_KEY = "e2e-secret-key-for-tests-only"
WORKER = "worker@demo.example"
WORKER2 = "worker2@demo.example"
SUPERVISOR = "supervisor@demo.example"


# Chromium checks for a new service worker when a page in its scope is opened, and that check
# (the script and its importScripts) is the browser's own: context.set_offline does not always
# stop it (seen by this project with Playwright 1.65 / Chromium 156). Nothing the app sends is in
# it, so the offline checks let exactly these through.
BROWSER_SW_UPDATE_CHECK = ('"GET /sw.js ', '"GET /static/js/outbox.js?v=', '"GET /static/js/sync.js?v=')


class LiveServer:
    """The app under gunicorn on 127.0.0.1, reached as http://localhost:<port> (a secure context)."""

    def __init__(self, workdir: Path, database_url: str, env: dict):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.database_url = database_url
        self.base_env = dict(env)
        self.current_env: dict = {}
        self.access_log = workdir / "access.log"
        self.server_log = workdir / "server.log"
        self.process: subprocess.Popen | None = None
        self.tables_without_migration: list[str] = []

    def _environment(self, extra: dict) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "DATABASE_URL", "WTF_", "ASSET_"))}
        env.update({
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": SECRET_KEY,
            "SAFER_ENV": "development",
            "SIGN_IN_RATE_LIMIT": "1000 per minute",
            "LOCAL_TIMEZONE": "Europe/London",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(self.base_env)
        env.update(extra)
        return env

    def prepare_database(self) -> None:
        """As a deploy does: `flask db upgrade`, then `flask demo-data --password ...` (one process,
        to start the app once). Tables whose migration another engineer has not written yet are
        created from the models and named in `tables_without_migration`."""
        script = f"""
import sqlalchemy as sa
from flask_migrate import upgrade
from app import create_app
from app.extensions import db
app = create_app()
with app.app_context():
    upgrade()
    existing = set(sa.inspect(db.engine).get_table_names())
    missing = [t for t in db.metadata.sorted_tables if t.name not in existing]
    db.metadata.create_all(db.engine, tables=missing)
    db.session.remove()
    result = app.test_cli_runner().invoke(args=["demo-data", "--password", {PASSWORD!r}])
if result.exit_code != 0:
    raise SystemExit(result.output + repr(result.exception))
print("MISSING:" + " ".join(t.name for t in missing))
"""
        result = subprocess.run([str(VENV_BIN / "python"), "-c", script], cwd=ROOT, env=self._environment({}),
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"preparing the database failed:\n{result.stdout}\n{result.stderr}")
        line = [x for x in result.stdout.splitlines() if x.startswith("MISSING:")][-1]
        self.tables_without_migration = line[len("MISSING:"):].split()

    def start(self, **env: str) -> None:
        self.current_env = {**self.base_env, **env}
        args = ("--worker-class", "gthread", "--workers", "1", "--threads", "8",
                "--timeout", "60", "--graceful-timeout", "2", "--keep-alive", "2",
                "--access-logfile", str(self.access_log),
                "--access-logformat", '%(h)s "%(r)s" %(s)s "%(a)s"')
        self.process = launch_gunicorn(self.port, self._environment(env), self.server_log, args)
        try:
            wait_until_serving(self.process, f"http://127.0.0.1:{self.port}", self.server_log,
                               timeout=60)   # a loaded CI machine starts slowly
        except ServerDidNotStart as error:
            raise RuntimeError(f"the live server did not start: {error}") from None

    def stop(self) -> None:
        if self.process is None:
            return
        stop_gunicorn(self.process, timeout=10, quick=True)
        self.process = None

    def restart(self, **env: str) -> None:
        self.stop()
        self.start(**env)

    def access_lines(self) -> list[str]:
        """Requests the server has answered so far (one line each)."""
        time.sleep(0.3)   # gunicorn writes a line just after answering
        if not self.access_log.exists():
            return []
        return self.access_log.read_text().splitlines()

    def requests_since(self, mark: int, path_part: str = "") -> list[str]:
        return [line for line in self.access_lines()[mark:] if path_part in line]

    def quiet_mark(self, quiet: float = 0.6, limit: float = 5.0) -> int:
        """The access-log length once no request has been logged for `quiet` seconds: requests
        already under way when a phone goes offline are answered and logged before the mark."""
        deadline = time.monotonic() + limit
        count = len(self.access_lines())
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = len(self.access_lines())
            if now == count:
                break
            count = now
        return count

    def phone_requests_since(self, mark: int) -> list[str]:
        """What the phone's pages and service worker asked for since `mark`, leaving out the
        browser's own service-worker update check (see BROWSER_SW_UPDATE_CHECK)."""
        return [line for line in self.requests_since(mark)
                if not any(part in line for part in BROWSER_SW_UPDATE_CHECK)]


class Database:
    """Read what the server stored, straight from its database (no HTTP)."""

    def __init__(self, url: str):
        from app import create_app
        self.app = create_app({"TESTING": True, "SECRET_KEY": "probe", "SQLALCHEMY_DATABASE_URI": url,
                               "RATELIMIT_ENABLED": False})

    def _query(self, fn):
        from app.extensions import db
        with self.app.app_context():
            try:
                return fn(db.session)
            finally:
                db.session.remove()

    def incidents(self, description: str | None = None) -> list[dict]:
        """Incidents as plain dicts (with reporter email and the receipt's clocks)."""
        from app.incidents.models import Incident

        def run(session):
            query = sa.select(Incident).order_by(Incident.occurred_at)
            if description is not None:
                query = query.where(Incident.description == description)
            return [{"id": str(i.id), "description": i.description, "reporter": i.reporter.email,
                     "severity": i.severity, "location": i.location, "kinds": i.kind_codes,
                     "branch_id": i.branch_id, "police_informed": i.police_informed,
                     "occurred_at": i.occurred_at, "recorded_at": i.receipt.recorded_at,
                     "recorded_offset_minutes": i.receipt.recorded_offset_minutes,
                     "schema_version": i.receipt.schema_version, "via": i.receipt.via,
                     "received_at": i.receipt.received_at}
                    for i in session.scalars(query).unique()]
        return self._query(run)

    def receipt_count(self, record_id: str | None = None) -> int:
        from app.sync.models import RecordReceipt

        def run(session):
            query = sa.select(sa.func.count()).select_from(RecordReceipt)
            if record_id:
                query = query.where(RecordReceipt.id == uuid.UUID(record_id))
            return session.scalar(query)
        return self._query(run)

    def branch_id(self, name: str = "Central Library") -> int:
        from app.org.models import Branch
        return self._query(lambda s: s.scalar(sa.select(Branch.id).where(Branch.name == name)))




def screenshot(page, name: str, full_page: bool = False) -> Path:
    """Save what the phone shows (390x844) to tests/e2e/artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def sign_in(page, email: str = WORKER, password: str = PASSWORD) -> None:
    page.goto("/auth/sign-in")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*/auth/sign-in).*$"))


def wait_for_service_worker(page) -> None:
    """Until the service worker controls the page (so navigations from now on are kept)."""
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")


def service_worker(context):
    """The newest running service worker of this phone (for evaluating code inside it)."""
    workers = [w for w in context.service_workers if w.url.split("?")[0].endswith("/sw.js")]
    if workers:
        return workers[-1]
    return context.wait_for_event("serviceworker")


KEPT_PAGES = ("/", "/incidents/new", "/waiting")


def kept_pages(page) -> list[str]:
    """The paths in this phone's pages cache."""
    return page.evaluate("""async () => {
        const paths = [];
        for (const name of (await caches.keys()).filter(n => n.startsWith('safer-pages-'))) {
            for (const request of await (await caches.open(name)).keys()) paths.push(new URL(request.url).pathname);
        }
        return paths.sort();
    }""")


def wait_until(page, expression: str, arg=None, timeout: float = 15) -> None:
    """Poll `expression` (a function, which may return a promise) in the page until it is truthy.

    page.wait_for_function does not wait for a returned promise: a pending promise counts as
    truthy. This evaluates and awaits it each time instead.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for: {expression}")
        time.sleep(0.1)


def open_form_online(page) -> None:
    """Sign-in done: with signal, open the report form under the service worker, and wait until
    the worker's pages are kept for use with no signal."""
    page.goto("/")
    wait_for_service_worker(page)
    page.goto("/incidents/new")
    wait_until(page, """async (wanted) => {
        const paths = [];
        for (const name of (await caches.keys()).filter(n => n.startsWith('safer-pages-'))) {
            for (const request of await (await caches.open(name)).keys()) paths.push(new URL(request.url).pathname);
        }
        return wanted.every(path => paths.includes(path));
    }""", list(KEPT_PAGES))


def fill_incident(page, description: str, location: str = "entrance", kinds=("aggressive",),
                  severity: str = "moderate") -> None:
    if location is not None:
        page.select_option("#location", location)
    for kind in kinds:
        page.check(f'input[name="kinds"][value="{kind}"]')
    page.check(f'input[name="severity"][value="{severity}"]')
    page.fill("#description", description)


def submit_incident(page) -> dict:
    """Submit the report form through the outbox; answer {id, sent, outcome}."""
    page.evaluate("""() => { window.__saved = new Promise(resolve => document.addEventListener(
        'outbox:saved', event => resolve(event.detail), { once: true })); }""")
    page.click("#submit-incident")
    detail = page.evaluate("window.__saved.then(d => ({ id: d.record.id, sent: d.sent, record: d.record }))")
    detail["outcome"] = page.get_attribute("#submit-result", "data-outcome")
    return detail


def outbox(page, user_id=None) -> list[dict]:
    """What waits in this phone's outbox (all users when user_id is None)."""
    return page.evaluate("u => SaferOutbox.list(u)", user_id)


def user_id_of(page) -> str:
    return page.get_attribute("body", "data-user-id")


def drain(page) -> dict:
    return page.evaluate("SaferSync.drain({ userId: document.body.dataset.userId })")


def queue_report_offline(context, page, description: str) -> dict:
    """Cut the phone's signal, open the kept form, submit a report: it must be saved on the phone."""
    context.set_offline(True)
    page.goto("/incidents/new")
    fill_incident(page, description)
    result = submit_incident(page)
    assert result["outcome"] == "saved"
    return result


def phone_clock_moved(minutes: float) -> str:
    """An init script moving the page's clock (Date, Date.now) by `minutes` (negative: slow), as a
    phone whose clock is wrong; the server's clock and the service worker's are not moved."""
    return string.Template("""(() => {
        const shift = $shift;
        const RealDate = Date;
        class PhoneDate extends RealDate {
            constructor(...args) { if (args.length === 0) { super(RealDate.now() + shift); } else { super(...args); } }
            static now() { return RealDate.now() + shift; }
        }
        window.Date = PhoneDate;
    })();""").substitute(shift=round(minutes * 60000))
