"""Benchmark: the supervisor board's query and the escalation sweep at national scale.

Seeds (SQLAlchemy Core bulk inserts) one large library service: 500 teams, 5,000 workers each
with an active session, 200,000 past sessions holding 1,000,000 past events (each with its
record receipt), 20,000 past resolved alerts and 50 open ones. Then measures, with the real
code paths (app.supervise.services.load_board, app.lone_working.escalation.run_sweep):
  - the board for a supervisor of 50 teams (about 500 active sessions) and for the admin
    (all 5,000; the 200 most urgent are shown);
  - a sweep with nothing new to do (the usual case, every 30 s);
  - a sweep that raises and notifies 50 new overdue alerts (SMTP replaced by a no-op, so the
    figure is the database work, not the mail server's latency).

Usage:
  .venv/bin/python bench/board_and_sweep.py                       # SQLite in /tmp
  .venv/bin/python bench/board_and_sweep.py --database postgresql://postgres@127.0.0.1/bench_lw
"""
import argparse
import hashlib
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

TEAMS = 500
WORKERS = 5_000
PAST_SESSIONS = 200_000
EVENTS_PER_PAST_SESSION = 5  # 1,000,000 past events
PAST_ALERTS = 20_000
OPEN_ALERTS = 50
SUPERVISED_TEAMS = 50
CHUNK = 20_000


def percentile(samples, p):
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def make_app(url):
    from app import create_app
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                       "SMTP_HOST": "bench.invalid", "RATELIMIT_ENABLED": False})


def insert_chunks(conn, table, rows_iter):
    chunk = []
    for row in rows_iter:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            conn.execute(table.insert(), chunk)
            chunk = []
    if chunk:
        conn.execute(table.insert(), chunk)


def seed(db, now):
    from werkzeug.security import generate_password_hash

    from app.auth.models import User
    from app.lone_working.models import Alert, LoneWorkingEvent, LoneWorkingSession
    from app.lone_working.settings import ensure_lone_working_setup
    from app.org.models import Branch, LibraryService, Team, team_supervisors
    from app.sync.models import RecordReceipt

    db.drop_all()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.create_all()
    password = generate_password_hash("bench password", method="scrypt")
    started = time.perf_counter()
    with db.engine.begin() as conn:
        conn.execute(LibraryService.__table__.insert(), [{"id": 1, "name": "Big County Libraries"}])
        conn.execute(Branch.__table__.insert(), [{"id": b, "library_service_id": 1, "name": f"Branch {b}",
                                                  "kind": "building"} for b in range(1, TEAMS // 2 + 1)])
        conn.execute(Team.__table__.insert(), [{"id": t, "branch_id": (t - 1) // 2 + 1, "name": f"Team {t}"}
                                               for t in range(1, TEAMS + 1)])
        users = [{"id": u, "email": f"worker{u}@big.example", "name": f"Worker {u}", "password_hash": password,
                  "role": "staff", "library_service_id": 1, "team_id": (u - 1) % TEAMS + 1, "active": True,
                  "created_at": now} for u in range(1, WORKERS + 1)]
        users.append({"id": WORKERS + 1, "email": "sup@big.example", "name": "Big Supervisor",
                      "password_hash": password, "role": "supervisor", "library_service_id": 1, "team_id": 1,
                      "active": True, "created_at": now})
        users.append({"id": WORKERS + 2, "email": "admin@big.example", "name": "Big Admin", "password_hash": password,
                      "role": "admin", "library_service_id": 1, "team_id": None, "active": True, "created_at": now})
        conn.execute(User.__table__.insert(), users)
        conn.execute(team_supervisors.insert(), [{"team_id": t, "user_id": WORKERS + 1}
                                                 for t in range(1, SUPERVISED_TEAMS + 1)])
    with db.session.begin():
        ensure_lone_working_setup(1, contacts=[{"name": "Duty", "email": "duty@big.example", "phone": "+447700900000",
                                                "escalation_level": 2, "on_alarm_screen": True}])
    db.session.remove()

    session_t = LoneWorkingSession.__table__
    receipt_t = RecordReceipt.__table__
    event_t = LoneWorkingEvent.__table__
    digest = hashlib.sha256(b"bench").hexdigest()

    def session_row(sid, worker, created, status, deadline, finished=None):
        return {"id": sid, "worker_id": worker, "library_service_id": 1, "team_id": (worker - 1) % TEAMS + 1,
                "created_at": created, "has_start": True, "status": status, "started_at": created,
                "started_offset_minutes": 60, "place_kind": "home_visit", "branch_id": None,
                "place": f"{worker} Long Road", "latitude": None, "longitude": None, "note": "",
                "check_in_interval_minutes": 30, "planned_end_at": created + timedelta(hours=4),
                "last_check_in_at": created, "last_check_in_offset_minutes": 60,
                "last_check_in_received_at": created, "last_contact_at": created, "last_contact_offset_minutes": 60,
                "last_contact_received_at": created, "next_check_in_due_at": deadline, "deadline_at": deadline,
                "overdue_at": None if status == "finished" else deadline + timedelta(minutes=5),
                "finished_at": finished, "finished_received_at": finished, "clock_flag": None,
                "event_count": 5, "last_sequence": 4, "updated_at": created}

    with db.engine.begin() as conn:
        # 5,000 active sessions, deadlines from 15 min to 2 h 15 min ahead (none goes overdue by itself
        # while the benchmark runs; the busy sweep below makes 50 at a time miss their check-in).
        active = []
        for worker in range(1, WORKERS + 1):
            deadline = now + timedelta(minutes=15 + (worker * 7) % 120)
            active.append(session_row(uuid.uuid4(), worker, now - timedelta(minutes=20), "active", deadline))
        conn.execute(session_t.insert(), active)
        active_ids = [row["id"] for row in active]

        past_ids = []

        def past_sessions():
            for n in range(PAST_SESSIONS):
                created = now - timedelta(days=1 + n % 60, minutes=n % 1440)
                sid = uuid.uuid4()
                past_ids.append((sid, n % WORKERS + 1, created))
                yield session_row(sid, n % WORKERS + 1, created, "finished", created + timedelta(minutes=30),
                                  finished=created + timedelta(hours=2))
        insert_chunks(conn, session_t, past_sessions())

        kinds = ("session_started", "check_in", "check_in", "session_extended", "session_finished")

        def receipts_and_events():
            for sid, worker, created in past_ids:
                for seq, kind in enumerate(kinds):
                    eid = uuid.uuid4()
                    at = created + timedelta(minutes=25 * seq)
                    yield ({"id": eid, "record_type": kind, "schema_version": 1, "user_id": worker,
                            "content_hash": digest, "recorded_at": at, "recorded_offset_minutes": 60,
                            "received_at": at, "clock_skew_seconds": 0, "clock_flag": None, "via": "sync"},
                           {"id": eid, "session_id": sid, "worker_id": worker, "kind": kind, "sequence": seq,
                            "recorded_at": at, "recorded_offset_minutes": 60, "received_at": at, "effective_at": at,
                            "clock_flag": None, "data": {},
                            "finish_pin": "none" if kind == "session_finished" else None})

        receipts, events = [], []
        for receipt, event in receipts_and_events():
            receipts.append(receipt)
            events.append(event)
            if len(events) >= CHUNK:
                conn.execute(receipt_t.insert(), receipts)
                conn.execute(event_t.insert(), events)
                receipts, events = [], []
        if events:
            conn.execute(receipt_t.insert(), receipts)
            conn.execute(event_t.insert(), events)

        alert_t = Alert.__table__
        conn.execute(alert_t.insert(), [{
            "dedupe_key": f"overdue:{sid}:{created.isoformat()}", "kind": "overdue", "library_service_id": 1,
            "team_id": (worker - 1) % TEAMS + 1, "worker_id": worker, "session_id": sid, "source_event_id": None,
            "cause_at": created, "raised_at": created, "level": 1, "next_escalation_at": None,
            "acknowledged_at": created, "acknowledged_by_id": WORKERS + 1, "resolved_at": created,
            "resolved_by_id": WORKERS + 1, "outcome": "false_alarm"}
            for sid, worker, created in past_ids[:PAST_ALERTS]])
        conn.execute(alert_t.insert(), [{
            "dedupe_key": f"alarm:{uuid.uuid4()}", "kind": "alarm", "library_service_id": 1,
            "team_id": (w - 1) % TEAMS + 1, "worker_id": w, "session_id": active_ids[w - 1], "source_event_id": None,
            "cause_at": now, "raised_at": now - timedelta(minutes=1), "level": 3, "next_escalation_at": None,
            "acknowledged_at": None, "acknowledged_by_id": None, "resolved_at": None, "resolved_by_id": None,
            "outcome": None} for w in range(1, OPEN_ALERTS * 40, 40)])
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    else:
        with db.engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
    return time.perf_counter() - started, active_ids


def measure(label, fn, runs):
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    p50, p95 = percentile(samples, 50), percentile(samples, 95)
    print(f"  {label:<58} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms   (n={runs})")
    return p50, p95


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", "sqlite:////tmp/bench_lw.db"))
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    if args.database.startswith("sqlite:////tmp/"):
        for suffix in ("", "-wal", "-shm"):
            Path(args.database[len("sqlite:///"):] + suffix).unlink(missing_ok=True)

    from app import clock
    from app.auth.models import User
    from app.extensions import db
    from app.lone_working.escalation import run_sweep
    from app.lone_working.models import LoneWorkingEvent, LoneWorkingSession
    from app.supervise.services import load_board

    app = make_app(args.database)
    with app.app_context():
        now = datetime.now(UTC)
        seconds, active_ids = seed(db, now)
        events = db.session.scalar(sa.select(sa.func.count()).select_from(LoneWorkingEvent))
        sessions = db.session.scalar(sa.select(sa.func.count()).select_from(LoneWorkingSession))
        print(f"{db.engine.dialect.name}: seeded {sessions:,} sessions (5,000 active), {events:,} past events, "
              f"{PAST_ALERTS:,} past alerts, {OPEN_ALERTS} open alarms in {seconds:.1f} s")
        supervisor = db.session.scalar(sa.select(User).where(User.email == "sup@big.example"))
        admin = db.session.scalar(sa.select(User).where(User.email == "admin@big.example"))
        figures = {}

        def board_for(user):
            def run():
                board = load_board(user, clock.utcnow())
                assert board.rows
                db.session.rollback()
            return run

        load_board(supervisor, clock.utcnow())
        figures["board_supervisor"] = measure(f"board query, supervisor of {SUPERVISED_TEAMS} teams (~500 active)",
                                              board_for(supervisor), args.runs)
        figures["board_admin"] = measure("board query, admin of the service (5,000 active, 200 shown)",
                                         board_for(admin), args.runs)
        db.session.remove()

        def no_mail(config, to, subject, body, recipient_name=None):
            return None

        run_sweep(send=no_mail)  # settle: raise whatever is already due
        figures["sweep_idle"] = measure("sweep, nothing new (the usual pass)", lambda: run_sweep(send=no_mail),
                                        args.runs)

        table = LoneWorkingSession.__table__
        batches = iter([active_ids[i:i + 50] for i in range(1000, 1000 + 50 * 20, 50)])

        def sweep_with_new_alerts():
            ids = next(batches)
            past = clock.utcnow() - timedelta(minutes=10)
            with db.engine.begin() as conn:  # 50 sessions miss their check-in (not timed)
                conn.execute(table.update().where(table.c.id.in_(ids))
                             .values(deadline_at=past, overdue_at=past + timedelta(minutes=5)))
            t0 = time.perf_counter()
            report = run_sweep(send=no_mail)
            elapsed = (time.perf_counter() - t0) * 1000
            assert report.raised == 50, report
            return elapsed

        samples = [sweep_with_new_alerts() for _ in range(20)]
        figures["sweep_busy"] = (percentile(samples, 50), percentile(samples, 95))
        print(f"  {'sweep raising and emailing 50 new overdue alerts (no-op SMTP)':<58} "
              f"p50 {figures['sweep_busy'][0]:8.1f} ms   p95 {figures['sweep_busy'][1]:8.1f} ms   (n=20)")
    return figures


if __name__ == "__main__":
    main()
