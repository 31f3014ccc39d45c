"""What the server declares once for the phone: the words (app/labels.py), the pages kept for use
without signal and the scripts (app/main/offline.py), handed to the scripts in <body data-config>."""
import html
import json
import re
from pathlib import Path

from app.labels import RECORD_TYPES
from app.main.assets import SHELL_FILES
from app.main.offline import KEPT_PAGES, PAGE_SCRIPTS, all_scripts
from app.sync.registry import record_types

STATIC = Path(__file__).resolve().parents[2] / "app" / "static"


def _config(page: str) -> dict:
    match = re.search(r"<body[^>]*\sdata-config='([^']*)'", page)
    assert match, "no data-config on <body>"
    return json.loads(html.unescape(match.group(1)))


def test_every_record_type_the_server_accepts_has_a_label_for_the_phone(app):
    assert set(record_types()) <= set(RECORD_TYPES)
    assert all(label and "_" not in label for label in RECORD_TYPES.values())


def test_the_offline_page_carries_the_labels_and_the_kept_pages_and_names_no_one(client):
    page = client.get("/offline").get_data(as_text=True)
    config = _config(page)
    assert [p["path"] for p in config["kept_pages"]] == [p["path"] for p in KEPT_PAGES]
    assert config["labels"]["record_types"]["check_in"] == "Check-in (I\u2019m OK)"
    assert config["labels"]["alert_kinds"]["overdue"] == "Overdue"
    for kept in KEPT_PAGES:   # the offline page links to the same pages, with the same words
        assert f'href="{kept["path"]}">{html.escape(kept["label"])}</a>' in page.replace("&#39;", "'")
    assert 'data-user-id=""' in page


def test_signed_in_pages_hand_the_same_config_to_their_scripts(app, auth):
    auth.sign_in()
    for path in ("/", "/waiting", "/incidents/new", "/lone-working/", "/lone-working/alarm"):
        assert _config(auth.client.get(path).get_data(as_text=True))["kept_pages"][0]["path"] == "/", path


def test_every_script_a_page_loads_is_precached_and_exists(app, auth):
    auth.sign_in()
    for name in all_scripts():
        assert name in SHELL_FILES, f"{name} is not precached"
        assert (STATIC / name).is_file(), f"{name} is listed but missing"
    lone_working = auth.client.get("/lone-working/").get_data(as_text=True)
    loaded = re.findall(r'<script src="/static/(js/[^"?]+)\?v=', lone_working)
    assert loaded == list(PAGE_SCRIPTS["every_page"]) + list(PAGE_SCRIPTS["lone_working"])
    home = auth.client.get("/").get_data(as_text=True)
    assert re.findall(r'<script src="/static/(js/[^"?]+)\?v=', home) == list(PAGE_SCRIPTS["every_page"])


def test_no_script_keeps_its_own_copy_of_the_kept_pages_or_the_labels():
    for path in (STATIC / "js").glob("*.js"):
        source = path.read_text(encoding="utf-8")
        assert "'/incidents/new', '/waiting'" not in source, path.name
        assert "Lone working started" not in source, path.name
        assert "DOMParser" not in source, f"{path.name} reads a server page as HTML"
