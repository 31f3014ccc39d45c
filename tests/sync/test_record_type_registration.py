"""Record types are registered by the application factory, from one list, not as an import side effect."""
import subprocess
import sys
from pathlib import Path

import app.incidents.services
import app.lone_working.services
from app import create_app
from app.sync import registry

ROOT = Path(__file__).resolve().parents[2]
EVERY_RECORD_TYPE = {"incident", "session_started", "check_in", "session_extended", "session_finished",
                     "alarm_raised"}


def test_create_app_registers_every_record_type_even_when_the_domains_were_imported_before(monkeypatch, tmp_path):
    assert app.incidents.services and app.lone_working.services  # imported above, before the registry is emptied
    monkeypatch.setattr(registry, "_record_types", {})
    create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/r.db"})
    assert set(registry.record_types()) == EVERY_RECORD_TYPE
    assert registry.get_record_type("incident").rows is not None
    assert all(registry.get_record_type(name).lock_key is not None for name in EVERY_RECORD_TYPE - {"incident"})


def test_importing_the_domain_services_registers_nothing():
    script = ("import app.incidents.services, app.lone_working.services\n"
              "from app.sync.registry import record_types\n"
              "print(sorted(record_types()))")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
