"""Signing in and out."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth.forms import SignInForm, SignOutForm
from app.auth.models import User
from app.auth.services import authenticate
from app.errors import api_error, wants_json
from app.extensions import db, limiter, login_manager

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Please sign in."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(user_id: str):
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


@login_manager.unauthorized_handler
def unauthorized():
    """API clients get 401 JSON, never a redirect that a fetch would follow to a 200 page."""
    if wants_json():
        return api_error(401, "signed_out", "You are signed out. Sign in again to send what is waiting.")
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.sign_in", next=target))


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("main.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("main.home")
    return target


def _sign_in_limit() -> str:
    return current_app.config["SIGN_IN_RATE_LIMIT"]


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
def sign_in():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    form = SignInForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            session.clear()
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("That email and password do not match an account.")
    return render_template("auth/sign_in.html", form=form), (400 if form.errors else 200)


@bp.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    form = SignOutForm()
    if form.validate_on_submit():
        # Clear first: logout_user() leaves a note in the session that deletes the "keep me
        # signed in" cookie; clearing after it would wipe the note and leave the worker signed in.
        session.clear()
        logout_user()
        flash("You are signed out.", "info")
        return redirect(url_for("auth.sign_in", signed_out=1))
    return redirect(url_for("main.home"))
