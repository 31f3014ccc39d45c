"""Pitfall 6: two senders at once (a tab and the service worker) must store a record once.

Run against a real server: gunicorn with two worker processes on the test database, so the
two requests really are handled at the same time and only the database's unique constraint
can stop the second insert.
"""
import threading
import uuid
from datetime import UTC, datetime

import requests
from support import signed_in_session

from app.incidents.models import Incident, IncidentKind
from app.sync.models import RecordReceipt

LIVE_PASSWORD = "live server password"  # set by the live_server fixture


def _signed_in_session(base_url: str, email: str = "worker@demo.example") -> tuple[requests.Session, str]:
    """A requests session signed in through the real form, and its API CSRF token."""
    return signed_in_session(base_url, email, LIVE_PASSWORD)


def _send_together(senders, bodies) -> list[requests.Response]:
    """Each (session, token) sends its body; a barrier lines the threads up so they send at once."""
    barrier = threading.Barrier(len(senders))
    answers: list = [None] * len(senders)

    def send(index):
        session, token, base_url = senders[index]
        barrier.wait()
        answers[index] = session.post(base_url + "/api/v1/sync", json=bodies[index],
                                      headers={"X-CSRFToken": token}, timeout=60)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(senders))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_same_record_sent_twice_in_parallel_is_stored_once(live_server, incident_record, count_rows):
    # Two clients of the same worker: the page and its service worker have separate connections.
    tab, tab_token = _signed_in_session(live_server)
    worker, worker_token = _signed_in_session(live_server)
    senders = [(tab, tab_token, live_server), (worker, worker_token, live_server)]

    rounds = 25
    record_ids = []
    for _ in range(rounds):
        record = incident_record()
        record_ids.append(record["id"])
        body = {"sent_at": datetime.now(UTC).isoformat(), "records": [record]}
        answers = _send_together(senders, [body, body])
        assert [a.status_code for a in answers] == [200, 200], [a.text[:300] for a in answers]
        statuses = sorted(a.json()["results"][0]["status"] for a in answers)
        assert statuses == ["created", "duplicate"], statuses
        assert all(a.json()["results"][0]["id"] == record["id"] for a in answers)

    assert count_rows(RecordReceipt) == rounds
    assert count_rows(Incident) == rounds
    assert count_rows(IncidentKind) == rounds * 2
    for record_id in record_ids:
        assert count_rows(Incident, Incident.id == uuid.UUID(record_id)) == 1


def test_overlapping_batches_sent_in_parallel_store_each_record_once(live_server, incident_record, count_rows):
    """Two batches that share half their records race; the rest of each batch is not lost."""
    tab, tab_token = _signed_in_session(live_server)
    worker, worker_token = _signed_in_session(live_server)
    shared = [incident_record() for _ in range(20)]
    only_tab = [incident_record() for _ in range(10)]
    only_worker = [incident_record() for _ in range(10)]
    now = datetime.now(UTC).isoformat()
    answers = _send_together([(tab, tab_token, live_server), (worker, worker_token, live_server)],
                             [{"sent_at": now, "records": only_tab + shared},
                              {"sent_at": now, "records": shared + only_worker}])
    assert [a.status_code for a in answers] == [200, 200], [a.text[:300] for a in answers]
    tab_results = {r["id"]: r["status"] for r in answers[0].json()["results"]}
    worker_results = {r["id"]: r["status"] for r in answers[1].json()["results"]}
    assert all(tab_results[r["id"]] == "created" for r in only_tab)
    assert all(worker_results[r["id"]] == "created" for r in only_worker)
    for record in shared:
        assert sorted([tab_results[record["id"]], worker_results[record["id"]]]) == ["created", "duplicate"]
    assert count_rows(Incident) == 40
    assert count_rows(RecordReceipt) == 40


def test_live_server_answers_signed_out_phone_with_401_json_not_a_redirect(live_server, incident_record):
    """Pitfall 2 over real HTTP: a fetch that follows redirects must still see 401 JSON."""
    response = requests.post(live_server + "/api/v1/sync", timeout=10,
                             json={"sent_at": datetime.now(UTC).isoformat(), "records": [incident_record()]},
                             headers={"X-CSRFToken": "whatever", "Accept": "text/html"})
    assert response.status_code == 401
    assert response.history == []
    assert response.json()["error"]["code"] == "signed_out"


def test_live_server_refuses_a_chunked_body_over_the_limit(live_server, count_rows):
    """No Content-Length (chunked transfer): the server must stop reading at the limit and answer 413."""
    session, token = _signed_in_session(live_server)
    chunk = b" " * 65536

    def body():
        yield b'{"sent_at": "2026-01-01T00:00:00+00:00", "records": ['
        for _ in range(40):  # about 2.6 MB of white space, over the 1 MB limit
            yield chunk
        yield b"]}"

    response = session.post(live_server + "/api/v1/sync", data=body(), timeout=60,
                            headers={"X-CSRFToken": token, "Content-Type": "application/json"})
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["error"]["code"]
    assert count_rows(RecordReceipt) == 0
