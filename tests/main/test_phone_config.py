"""What the server declares once for the phone: the words (app/labels.py), the pages kept for use
without signal and the scripts (app/main/offline.py), handed to the scripts by /phone-config.js,
which every page loads first and the service worker precaches."""
import html
import json
import re
from pathlib import Path

from app.labels import RECORD_TYPES
from app.main.assets import SHELL_FILES
from app.main.offline import KEPT_PAGES, PAGE_SCRIPTS, all_scripts
from app.sync.registry import record_types

STATIC = Path(__file__).resolve().parents[2] / "app" / "static"


def _config(client, page: str) -> dict:
    """The config the page's first script sets (self.SaferConfig = {...})."""
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts and scripts[0].startswith("/phone-config.js?v="), scripts[:1]
    source = client.get(scripts[0]).get_data(as_text=True)
    match = re.fullmatch(r"self\.SaferConfig=(.*);\n", source, re.DOTALL)
    assert match, source[:200]
    return json.loads(match.group(1))


def test_the_config_script_is_cached_for_a_year_at_its_digest_and_revalidated_otherwise(client):
    page = client.get("/offline").get_data(as_text=True)
    url = re.findall(r'<script src="([^"]+)"', page)[0]
    current = client.get(url)
    assert current.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert current.mimetype == "text/javascript"
    assert client.get("/phone-config.js?v=old").headers["Cache-Control"] == "no-cache"
    assert client.get(url, headers={"If-None-Match": current.headers["ETag"]}).status_code == 304
    assert "data-config" not in page   # not a copy in every page


def test_the_service_worker_precaches_the_config_script(client):
    page = client.get("/offline").get_data(as_text=True)
    url = re.findall(r'<script src="([^"]+)"', page)[0]
    assert f'"{url}"' in client.get("/sw.js").get_data(as_text=True)


def test_every_record_type_the_server_accepts_has_a_label_for_the_phone(app):
    assert set(record_types()) <= set(RECORD_TYPES)
    assert all(label and "_" not in label for label in RECORD_TYPES.values())


def test_the_offline_page_carries_the_labels_and_the_kept_pages_and_names_no_one(client):
    page = client.get("/offline").get_data(as_text=True)
    config = _config(client, page)
    assert [p["path"] for p in config["kept_pages"]] == [p["path"] for p in KEPT_PAGES]
    assert config["labels"]["record_types"]["check_in"] == "Check-in (I\u2019m OK)"
    assert config["labels"]["alert_kinds"]["overdue"] == "Overdue"
    for kept in KEPT_PAGES:   # the offline page links to the same pages, with the same words
        assert f'href="{kept["path"]}">{html.escape(kept["label"])}</a>' in page.replace("&#39;", "'")
    assert 'data-user-id=""' in page


def test_signed_in_pages_hand_the_same_config_to_their_scripts(app, auth):
    auth.sign_in()
    for path in ("/", "/waiting", "/incidents/new", "/lone-working/", "/lone-working/alarm"):
        page = auth.client.get(path).get_data(as_text=True)
        assert _config(auth.client, page)["kept_pages"][0]["path"] == "/", path


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


def test_the_cache_names_are_declared_once_on_the_server(client):
    from app.main.offline import CACHE_PREFIXES

    for path in [*(STATIC / "js").glob("*.js"), STATIC / "sw.js"]:
        source = path.read_text(encoding="utf-8")
        for prefix in CACHE_PREFIXES.values():
            assert prefix not in source, f"{path.name} keeps its own copy of the cache name {prefix!r}"
    worker = client.get("/sw.js").get_data(as_text=True)
    assert all(f'"{prefix}"' in worker for prefix in CACHE_PREFIXES.values())
    assert "__" not in worker.replace("__proto__", ""), "a placeholder was left unfilled in /sw.js"
    page = client.get("/offline").get_data(as_text=True)
    assert _config(client, page)["cache_prefixes"] == CACHE_PREFIXES
