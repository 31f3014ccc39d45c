"""Marking pages the service worker may keep a copy of for use without signal."""
from functools import wraps

from flask import make_response

OFFLINE_HEADER = "X-Offline-Page"


def offline_page(view):
    """Let the service worker keep the last good copy of this page (only GET 200s are kept).

    Only the worker's own forms are marked: review pages full of other people's personal
    data are never kept on a phone.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        response.headers[OFFLINE_HEADER] = "keep"
        response.headers["Cache-Control"] = "no-cache, private"
        return response

    return wrapper
