"""One JSON error shape for the API; HTML or JSON chosen by the request."""
from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db

# Paths answered to machines: always JSON, whatever the Accept header says.
MACHINE_PATHS = ("/healthz",)
# Headers of an HTTPException's own response that describe its (HTML) body, not the error.
_BODY_HEADERS = {"content-type", "content-length"}


def wants_json() -> bool:
    """API paths, /healthz and JSON-asking clients get JSON errors, never an HTML page."""
    if request.path.startswith("/api/") or request.path in MACHINE_PATHS:
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def api_error(status: int, code: str, message: str, details: dict | None = None):
    """The API's single error shape: {"error": {"code", "message", "details"}}.

    `details` is always there (an empty object when there is nothing to add), as documented.
    """
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return jsonify(body), status


def _exception_headers(error: HTTPException) -> list[tuple[str, str]]:
    """The headers werkzeug gives this error (Allow on a 405, WWW-Authenticate on a 401,
    Retry-After on a 429 or 503...), without those describing werkzeug's own HTML body."""
    response = error.get_response(request.environ)
    return [(name, value) for name, value in response.headers.items() if name.lower() not in _BODY_HEADERS]


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        if wants_json():
            return api_error(400, "csrf_failed", error.description)
        return render_template("main/error.html", code=400,
                               title="This form has expired",
                               message="Please go back, reload the page and send it again."), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        headers = _exception_headers(error)
        if wants_json():
            body, status = api_error(error.code or 500, (error.name or "error").lower().replace(" ", "_"),
                                     error.description or error.name)
            return body, status, headers
        return render_template("main/error.html", code=error.code, title=error.name,
                               message=error.description), error.code, headers

    @app.errorhandler(Exception)
    def unexpected_error(error):
        app.logger.exception("unhandled error")
        db.session.rollback()
        if wants_json():
            return api_error(500, "server_error",
                             "Something went wrong on the server. Nothing was lost on your phone; it will try again.")
        return render_template("main/error.html", code=500, title="Something went wrong",
                               message=InternalServerError.description), 500
