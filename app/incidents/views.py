"""Incident pages: report (online, or through the outbox), and review."""
import uuid
from datetime import datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import clock
from app.extensions import db
from app.form_errors import attach_service_errors
from app.incidents.forms import IncidentForm, as_choices
from app.incidents.services import list_incidents, open_incident, record_incident
from app.incidents.vocabulary import KINDS, BehaviourKind
from app.main.offline import offline_page
from app.org.models import Branch
from app.timefmt import from_local_naive, to_service_local

bp = Blueprint("incidents", __name__)


def _branch_choices(user):
    branches = db.session.scalars(
        db.select(Branch).where(Branch.library_service_id == user.library_service_id).order_by(Branch.name)).all()
    return [(0, "Choose\u2026")] + [(b.id, b.name) for b in branches]


@bp.route("/new", methods=["GET", "POST"])
@login_required
@offline_page
def new_incident():
    """The report form. Without JavaScript it posts here; with it, it goes through the outbox."""
    form = IncidentForm()
    form.branch_id.choices = as_choices(_branch_choices(current_user))
    if request.method == "GET":
        form.occurred_at.data = to_service_local(clock.utcnow()).replace(tzinfo=None, second=0, microsecond=0)
        if current_user.team:
            form.branch_id.data = current_user.team.branch_id
    if form.validate_on_submit():
        data = {name: form[name].data for name in IncidentForm.DATA_FIELDS}
        occurred = form.occurred_at.data
        data["occurred_at"] = from_local_naive(occurred).isoformat() if occurred else None
        data["branch_id"] = data["branch_id"] or None
        data["location"] = data["location"] or None
        try:
            record_id = uuid.UUID(form.record_id.data)
        except (TypeError, ValueError):
            record_id = uuid.uuid4()
        result = record_incident(current_user, record_id, to_service_local(clock.utcnow()), data, via="form")
        if result["status"] in ("created", "duplicate"):
            flash("Sent. Your report has reached the server.", "sent")
            return redirect(url_for("incidents.show_incident", incident_id=record_id))
        attach_service_errors(form, result["errors"])
    return render_template("incidents/new.html", form=form), (400 if form.errors else 200)



@bp.route("/")
@login_required
def list_reports():
    """Reports this person may see, newest first, with filters."""
    branch_id = _in_range(request.args.get("branch", type=int))
    kind = request.args.get("kind") or None
    if kind and kind not in BehaviourKind.values():
        kind = None
    date_from = _parse_date(request.args.get("from"))
    date_to = _parse_date(request.args.get("to"))
    page = list_incidents(current_user, branch_id=branch_id, kind=kind,
                          date_from=date_from, date_to=date_to + timedelta(days=1) if date_to else None,
                          page=_in_range(request.args.get("page", 1, type=int)) or 1)
    return render_template("incidents/list.html", page=page, branches=_branch_choices(current_user)[1:],
                           kinds=KINDS, filters={"branch": branch_id, "kind": kind,
                                                 "from": request.args.get("from", ""),
                                                 "to": request.args.get("to", "")})


def _in_range(number: int | None) -> int | None:
    """A positive number a database integer can hold, or None (a filter to ignore)."""
    return number if number is not None and 0 < number < 2**31 else None


def _parse_date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d")
        if not 1970 <= day.year < 2100:  # far dates overflow once turned into UTC instants
            return None
        return from_local_naive(day)
    except ValueError:
        return None


@bp.route("/<uuid:incident_id>")
@login_required
def show_incident(incident_id: uuid.UUID):
    incident = open_incident(current_user, incident_id)
    if incident is None:
        abort(404)
    return render_template("incidents/show.html", incident=incident)
