"""Static files over a weak signal: served by WhiteNoise, compressed, and cached by version.

- Compressed: WhiteNoise serves a file's .br or .gz copy when the browser asks for it, and
  never compresses on the fly. The copies are made once per content of the static folder (the
  first process to start with new files makes them, in about a second) in a folder of their
  own under the instance folder, so the source tree stays clean and every process of a deploy
  shares them.
- Cached: a URL carrying this deploy's version (`/static/js/sync.js?v=<asset_version>`, made
  by the `asset_url` template helper and the service worker's precache list) names content
  that never changes, so it is cached for a year and marked immutable: the phone never asks
  for it again, and the service worker's precache takes it from the HTTP cache instead of
  downloading it a second time. Any other static URL (no version, or another deploy's) must
  be revalidated (`no-cache`, answered 304 when unchanged).
"""
import functools
import hashlib
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs

import rcssmin
import rjsmin
from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from app.main.assets import asset_version

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def serve_static_files(app: Flask) -> None:
    """Put WhiteNoise in front of the app for GET and HEAD under the static URL path."""
    version = asset_version(app)
    prefix = app.static_url_path.strip("/") + "/"
    static = WhiteNoise(app.wsgi_app, root=str(compressed_copy(app)), prefix=prefix,
                        max_age=None, allow_all_origins=False, add_headers_function=_static_headers)
    app.wsgi_app = VersionedStaticFiles(app.wsgi_app, static, "/" + prefix, version)


def _static_headers(headers, path: str, url: str) -> None:
    headers["Cache-Control"] = REVALIDATE
    headers["X-Content-Type-Options"] = "nosniff"


class VersionedStaticFiles:
    """GET and HEAD of a static URL go to WhiteNoise, marked immutable when the URL carries this
    deploy's version (WhiteNoise decides its headers per file, from the path alone; the version
    is in the query string, so this decides per request). Any other method goes to the app, so a
    POST to a static file gets the app's own 405 answer (with its Allow header and error body)."""

    def __init__(self, app, static, prefix: str, version: str):
        self.app = app
        self.static = static
        self.prefix = prefix
        self.version = version

    def __call__(self, environ, start_response):
        if not (environ.get("PATH_INFO", "").startswith(self.prefix)
                and environ.get("REQUEST_METHOD") in ("GET", "HEAD")):
            return self.app(environ, start_response)
        if not self._current(environ):
            return self.static(environ, start_response)

        def immutable_start_response(status, headers, exc_info=None):
            if status[:3] in ("200", "304"):
                headers = [(name, value) for name, value in headers if name.lower() != "cache-control"]
                headers.append(("Cache-Control", IMMUTABLE))
            return start_response(status, headers, exc_info)

        return self.static(environ, immutable_start_response)

    def _current(self, environ) -> bool:
        return parse_qs(environ.get("QUERY_STRING", "")).get("v") == [self.version]


def compressed_copy(app: Flask) -> Path:
    """The static folder as it is, with .br and .gz copies beside each file worth compressing.

    Scripts and styles in the copy are minified (see `minify`).

    Named by a digest of the static files alone (not the app-shell version, which also changes
    with templates and ASSET_VERSION), so a copy is made again only when a static file changed.
    Made in a temporary folder and renamed into place, so a process never serves a half-made
    copy and two processes starting at once do not trip over each other.
    """
    base = _copies_folder(app)
    # The way copies are made is part of their name: a copy made by older code is not reused.
    version = _static_digest(Path(app.static_folder)) + ("-min1" if app.config.get("MINIFY_STATIC", True) else "")
    target = base / version
    if target.is_dir():
        return target
    building = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=base))
    shutil.copytree(app.static_folder, building, dirs_exist_ok=True)
    compressor = Compressor(quiet=True)
    for path in sorted(building.rglob("*")):
        if path.is_file() and app.config.get("MINIFY_STATIC", True):
            minify_file(path)
        if path.is_file() and compressor.should_compress(path.name):
            compressor.compress(str(path))
    try:
        building.rename(target)
    except OSError:   # another process finished first: use its copy
        shutil.rmtree(building, ignore_errors=True)
    _remove_old_copies(base, keep=version)
    return target


MINIFIERS = {".js": rjsmin.jsmin, ".css": rcssmin.cssmin}


@functools.lru_cache(maxsize=64)
def minify(name: str, text: str) -> str:
    """Scripts and styles without comments and spare white space: the phone downloads about a
    third less. The source in the repository stays as written (and is what the Node tests load);
    rjsmin and rcssmin only drop what the browser ignores."""
    minifier = MINIFIERS.get(Path(name).suffix)
    return minifier(text) if minifier else text


def minify_file(path: Path) -> None:
    if path.suffix in MINIFIERS:
        path.write_text(minify(path.name, path.read_text(encoding="utf-8")), encoding="utf-8")


def _static_digest(static: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(static.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(static)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _copies_folder(app: Flask) -> Path:
    for base in (Path(app.instance_path) / "static-compressed",
                 Path(tempfile.gettempdir()) / "safer-libraries-static-compressed"):
        try:
            base.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=base):
                return base
        except OSError:
            continue
    raise RuntimeError("no writable folder for the compressed static files")


def _remove_old_copies(base: Path, keep: str, older_than_seconds: float = 86400) -> None:
    """Other versions' copies, once a day old (a process of the previous deploy may still serve one)."""
    cutoff = time.time() - older_than_seconds
    for folder in base.iterdir():
        try:
            if folder.name != keep and folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue
