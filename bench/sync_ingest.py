"""Sync-ingest benchmark: incident records over HTTP to the app under gunicorn, beside a raw insert.

Prints figures; it is not a pass/fail test (it exits non-zero only if records were lost or
stored twice). In one run it:

1. makes a fresh database (a new SQLite file, or a new schema in the PostgreSQL database given
   with --database-url) with the migrations and the demo accounts;
2. starts the app under gunicorn on 127.0.0.1 and a free port, signs in as worker@demo.example
   from each sender, and sends N incident records in batches over HTTP; records per second is
   N over the time from the first request to the last answer;
3. inserts the same N records (receipt + incident + kinds rows) into a second fresh database of
   the same kind with SQLAlchemy Core executemany, one transaction per batch of the same size;
4. sends --single-records more records one per POST to the same server (what a phone does with
   a single report), for the batch-against-single ratio;
5. prints the rates and their ratios, and checks that exactly the records sent exist (no loss,
   no duplicates), also after resending a batch.

    .venv/bin/python bench/sync_ingest.py
    .venv/bin/python bench/sync_ingest.py --database-url postgresql://postgres@127.0.0.1/bench_ingest
"""
import argparse
import contextlib
import hashlib
import json
import logging
import os
import queue
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import requests
import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # the test support: free port, live server, signed-in session

import support  # noqa: E402
from support import gunicorn_server  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402

PASSWORD = "benchmark password"
KINDS = ["aggressive", "abusive_language", "disruptive", "threatening", "theft", "filming"]
LOCATIONS = ["entrance", "counter", "computers", "toilets", "outside", "childrens_area"]


# --- fresh databases -----------------------------------------------------------------------

class Database:
    """A fresh database for one part of the run: a SQLite file, or a PostgreSQL schema."""

    def __init__(self, base_url: str | None, workdir: Path, name: str):
        self.schema = None
        if base_url is None:
            self.url = f"sqlite:///{workdir / (name + '.db')}"
        else:
            url = base_url.replace("postgresql://", "postgresql+psycopg://", 1)
            self.schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
            self._admin = sa.create_engine(url)
            with self._admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
            separator = "&" if "?" in url else "?"
            self.url = f"{url}{separator}options=-csearch_path%3D{self.schema}"
        self.kind = "sqlite" if base_url is None else "postgresql"

    def app(self):
        return create_app({"SQLALCHEMY_DATABASE_URI": self.url, "SECRET_KEY": "bench", "TESTING": True,
                           "RATELIMIT_ENABLED": False})

    def prepare(self) -> dict:
        """Migrate, add the demo accounts; answers the worker's ids for building rows."""
        from flask_migrate import upgrade

        from app.auth.models import User
        from app.org.services import create_demo_data

        app = self.app()
        with app.app_context():
            with _quiet_alembic():
                upgrade(directory=str(REPO / "migrations"))
            create_demo_data(PASSWORD)
            worker = db.session.scalar(sa.select(User).where(User.email == "worker@demo.example"))
            ids = {"user_id": worker.id, "team_id": worker.team_id, "branch_id": worker.team.branch_id,
                   "library_service_id": worker.library_service_id}
            db.session.remove()
            db.engine.dispose()
        return ids

    def counts(self) -> dict:
        app = self.app()
        with app.app_context():
            result = {table: db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
                      for table in ("record_receipt", "incident", "incident_kind")}
            result["distinct_incidents"] = db.session.scalar(sa.text("SELECT count(DISTINCT id) FROM incident"))
            db.session.remove()
            db.engine.dispose()
        return result

    def drop(self) -> None:
        if self.schema:
            with self._admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            self._admin.dispose()


@contextlib.contextmanager
def _quiet_alembic():
    """Alembic's env.py reconfigures logging to stderr; keep the benchmark's output to its figures."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
            yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


# --- the records ---------------------------------------------------------------------------

def make_records(count: int, branch_id: int) -> list[dict]:
    """Incident records as a phone sends them, each a little different."""
    phone_tz = timezone(timedelta(hours=1))
    now = datetime.now(phone_tz)
    records = []
    for i in range(count):
        recorded = now - timedelta(seconds=count - i)
        records.append({
            "id": str(uuid.uuid4()), "type": "incident", "schema_version": 1,
            "recorded_at": recorded.isoformat(),
            "data": {
                "occurred_at": (recorded - timedelta(minutes=5 + i % 50)).isoformat(),
                "branch_id": branch_id, "location": LOCATIONS[i % len(LOCATIONS)],
                "kinds": [KINDS[i % len(KINDS)], KINDS[(i + 1) % len(KINDS)]],
                "severity": ["low", "moderate", "high"][i % 3],
                "description": f"Report {i}: a man shouted at staff by the counter and refused to leave. "
                               "He said he would come back later. Staff asked him to leave twice.",
                "people_involved": "Man, about 40, grey coat", "witnesses": "A reader at the computers",
                "police_informed": i % 5 == 0, "actions_taken": ["asked_to_leave"],
            },
        })
    return records


# --- over HTTP -----------------------------------------------------------------------------

@contextlib.contextmanager
def gunicorn(database: Database, workers: int, log_path: Path):
    """The app under gunicorn on `database` (tests/support's live server, given a minute to start)."""
    with gunicorn_server(database.url, log_path, workers=workers, env={"SAFER_ENV": "bench"}, start_timeout=60,
                         stop_timeout=30) as base_url:
        yield base_url


def signed_in_session(base_url: str) -> tuple[requests.Session, str]:
    return support.signed_in_session(base_url, "worker@demo.example", PASSWORD, remember=False)


def send_batch(session, token, base_url, batch) -> list[dict]:
    body = {"sent_at": datetime.now(UTC).isoformat(), "records": batch}
    response = session.post(base_url + "/api/v1/sync", json=body, headers={"X-CSRFToken": token}, timeout=120)
    if response.status_code != 200:
        raise RuntimeError(f"sync answered {response.status_code}: {response.text[:300]}")
    return response.json()["results"]


def run_http(base_url: str, batches: list[list[dict]], senders: int) -> dict:
    sessions = [signed_in_session(base_url) for _ in range(senders)]
    work: queue.Queue = queue.Queue()
    for batch in batches:
        work.put(batch)
    statuses: dict[str, int] = {}
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def sender(session, token):
        while True:
            try:
                batch = work.get_nowait()
            except queue.Empty:
                return
            started = time.perf_counter()
            try:
                results = send_batch(session, token, base_url, batch)
            except Exception as error:  # recorded and reported; the run is then a failure
                with lock:
                    errors.append(str(error))
                continue
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                for result in results:
                    statuses[result["status"]] = statuses.get(result["status"], 0) + 1

    threads = [threading.Thread(target=sender, args=pair) for pair in sessions]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    # Idempotency under load: the first batch again must store nothing.
    again = send_batch(*sessions[0], base_url, batches[0])
    return {"seconds": seconds, "statuses": statuses, "latencies": latencies, "errors": errors,
            "resend": {r["status"] for r in again}}


# --- raw insert ----------------------------------------------------------------------------

def raw_rows(records: list[dict], ids: dict) -> list[tuple[list, list, list]]:
    """The rows the app would write for each record, built before timing starts."""
    received = datetime.now(UTC)
    rows = []
    for record in records:
        data = record["data"]
        record_id = uuid.UUID(record["id"])
        recorded = datetime.fromisoformat(record["recorded_at"])
        occurred = datetime.fromisoformat(data["occurred_at"])
        digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
        receipt = {"id": record_id, "record_type": "incident", "schema_version": 1, "user_id": ids["user_id"],
                   "content_hash": digest, "recorded_at": recorded, "recorded_offset_minutes": 60,
                   "received_at": received, "clock_skew_seconds": 0, "clock_flag": None, "via": "sync"}
        incident = {"id": record_id, "reporter_id": ids["user_id"], "library_service_id": ids["library_service_id"],
                    "team_id": ids["team_id"], "branch_id": data["branch_id"], "occurred_at": occurred,
                    "occurred_offset_minutes": 60, "location": data["location"], "location_detail": "",
                    "severity": data["severity"], "description": data["description"],
                    "people_involved": data["people_involved"], "witnesses": data["witnesses"], "injuries": "",
                    "police_informed": data["police_informed"], "police_reference": "", "cctv_footage": False,
                    "bodycam_footage": False, "actions_taken": data["actions_taken"], "debrief_wanted": False}
        kinds = [{"incident_id": record_id, "kind": kind} for kind in data["kinds"]]
        rows.append((receipt, incident, kinds))
    return rows


def run_raw_insert(database: Database, rows, batch_size: int) -> float:
    from app.incidents.models import Incident, IncidentKind
    from app.sync.models import RecordReceipt

    app = database.app()  # the app's own engine: the same SQLite pragmas (WAL, synchronous=NORMAL)
    with app.app_context():
        engine = db.engine
        tables = (RecordReceipt.__table__, Incident.__table__, IncidentKind.__table__)
        started = time.perf_counter()
        for start in range(0, len(rows), batch_size):
            chunk = rows[start:start + batch_size]
            with engine.begin() as conn:
                conn.execute(tables[0].insert(), [r[0] for r in chunk])
                conn.execute(tables[1].insert(), [r[1] for r in chunk])
                conn.execute(tables[2].insert(), [k for r in chunk for k in r[2]])
        seconds = time.perf_counter() - started
        engine.dispose()
    return seconds


# --- the run -------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL database to use (new schemas are made and dropped); "
                                               "default: new SQLite files in a temporary directory")
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--senders", type=int, default=2, help="concurrent HTTP senders")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--single-records", type=int, default=1_000,
                        help="records then sent one per POST, for the batch-against-single ratio")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        workdir = Path(tmp)
        http_db = Database(args.database_url, workdir, "http")
        raw_db = Database(args.database_url, workdir, "raw")
        try:
            ids = http_db.prepare()
            raw_ids = raw_db.prepare()
            records = make_records(args.records, ids["branch_id"])
            batches = [records[i:i + args.batch_size] for i in range(0, len(records), args.batch_size)]

            singles = make_records(args.single_records, ids["branch_id"])
            with gunicorn(http_db, args.workers, workdir / "gunicorn.log") as base_url:
                http = run_http(base_url, batches, args.senders)
                single = run_http(base_url, [[record] for record in singles], args.senders) if singles else None
            http_counts = http_db.counts()

            rows = raw_rows(records, raw_ids)
            raw_seconds = run_raw_insert(raw_db, rows, args.batch_size)
            raw_counts = raw_db.counts()
        finally:
            http_db.drop()
            raw_db.drop()

    n = args.records
    http_rate = n / http["seconds"]
    single_rate = args.single_records / single["seconds"] if single else None
    raw_rate = n / raw_seconds
    latencies = sorted(http["latencies"])
    p95 = latencies[int(len(latencies) * 0.95) - 1] if latencies else float("nan")
    print(f"Sync ingest benchmark: {http_db.kind}, {n} incident records, batches of {args.batch_size}, "
          f"{args.senders} senders, gunicorn with {args.workers} workers")
    print(f"  over HTTP : {n} records in {http['seconds']:.2f} s = {http_rate:,.0f} records/s "
          f"(batch answer median {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms)")
    rows_per_record = 2 + 2  # receipt, incident and two kinds
    print(f"  raw insert: {n} records ({n * rows_per_record} rows) in {raw_seconds:.2f} s = {raw_rate:,.0f} records/s "
          f"= {raw_rate * rows_per_record:,.0f} rows/s (Core executemany, one transaction per batch)")
    print(f"  ratio     : raw insert is {raw_rate / http_rate:.1f}x faster; "
          f"sync over HTTP reaches {100 * http_rate / raw_rate:.1f}% of the raw insert rate")
    if single:
        single_latencies = sorted(single["latencies"])
        print(f"  one a POST: {args.single_records} records in {single['seconds']:.2f} s = "
              f"{single_rate:,.0f} records/s "
              f"(answer median {statistics.median(single_latencies) * 1000:.0f} ms); batches of {args.batch_size} "
              f"are {http_rate / single_rate:.1f}x faster")

    problems = []
    if http["errors"]:
        problems.append(f"{len(http['errors'])} batches failed, first: {http['errors'][0]}")
    if http["statuses"] != {"created": n}:
        problems.append(f"answers were {http['statuses']}, expected {n} created")
    if single and (single["errors"] or single["statuses"] != {"created": args.single_records}):
        problems.append(f"one-a-POST answers were {single['statuses']} with {len(single['errors'])} failures")
    if http["resend"] != {"duplicate"}:
        problems.append(f"resending a batch answered {http['resend']}, expected only duplicate")
    expected = {"record_receipt": n, "incident": n, "incident_kind": 2 * n, "distinct_incidents": n}
    total = n + args.single_records
    expected_http = {"record_receipt": total, "incident": total, "incident_kind": 2 * total,
                     "distinct_incidents": total}
    if http_counts != expected_http:
        problems.append(f"HTTP database holds {http_counts}, expected {expected_http}")
    if raw_counts != expected:
        problems.append(f"raw database holds {raw_counts}, expected {expected}")
    if problems:
        print("  check     : FAILED\n    " + "\n    ".join(problems))
        return 1
    print(f"  check     : exactly {total} incidents stored over HTTP, none lost, none twice "
          f"(a resent batch answered duplicate and stored nothing)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
