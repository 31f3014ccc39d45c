"""Reviewing reports: who sees what, newest first, filters, both clocks, and audited access."""
import re
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.extensions import db as _db
from app.incidents.models import IncidentAccess
from app.timefmt import to_service_local

OTHER_PASSWORD = "another long password"  # tests/incidents/conftest.py gives it to its extra people


def _listed(client, query: str = "") -> list[str]:
    response = client.get("/incidents/" + query)
    assert response.status_code == 200
    return re.findall(r'href="/incidents/([0-9a-f-]{36})"', response.get_data(as_text=True))


def _client_for(app, auth, email, password=None):
    other = type(auth)(app.test_client())
    response = other.sign_in(email, password) if password else other.sign_in(email)
    assert response.status_code == 302
    return other.client


def test_supervisor_sees_their_teams_reports_newest_first(app, auth, people, report):
    oldest = report("worker@demo.example", hours_ago=50)
    newest = report("worker2@demo.example", hours_ago=1)
    middle = report("worker@demo.example", hours_ago=20)
    not_my_team = report("riverside@demo.example", hours_ago=2)
    supervisor = _client_for(app, auth, "supervisor@demo.example")
    listed = _listed(supervisor)
    assert listed == [newest, middle, oldest]
    assert not_my_team not in listed


def test_staff_see_only_their_own_reports(app, auth, people, report):
    mine = [report("worker@demo.example", hours_ago=h) for h in (3, 1)]
    report("worker2@demo.example")
    report("riverside@demo.example")
    worker = _client_for(app, auth, "worker@demo.example")
    assert _listed(worker) == [mine[1], mine[0]]
    assert "My reports" in worker.get("/incidents/").get_data(as_text=True)


def test_admin_sees_the_whole_service_and_nothing_of_another(app, auth, people, report):
    demo = [report("worker@demo.example"), report("worker2@demo.example"), report("riverside@demo.example")]
    elsewhere = report("admin@elsewhere.example")
    admin = _client_for(app, auth, "admin@demo.example")
    assert sorted(_listed(admin)) == sorted(demo)
    other_admin = _client_for(app, auth, "admin@elsewhere.example", OTHER_PASSWORD)
    assert _listed(other_admin) == [elsewhere]


def test_another_services_admin_gets_404_on_the_detail_page(app, auth, people, report, db_count):
    record_id = report("worker@demo.example")
    other_admin = _client_for(app, auth, "admin@elsewhere.example", OTHER_PASSWORD)
    assert other_admin.get(f"/incidents/{record_id}").status_code == 404
    assert db_count(IncidentAccess) == 0


def test_supervisor_gets_404_for_a_team_they_do_not_supervise(app, auth, people, report):
    record_id = report("riverside@demo.example")
    supervisor = _client_for(app, auth, "supervisor@demo.example")
    assert supervisor.get(f"/incidents/{record_id}").status_code == 404


def test_filters_by_branch_kind_and_date(app, auth, people, report):
    branches = people["branches"]
    at_central = report("worker@demo.example", hours_ago=2, branch_id=branches["Central Library"],
                        kinds=["violent", "injury"])
    on_the_mobile = report("worker2@demo.example", hours_ago=3, branch_id=branches["Mobile Library 1"],
                           kinds=["filming"])
    last_week = report("worker@demo.example", hours_ago=24 * 8, branch_id=branches["Central Library"],
                       kinds=["filming"])
    supervisor = _client_for(app, auth, "supervisor@demo.example")

    assert _listed(supervisor, f"?branch={branches['Central Library']}") == [at_central, last_week]
    assert _listed(supervisor, f"?branch={branches['Mobile Library 1']}") == [on_the_mobile]
    assert _listed(supervisor, "?kind=filming") == [on_the_mobile, last_week]
    assert _listed(supervisor, "?kind=injury") == [at_central]
    with app.app_context():
        today = to_service_local(datetime.now().astimezone()).date()
    week_ago = today - timedelta(days=8)
    # The date boundary is by each report's time; pick days that cannot straddle midnight.
    assert last_week not in _listed(supervisor, f"?from={(today - timedelta(days=2)).isoformat()}")
    assert _listed(supervisor, f"?to={(today - timedelta(days=5)).isoformat()}") == [last_week]
    assert _listed(supervisor, f"?from={week_ago.isoformat()}&to={week_ago.isoformat()}") in ([last_week], [])
    assert _listed(supervisor, f"?kind=filming&branch={branches['Central Library']}") == [last_week]


def test_bad_filter_values_are_ignored_not_errors(app, auth, people, report):
    record_id = report("worker@demo.example")
    supervisor = _client_for(app, auth, "supervisor@demo.example")
    for query in ("?kind=nonsense", "?from=yesterday", "?to=2026-13-45", "?branch=abc", "?page=abc",
                  "?branch=99999999999999999999999", "?page=99999999999999999999999", "?page=-3", "?page=0",
                  "?to=9999-12-31", "?from=0001-01-01", "?from=9999-12-31&to=0001-01-01", "?branch=-1"):
        response = supervisor.get("/incidents/" + query)
        assert response.status_code in (200, 404), f"{query}: {response.status_code}"
    assert _listed(supervisor, "?kind=nonsense") == [record_id]


def test_detail_page_shows_the_phone_time_and_the_server_time(app, auth, people, report):
    record_id = report("worker@demo.example", hours_ago=2)
    worker = _client_for(app, auth, "worker@demo.example")
    html = worker.get(f"/incidents/{record_id}").get_data(as_text=True)
    occurred = re.search(r'id="occurred-at">([^<]+)<', html).group(1)
    recorded = re.search(r'id="recorded-at">([^<]+)<', html).group(1)
    received = re.search(r'id="received-at">([^<]+)<', html).group(1)
    # The phone's times are shown with the offset the phone had (the report fixture uses UTC+1).
    assert occurred.endswith("(UTC+01:00)") and recorded.endswith("(UTC+01:00)")
    assert re.match(r"\w{3} \d\d \w{3} \d{4}, \d\d:\d\d", received)
    with app.app_context():
        from app.incidents.models import Incident

        incident = _db.session.get(Incident, uuid.UUID(record_id))
        assert to_service_local(incident.receipt.received_at).strftime("%H:%M") in received
    assert "Happened" in html and "Recorded on the phone" in html and "Reached the server" in html


def test_opening_someone_elses_report_is_recorded(app, auth, people, report):
    record_id = report("worker@demo.example")
    worker = _client_for(app, auth, "worker@demo.example")
    assert worker.get(f"/incidents/{record_id}").status_code == 200  # their own: not an access to audit
    supervisor = _client_for(app, auth, "supervisor@demo.example")
    assert supervisor.get(f"/incidents/{record_id}").status_code == 200
    admin = _client_for(app, auth, "admin@demo.example")
    assert admin.get(f"/incidents/{record_id}").status_code == 200
    with app.app_context():
        from app.auth.models import User

        ids = {u.email: u.id for u in _db.session.scalars(sa.select(User))}
        rows = _db.session.scalars(sa.select(IncidentAccess).order_by(IncidentAccess.id)).all()
        assert [(r.user_id, str(r.incident_id), r.action) for r in rows] == [
            (ids["supervisor@demo.example"], record_id, "view"), (ids["admin@demo.example"], record_id, "view")]
        assert all(r.accessed_at is not None for r in rows)


def test_review_pages_are_not_kept_for_offline(app, auth, people, report):
    """Other people's personal data must not be left in a phone's cache."""
    record_id = report("worker@demo.example")
    supervisor = _client_for(app, auth, "supervisor@demo.example")
    for path in ("/incidents/", f"/incidents/{record_id}"):
        assert "X-Offline-Page" not in supervisor.get(path).headers
