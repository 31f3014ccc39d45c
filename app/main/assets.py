"""The app shell's version: a digest of the static files, so every deploy gets fresh caches."""
import hashlib
from pathlib import Path

from flask import Flask

from app.main.offline import all_scripts

# What the service worker precaches (besides the offline page): the app shell. The scripts are
# the pages' own list (app/main/offline.py), so a new script is precached without a second edit.
SHELL_FILES = [
    "css/app.css",
    *all_scripts(),
    "icons/icon.svg",
    "icons/icon-192.png",
    # Not icons/icon-512.png: only the manifest names it, and the browser fetches it itself when
    # the app is installed; precaching it cost every phone 2.7 KB on its first visit.
]


def asset_version(app: Flask) -> str:
    """Computed once per process from the files themselves (plus ASSET_VERSION if set)."""
    cached = app.extensions.get("safer_asset_version")
    if cached:
        return cached
    digest = hashlib.sha256(app.config.get("ASSET_VERSION", "").encode())
    static = Path(app.static_folder)
    for path in sorted(static.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(static)).encode())
            digest.update(path.read_bytes())
    for template in sorted(Path(app.root_path, "templates").rglob("*.html")):
        digest.update(template.read_bytes())
    version = digest.hexdigest()[:12]
    app.extensions["safer_asset_version"] = version
    return version
