"""The worker's lone-working pages. Each post calls the same ingest as the sync API.

GET /lone-working/ holds every worker form (start, and the status screen with check-in, extend
and finish) so that one cached copy serves the phone offline; the alarm has its own page.
"""
import uuid
from datetime import timedelta
from urllib.parse import quote

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app import clock
from app.extensions import db
from app.form_errors import attach_service_errors
from app.lone_working import rules
from app.lone_working.forms import (
    INTERVAL_CHOICES,
    AlarmForm,
    CheckInForm,
    ExtendForm,
    FinishForm,
    PinsForm,
    StartSessionForm,
)
from app.lone_working.services import (
    clear_worker_pins,
    current_session,
    has_pins,
    recent_places,
    record_event,
    session_duration_minutes,
    set_worker_pins,
)
from app.lone_working.settings import alarm_screen_contacts, get_settings
from app.main.offline import offline_page
from app.org.models import Branch

bp = Blueprint("lone_working", __name__)

FINISHED_MESSAGE = "Finished. Glad you are safe."


def _sequence_after(session) -> str:
    return str((session.last_sequence + 1) if session is not None else 0)


def _forms(session, start_form=None, finish_form=None, extend_form=None):
    settings = get_settings(current_user.library_service_id)
    start = start_form or StartSessionForm(formdata=None)
    branches = db.session.scalars(db.select(Branch).where(
        Branch.library_service_id == current_user.library_service_id).order_by(Branch.name)).all()
    start.branch_id.choices = [SelectChoice("", "Choose\u2026")] + [SelectChoice(str(b.id), b.name) for b in branches]
    intervals = sorted(set(INTERVAL_CHOICES) | {settings.default_check_in_minutes})
    start.check_in_interval_minutes.choices = [SelectChoice(str(m), rules.interval_label(m)) for m in intervals]
    if start_form is None:
        start.check_in_interval_minutes.data = str(settings.default_check_in_minutes)
        if current_user.team is not None:
            start.branch_id.data = str(current_user.team.branch_id)
    session_id = str(session.id) if session is not None else ""
    sequence = _sequence_after(session)
    forms = {"start": start,
             "check_in": CheckInForm(formdata=None, session_id=session_id, sequence=sequence),
             "extend": extend_form or ExtendForm(formdata=None, session_id=session_id, sequence=sequence),
             "finish": finish_form or FinishForm(formdata=None, session_id=session_id, sequence=sequence)}
    return forms, settings


def _page(status=200, **overrides):
    session = current_session(current_user)
    forms, settings = _forms(session, overrides.get("start_form"), overrides.get("finish_form"),
                             overrides.get("extend_form"))
    now = clock.utcnow()
    recent = []
    if session is None:
        for past in recent_places(current_user):
            minutes = session_duration_minutes(past)
            recent.append((past, minutes, rules.format_duration(timedelta(minutes=minutes)), str(uuid.uuid4())))
    return render_template("lone_working/index.html", session=session, forms=forms, settings=settings, now=now,
                           due_in=(session.deadline_at - now) if session is not None and session.deadline_at else None,
                           recent=recent, needs_pin=has_pins(current_user), format_duration=rules.format_duration,
                           interval_label=rules.interval_label), status


@bp.get("/")
@login_required
@offline_page
def index():
    """The status screen of the running session, or the start form."""
    return _page()


def _post_event(form, kind: str, sent_message: str, on_error):
    if not form.validate_on_submit():
        return on_error(form)
    result = record_event(current_user, kind, form.record_uuid(), form.event_data(), via="form")
    if result["status"] in ("created", "duplicate"):
        flash(sent_message, "sent")
        return redirect(url_for("lone_working.index"))
    attach_service_errors(form, result.get("errors", {}))
    return on_error(form)



@bp.post("/start")
@login_required
def start():
    form = StartSessionForm()
    return _post_event(form, "session_started", "Sent. Your session has started.",
                       lambda f: _page(400, start_form=f))


@bp.post("/check-in")
@login_required
def check_in():
    return _post_event(CheckInForm(), "check_in", "Sent. Checked in: you are OK.",
                       lambda f: _refused(f))


@bp.post("/extend")
@login_required
def extend():
    return _post_event(ExtendForm(), "session_extended", "Sent. Your session is extended.",
                       lambda f: _page(400, extend_form=f))


@bp.post("/finish")
@login_required
def finish():
    """Finish. A duress PIN gives exactly this response too (the alert is silent)."""
    return _post_event(FinishForm(), "session_finished", FINISHED_MESSAGE,
                       lambda f: _page(400, finish_form=f))


def _refused(form):
    for message in form.form_errors + [m for f in form for m in (f.errors or [])]:
        flash(message, "error")
    return redirect(url_for("lone_working.index"))


@bp.route("/alarm", methods=["GET", "POST"])
@login_required
@offline_page
def alarm():
    """"I need help": raises an alarm at once; shows the phone numbers that work with no signal."""
    session = current_session(current_user)
    form = AlarmForm(session_id=str(session.id) if session else "", sequence=_sequence_after(session))
    sent = False
    if request.method == "POST":
        if form.validate_on_submit():
            result = record_event(current_user, "alarm_raised", form.record_uuid(), form.event_data(), via="form")
            sent = result["status"] in ("created", "duplicate")
            if not sent:
                attach_service_errors(form, result.get("errors", {}))
        if sent:
            form = AlarmForm(formdata=None, session_id=str(session.id) if session else "",
                             sequence=_sequence_after(current_session(current_user)))
    contacts = alarm_screen_contacts(current_user.library_service_id)
    sms_to = contacts[0].phone if contacts else ""
    where = session.place_label if session else "place not known"
    coordinates = (f" Location: {session.latitude:.5f},{session.longitude:.5f}"
                   if session is not None and session.latitude is not None else "")
    sms_body = f"HELP: {current_user.name} needs help. At: {where}.{coordinates} (Safer Libraries)"
    return render_template("lone_working/alarm.html", form=form, session=session, contacts=contacts, sent=sent,
                           sms_href=f"sms:{_tel(sms_to)}?body={quote(sms_body)}", sms_body=sms_body,
                           tel=_tel), (400 if request.method == "POST" and not sent else 200)


def _tel(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit() or ch == "+")


@bp.route("/pins", methods=["GET", "POST"])
@login_required
def pins():
    """Set a finish PIN and a duress PIN (your password confirms it is you)."""
    form = PinsForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.password.data or ""):
            form.password.errors = ["That password is not right."]
        elif request.form.get("clear") == "1":
            clear_worker_pins(current_user)
            flash("Your PINs are removed. Finishing no longer asks for a PIN.", "sent")
            return redirect(url_for("lone_working.index"))
        else:
            try:
                set_worker_pins(current_user, (form.finish_pin.data or "").strip(),
                                (form.duress_pin.data or "").strip())
            except ValueError as error:
                form.form_errors.append(str(error))
            else:
                flash("Your PINs are set. Finishing a session now asks for your PIN.", "sent")
                return redirect(url_for("lone_working.index"))
    return render_template("lone_working/pins.html", form=form, has_pins=has_pins(current_user),
                           config=current_app.config), (400 if request.method == "POST" else 200)
