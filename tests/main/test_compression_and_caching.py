"""Light on a weak signal (issue 7 point 5): compressed answers, versioned static files cached for good.

- static files (WhiteNoise): br or gzip as the phone asks; a URL with this deploy's version is
  `public, max-age=31536000, immutable`, any other static URL is revalidated (`no-cache`);
- /sw.js stays at the root with scope "/" and `no-cache` (a deploy must reach the phone), and its
  revalidation is a 304 while nothing changed;
- HTML and JSON answers are compressed when asked, never tiny ones or error answers (the sync
  API's 413 keeps its JSON body), and keep their security headers.
"""
import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import brotli
import pytest

from app.main.assets import asset_version
from app.main.static_files import minify

IMMUTABLE = "public, max-age=31536000, immutable"


def _decoded(response) -> bytes:
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(response.data)
    if encoding == "gzip":
        return gzip.decompress(response.data)
    assert encoding is None, encoding
    return response.data


def _static(client, url: str, **headers):
    """buffered: the test client closes WhiteNoise's file at once (as a WSGI server does)."""
    return client.get(url, headers=headers, buffered=True)


def test_scripts_and_styles_are_served_minified_and_still_work_the_same():
    source = "/* a comment the phone need not download */\nvar  answer = 1 + 1;   // two\n"
    assert minify("x.js", source) == "var answer=1+1;"
    assert minify("x.css", "/* c */ body {  color : red ; }\n") == "body{color:red}"
    assert minify("x.png", "unchanged") == "unchanged"


def _file(app, name: str) -> bytes:
    return Path(app.static_folder, name).read_bytes()


@pytest.mark.parametrize("accept, encoding", [("br, gzip", "br"), ("gzip, deflate", "gzip"), ("", None)])
def test_versioned_static_file_is_immutable_and_compressed_as_asked(app, client, accept, encoding):
    url = f"/static/js/sync.js?v={asset_version(app)}"
    response = _static(client, url, **({"Accept-Encoding": accept} if accept else {}))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # The script as written, minified (comments and spare white space dropped).
    assert _decoded(response).decode() == minify("sync.js", _file(app, "js/sync.js").decode())
    if encoding:
        assert len(response.data) < len(_file(app, "js/sync.js")) / 2


@pytest.mark.parametrize("query", ["", "?v=another-deploy"])
def test_static_file_without_this_deploys_version_is_revalidated(app, client, query):
    response = _static(client, f"/static/css/app.css{query}", **{"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Content-Encoding"] == "gzip"
    again = _static(client, f"/static/css/app.css{query}", **{"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_images_are_cached_by_version_but_not_recompressed(app, client):
    response = _static(client, f"/static/icons/icon-192.png?v={asset_version(app)}", **{"Accept-Encoding": "br, gzip"})
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert "Content-Encoding" not in response.headers
    assert response.data == _file(app, "icons/icon-192.png")


def test_service_worker_stays_at_the_root_uncached_and_revalidates_with_a_304(app, client):
    response = client.get("/sw.js", headers={"Accept-Encoding": "br, gzip"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Content-Encoding"] == "br"
    source = _decoded(response).decode()
    assert re.search(rf'const VERSION ?= ?"{asset_version(app)}"', source)
    etag = response.headers["ETag"]
    unchanged = client.get("/sw.js", headers={"Accept-Encoding": "br, gzip", "If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""
    plain = client.get("/sw.js")
    assert "Content-Encoding" not in plain.headers
    assert client.get("/sw.js", headers={"If-None-Match": plain.headers["ETag"]}).status_code == 304


def test_service_worker_precaches_every_script_the_pages_load_at_this_version(app, auth):
    """The precache list is built on the server from the pages' declared scripts: a script a page
    loads but the worker does not keep would be missing with no signal (and downloaded twice)."""
    version = asset_version(app)
    source = auth.client.get("/sw.js").get_data(as_text=True)
    shell = json.loads(re.search(r"const SHELL ?= ?(\[.*?\]);", source).group(1))
    # Static files at this deploy's version; the config script at a digest of its own content.
    assert all(url.endswith(f"?v={version}") or url.startswith("/phone-config.js?v=") for url in shell)
    auth.sign_in()
    for path in ("/", "/lone-working/", "/incidents/new", "/waiting", "/offline"):
        html = auth.client.get(path).get_data(as_text=True)
        loaded = re.findall(r'<script src="([^"]+)"', html) + re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
        for src in loaded:
            assert src in shell, f"{path} loads {src}, which the service worker does not precache"


@pytest.mark.parametrize("accept, encoding", [("gzip, deflate, br", "br"), ("gzip", "gzip"), ("", None)])
def test_pages_are_compressed_as_asked_and_keep_their_security_headers(client, accept, encoding):
    response = client.get("/auth/sign-in", headers={"Accept-Encoding": accept} if accept else {})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert b'id="email"' in _decoded(response)


def test_json_is_compressed_but_tiny_answers_are_not(client):
    big = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "br, gzip"})
    assert big.headers["Content-Encoding"] == "br"
    assert json.loads(_decoded(big))["openapi"]
    assert big.headers["Cache-Control"] == "no-store"
    tiny = client.get("/healthz", headers={"Accept-Encoding": "br, gzip"})
    assert "Content-Encoding" not in tiny.headers
    assert tiny.get_json() == {"status": "ok"}


def test_sync_api_refusal_413_is_plain_json_even_when_compression_is_asked(app, auth, incident_record):
    app.config["SYNC_MAX_BODY_BYTES"] = 2_000
    auth.sign_in()
    token = auth.api_token()
    body = json.dumps({"sent_at": datetime.now(UTC).isoformat(),
                       "records": [incident_record() for _ in range(10)]})
    response = auth.client.post("/api/v1/sync", data=body, content_type="application/json",
                                headers={"X-CSRFToken": token, "Accept-Encoding": "br, gzip"})
    assert response.status_code == 413
    assert "Content-Encoding" not in response.headers
    assert response.get_json()["error"]["code"] == "too_large"


def test_sync_api_answer_is_compressed_when_asked_and_still_reads_as_json(auth, incident_record):
    auth.sign_in()
    token = auth.api_token()
    body = {"sent_at": datetime.now(UTC).isoformat(), "records": [incident_record() for _ in range(20)]}
    response = auth.client.post("/api/v1/sync", json=body, headers={"X-CSRFToken": token, "Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    results = json.loads(_decoded(response))["results"]
    assert [r["status"] for r in results] == ["created"] * 20
