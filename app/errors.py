"""One JSON error shape for the API; HTML or JSON chosen by the request."""
from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db


def wants_json() -> bool:
    """API paths and JSON-asking clients get JSON errors, never an HTML page."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def api_error(status: int, code: str, message: str, details: dict | None = None):
    """The API's single error shape: {"error": {"code", "message", "details"}}."""
    body = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    return jsonify(body), status


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
        if wants_json():
            return api_error(error.code or 500, (error.name or "error").lower().replace(" ", "_"),
                             error.description or error.name)
        return render_template("main/error.html", code=error.code, title=error.name,
                               message=error.description), error.code

    @app.errorhandler(Exception)
    def unexpected_error(error):
        app.logger.exception("unhandled error")
        db.session.rollback()
        if wants_json():
            return api_error(500, "server_error", "Something went wrong on the server. Nothing was lost on your phone; it will try again.")
        return render_template("main/error.html", code=500, title="Something went wrong",
                               message=InternalServerError.description), 500
