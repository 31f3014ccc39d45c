"""What the phone keeps for use without signal, declared once.

- `KEPT_PAGES`: the pages the service worker keeps a copy of (marked with `offline_page`, and
  asked for by the page scripts so they open with no signal even if never visited). Every signed-in
  page keeps the ones marked "any"; the lone-working pages also keep theirs. The offline page
  links to them with the same labels.
- `PAGE_SCRIPTS`: the phone's scripts, in load order, per kind of page. The templates include
  them from here and the service worker's precache list is built from `all_scripts()`, so a new
  script is added in one place.
- `phone_config()`: what the pages hand to their scripts: the kept pages and the labels
  (app/labels.py). Served once as /phone-config.js (`phone_config_script`), a script every page
  loads first and the service worker precaches, named by a digest of its content so the phone
  keeps it until it changes: not a copy in every page, which cost every kept page 700 bytes.
"""
import hashlib
import json
from functools import lru_cache, wraps

from flask import make_response

OFFLINE_HEADER = "X-Offline-Page"

# The service worker's cache names start with these (then this deploy's version). Declared here
# only: the served /sw.js gets them filled in, the page scripts read them from the phone config.
CACHE_PREFIXES = {"shell": "safer-shell-", "pages": "safer-pages-"}

KEPT_PAGES = (
    {"path": "/", "label": "Home", "kept_from": "any"},
    {"path": "/incidents/new", "label": "Report an incident", "kept_from": "any"},
    {"path": "/waiting", "label": "Waiting on this phone", "kept_from": "any"},
    {"path": "/lone-working/", "label": "Lone working", "kept_from": "lone-working"},
    {"path": "/lone-working/alarm", "label": "I need help", "kept_from": "lone-working"},
)

PAGE_SCRIPTS = {
    # Every page: the outbox and its sender, then the page glue, each one job.
    "every_page": ("js/outbox.js", "js/sync.js", "js/page_kit.js", "js/sw_client.js", "js/status_bar.js",
                   "js/field_errors.js", "js/outbox_forms.js", "js/waiting_list.js", "js/sign_out.js"),
    # The lone-working pages (status screen, alarm).
    "lone_working": ("js/lw_rules.js", "js/lw_words.js", "js/lw_state.js", "js/lw_position.js", "js/lw_status.js",
                     "js/lw_alarm.js"),
}


def all_scripts() -> list[str]:
    """Every phone script once, in load order (the service worker precaches these)."""
    seen: list[str] = []
    for scripts in PAGE_SCRIPTS.values():
        seen.extend(name for name in scripts if name not in seen)
    return seen


def phone_config() -> dict:
    from app.labels import phone_labels

    return {"kept_pages": [dict(page) for page in KEPT_PAGES], "labels": phone_labels(),
            "cache_prefixes": dict(CACHE_PREFIXES)}


@lru_cache(maxsize=1)
def phone_config_script() -> tuple[str, str]:
    """(the script that sets self.SaferConfig, a digest of it for its URL's ?v=)."""
    source = "self.SaferConfig=" + json.dumps(phone_config(), separators=(",", ":"), sort_keys=True) + ";\n"
    return source, hashlib.sha256(source.encode()).hexdigest()[:12]


def phone_config_url() -> str:
    return "/phone-config.js?v=" + phone_config_script()[1]


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
