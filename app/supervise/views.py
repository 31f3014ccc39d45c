"""Supervisor pages: the live board (and its self-refreshing fragment), alerts, timelines, past sessions.

Every route needs a signed-in supervisor or admin (checked before any view runs), and every
look-up is narrowed to the person's scope: staff never see the board, and nobody can act on
an alert outside their teams or service.
"""
import uuid
from collections import Counter

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from app import clock
from app.access import can_supervise
from app.lone_working import rules
from app.lone_working.forms import AcknowledgeForm, NoteForm, ResolveForm
from app.lone_working.models import Outcome
from app.supervise.services import (
    ActionRefused,
    TextRefused,
    acknowledge_alert,
    add_alert_note,
    alarm_messages,
    alert_history,
    email_category,
    email_state,
    load_board,
    mail_status,
    resolve_alert,
    search_past_sessions,
    session_timeline,
    visible_alert,
    visible_session,
)

bp = Blueprint("supervise", __name__)
REFRESH_SECONDS = 10
# Alert ids are INTEGER columns (32-bit on PostgreSQL): a larger number in a URL is no alert,
# answered 404 by the route itself, never sent to the database to overflow there.
ALERT_ID = "<int(min=1, max=2147483647):alert_id>"


@bp.before_request
def supervisors_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not can_supervise(current_user):
        abort(403, "The board is for supervisors and administrators.")
    return None


def _board_context():
    now = clock.utcnow()
    return {"board": load_board(current_user, now), "now": now, "mail": mail_status(current_app.config),
            "emails": email_state(current_user, now), "format_duration": rules.format_duration,
            "refresh_seconds": REFRESH_SECONDS}


@bp.get("/")
def board():
    """The live board. Its #board-live region refreshes itself (board.js); nothing typed is lost."""
    return render_template("supervise/board.html", **_board_context())


@bp.get("/board")
def board_fragment():
    """Just the board's live region, for board.js to swap in."""
    response = make_response(render_template("supervise/_board_live.html", **_board_context()))
    response.headers["X-Board-Fragment"] = "1"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(f"/alerts/{ALERT_ID}")
def show_alert(alert_id: int):
    alert = visible_alert(current_user, alert_id) or abort(404)
    return _alert_page(alert)


def _alert_page(alert, ack_form=None, resolve_form=None, note_form=None, status=200):
    from app.lone_working.settings import get_settings
    from app.supervise.services import BoardRow, _assess  # the same assessment the board shows
    row = BoardRow(urgency="fine", worker=alert.worker, session=alert.session,
                   alerts=[alert] if alert.resolved_at is None else [])
    _assess(row, clock.utcnow(), get_settings(alert.library_service_id))
    history = alert_history(alert.id)
    return render_template("supervise/alert.html", alert=alert, history=history, row=row,
                           ack_form=ack_form or AcknowledgeForm(formdata=None),
                           resolve_form=resolve_form or ResolveForm(formdata=None),
                           note_form=note_form or NoteForm(formdata=None), outcomes=Outcome.labels(),
                           message=alarm_messages([alert]).get(alert.id, ""), email_category=email_category,
                           email_counts=Counter(email_category(n) for n in history["notifications"]),
                           mail=mail_status(current_app.config)), status


def _refusal_status(refused: ActionRefused, otherwise: int) -> int:
    """400 for text that cannot be stored (the form's fault), else the action's own status."""
    return 400 if isinstance(refused, TextRefused) else otherwise


@bp.post(f"/alerts/{ALERT_ID}/acknowledge")
def acknowledge(alert_id: int):
    form = AcknowledgeForm()
    alert = visible_alert(current_user, alert_id) or abort(404)
    if not form.validate_on_submit():
        return _alert_page(alert, ack_form=form, status=400)
    try:
        acknowledge_alert(current_user, alert_id, form.note.data or "", clock.utcnow())
    except ActionRefused as refused:
        form.note.errors = [str(refused)]
        return _alert_page(alert, ack_form=form, status=_refusal_status(refused, 409))
    flash("Acknowledged. Escalation has stopped; the alert stays open until it is resolved.", "sent")
    return redirect(url_for("supervise.show_alert", alert_id=alert_id))


@bp.post(f"/alerts/{ALERT_ID}/resolve")
def resolve(alert_id: int):
    form = ResolveForm()
    alert = visible_alert(current_user, alert_id) or abort(404)
    if not form.validate_on_submit():
        return _alert_page(alert, resolve_form=form, status=400)
    try:
        resolve_alert(current_user, alert_id, form.outcome.data or "", form.note.data or "", clock.utcnow())
    except ActionRefused as refused:
        form.note.errors = [str(refused)]
        return _alert_page(alert, resolve_form=form,
                           status=_refusal_status(refused, 409 if alert.resolved_at else 400))
    flash("Resolved. Thank you.", "sent")
    return redirect(url_for("supervise.show_alert", alert_id=alert_id))


@bp.post(f"/alerts/{ALERT_ID}/note")
def note(alert_id: int):
    form = NoteForm()
    alert = visible_alert(current_user, alert_id) or abort(404)
    if not form.validate_on_submit():
        return _alert_page(alert, note_form=form, status=400)
    try:
        add_alert_note(current_user, alert_id, form.note.data or "", clock.utcnow())
    except ActionRefused as refused:
        form.note.errors = [str(refused)]
        return _alert_page(alert, note_form=form, status=400)
    flash("Note added.", "sent")
    return redirect(url_for("supervise.show_alert", alert_id=alert_id))


@bp.get("/sessions/<uuid:session_id>")
def show_session(session_id: uuid.UUID):
    """A session's whole timeline: the phone's events (both clocks) and the server's story."""
    session = visible_session(current_user, session_id) or abort(404)
    return render_template("supervise/session.html", session=session, timeline=session_timeline(session),
                           now=clock.utcnow())


@bp.get("/past")
def past_sessions():
    """Sessions of the last 30 days, searchable by worker or place."""
    text = (request.args.get("q") or "")[:100]
    try:
        sessions = search_past_sessions(current_user, clock.utcnow(), text)
    except TextRefused as refused:
        return render_template("supervise/past.html", sessions=[], q="", error=str(refused)), 400
    return render_template("supervise/past.html", sessions=sessions, q=text, error=None)
