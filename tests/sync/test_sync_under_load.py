"""10,000 records in overlapping batches from 8 threads to gunicorn: no answer >= 500, each
record stored exactly once.

Every record is sent by two of its worker's four threads, each thread in its own shuffled
order, so concurrent batches insert the same receipts and lock the same lone-working sessions
in different orders: the case that deadlocked on PostgreSQL and escaped as an IntegrityError on
SQLite. The server must order its locks, retry what still collides, and answer every record.
"""
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta, timezone

import requests
from test_sync_parallel import _signed_in_session

from app.incidents.models import Incident
from app.lone_working.models import Alert, LoneWorkingEvent, LoneWorkingSession
from app.sync.models import RecordReceipt

LIVE_SERVER_WORKERS = 4
LIVE_SERVER_THREADS = 2

WORKERS = ("worker@demo.example", "worker2@demo.example")
THREADS_PER_WORKER = 4
SESSIONS_PER_WORKER = 200          # 5 events each (start, 3 check-ins, finish): 1,000 records
INCIDENTS_PER_WORKER = 3_990        # with 10 alarms: 5,000 records a worker
ALARMS_PER_WORKER = 10
BATCH = 100
BST = timezone(timedelta(hours=1))


def _records_of_one_worker(branch_id: int, rng: random.Random) -> list[dict]:
    base = datetime.now(BST) - timedelta(hours=3)
    records = []

    def record(type_, data, at):
        records.append({"id": str(uuid.uuid4()), "type": type_, "schema_version": 1,
                        "recorded_at": at.isoformat(), "data": data})

    for number in range(SESSIONS_PER_WORKER):
        start_at = base + timedelta(seconds=number)
        session_id = str(uuid.uuid4())
        records.append({"id": session_id, "type": "session_started", "schema_version": 1,
                        "recorded_at": start_at.isoformat(),
                        "data": {"place_kind": "home_visit", "place": f"{number} Elm Road", "duration_minutes": 120,
                                 "check_in_interval_minutes": 30, "sequence": 0}})
        for sequence in (1, 2, 3):
            record("check_in", {"session_id": session_id, "sequence": sequence},
                   start_at + timedelta(minutes=20 * sequence))
        record("session_finished", {"session_id": session_id, "sequence": 4}, start_at + timedelta(minutes=90))
    for number in range(ALARMS_PER_WORKER):
        record("alarm_raised", {"message": f"load test alarm {number}", "sequence": 1},
               base + timedelta(minutes=number))
    for number in range(INCIDENTS_PER_WORKER):
        occurred = base + timedelta(seconds=number)
        record("incident", {"occurred_at": occurred.isoformat(), "branch_id": branch_id, "location": "entrance",
                            "kinds": ["abusive_language"], "severity": "low",
                            "description": f"Load test report {number}: shouting at the counter."},
               occurred + timedelta(minutes=5))
    rng.shuffle(records)
    return records


def test_ten_thousand_records_in_overlapping_batches_from_eight_threads_are_each_stored_once(
        app, live_server, count_rows):
    import sqlalchemy as sa

    from app.extensions import db
    from app.org.models import Branch

    with app.app_context():
        branch_id = db.session.scalar(sa.select(Branch.id).order_by(Branch.id))
        db.session.remove()
    rng = random.Random(20261127)
    plans = []  # (email, [batches]) per thread
    all_records = {}
    for email in WORKERS:
        records = _records_of_one_worker(branch_id, rng)
        all_records.update({r["id"]: r for r in records})
        per_thread = defaultdict(list)
        for index, record in enumerate(records):  # each record goes to two threads of its worker
            per_thread[index % THREADS_PER_WORKER].append(record)
            per_thread[(index + 1) % THREADS_PER_WORKER].append(record)
        for thread_records in per_thread.values():
            rng.shuffle(thread_records)
            plans.append((email, [thread_records[i:i + BATCH] for i in range(0, len(thread_records), BATCH)]))
    assert len(all_records) == 10_000 and len(plans) == 8

    senders = [_signed_in_session(live_server, email) for email, _ in plans]
    statuses: Counter = Counter()
    per_record: dict[str, list[str]] = defaultdict(list)
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(plans))

    def send(index):
        session, token = senders[index]
        barrier.wait()
        for batch in plans[index][1]:
            answer = session.post(live_server + "/api/v1/sync", headers={"X-CSRFToken": token}, timeout=120,
                                  json={"sent_at": datetime.now(UTC).isoformat(), "records": batch})
            with lock:
                statuses[answer.status_code] += 1
                if answer.status_code != 200:
                    failures.append(f"{answer.status_code}: {answer.text[:300]}")
                    continue
                for result in answer.json()["results"]:
                    per_record[result["id"]].append(result["status"])

    started = time.monotonic()
    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(plans))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    requests_sent = sum(statuses.values())
    print(f"\n10,000 records, 20,000 sends in {requests_sent} requests from 8 threads: {elapsed:.1f} s, "
          f"{20_000 / elapsed:.0f} record sends/s; answers {dict(statuses)}")

    assert failures == [], failures[:5]
    assert statuses == Counter({200: requests_sent})
    assert set(per_record) == set(all_records)
    for record_id, answers in per_record.items():
        assert sorted(answers) == ["created", "duplicate"], (record_id, answers)

    assert count_rows(RecordReceipt) == 10_000
    assert count_rows(Incident) == 2 * INCIDENTS_PER_WORKER
    assert count_rows(LoneWorkingEvent) == 2 * (SESSIONS_PER_WORKER * 5 + ALARMS_PER_WORKER)
    assert count_rows(LoneWorkingSession) == 2 * SESSIONS_PER_WORKER
    assert count_rows(LoneWorkingSession, LoneWorkingSession.status == "finished") == 2 * SESSIONS_PER_WORKER
    assert count_rows(LoneWorkingSession, LoneWorkingSession.event_count == 5) == 2 * SESSIONS_PER_WORKER
    assert count_rows(Alert, Alert.kind == "alarm") == 2 * ALARMS_PER_WORKER
    assert requests.get(live_server + "/healthz", timeout=10).status_code == 200
