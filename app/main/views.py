"""Home, health, the service worker and the offline shell."""
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_login import login_required
from sqlalchemy import text

from app.extensions import csrf, db
from app.main.assets import SHELL_FILES, asset_version
from app.main.offline import CACHE_PREFIXES, offline_page, phone_config_script, phone_config_url
from app.main.static_files import minify

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
@offline_page
def home():
    return render_template("main/home.html")


@bp.route("/offline")
def offline():
    """Shown by the service worker when a page was never kept and there is no signal."""
    return render_template("main/offline.html")


@bp.route("/waiting")
@login_required
@offline_page
def waiting():
    """What is waiting on this phone (filled in by the outbox script from IndexedDB)."""
    return render_template("main/waiting.html")


@bp.route("/healthz")
@csrf.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means unhealthy
        db.session.rollback()
        current_app.logger.exception("health check: database did not answer")
        return jsonify({"status": "unavailable", "database": "unreachable"}), 503
    return jsonify({"status": "ok"})


@bp.route("/sw.js")
def service_worker():
    """Served from the root so its scope is "/", with this deploy's version and precache list."""
    source = Path(current_app.static_folder, "sw.js").read_text()
    if current_app.config.get("MINIFY_STATIC", True):
        source = minify("sw.js", source)
    version = asset_version(current_app)
    shell = [f"/static/{name}?v={version}" for name in SHELL_FILES] + [phone_config_url()]
    source = (source.replace("__ASSET_VERSION__", version)
              .replace("__SHELL_CACHE_PREFIX__", CACHE_PREFIXES["shell"])
              .replace("__PAGES_CACHE_PREFIX__", CACHE_PREFIXES["pages"])
              .replace('["__SHELL_FILES__"]', "[" + ", ".join(f'"{url}"' for url in shell) + "]"))
    response = Response(source, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    # Never cached for long (a new deploy must reach the phone), but revalidated: the browser's
    # update check on every visit is a 304 while nothing changed.
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)


@bp.route("/phone-config.js")
def phone_config():
    """The words and kept-page list the phone's scripts read (self.SaferConfig), same for everyone.

    Its URL carries a digest of its content, so that URL is cached for a year; any other is
    revalidated."""
    source, digest = phone_config_script()
    response = Response(source, mimetype="text/javascript")
    current = request.args.get("v") == digest
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if current else "no-cache"
    response.add_etag()
    return response.make_conditional(request)


@bp.route("/manifest.webmanifest")
def manifest():
    version = asset_version(current_app)
    return jsonify({
        "name": "Safer Libraries",
        "short_name": "Safer Libraries",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#12355b",
        "icons": [
            {"src": f"/static/icons/icon-192.png?v={version}", "sizes": "192x192", "type": "image/png"},
            {"src": f"/static/icons/icon-512.png?v={version}", "sizes": "512x512", "type": "image/png"},
            {"src": f"/static/icons/icon.svg?v={version}", "sizes": "any", "type": "image/svg+xml"},
        ],
    }), 200, {"Content-Type": "application/manifest+json"}
