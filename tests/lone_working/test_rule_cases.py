"""Every case of rule_cases.json against the server's rules (rules.py, and the start form's schema).

tests/js/lw_rules.test.js runs the same cases against the phone's copy (app/static/js/lw_rules.js),
so a rule changed on one side only fails one of the two. How the table is written: its "about".
"""
import inspect
import json
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from marshmallow import ValidationError

from app.lone_working import forms, rules, schemas
from app.lone_working.models import PLACE_KINDS

TABLE = json.loads(Path(__file__).with_name("rule_cases.json").read_text(encoding="utf-8"))
ZONE = ZoneInfo(TABLE["zone"])
FUNCTIONS = TABLE["functions"]


def _instant(text):
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, f"an instant in the table needs an offset: {text}"
    return moment


CONVERT = {
    "instant": _instant,
    "local": datetime.fromisoformat,
    "wall_time": time.fromisoformat,
    "seconds": lambda seconds: timedelta(seconds=seconds),
    "kinds": set,
    "text": lambda value: value,
    "number": lambda value: value,
    "value": lambda value: value,
}


def _resolve_planned_end(value, started_at):
    """None where the server cannot read the value (rules.py raises ValueError; the phone says null)."""
    try:
        return rules.resolve_planned_end(value, started_at, ZONE)
    except ValueError:
        return None


def _check_start(fields):
    """The start form's answers as the sync API judges them: {} or the schema's messages."""
    try:
        schemas.SessionStartedV1().load(fields)
    except ValidationError as error:
        return error.messages
    return {}


CALL = {
    "wall_clock_to_instant": lambda local: rules.wall_clock_to_instant(local, ZONE),
    "next_occurrence_of": lambda wall_time, after: rules.next_occurrence_of(wall_time, after, ZONE),
    "resolve_planned_end": _resolve_planned_end,
    "urgency": lambda now, active, deadline_at, grace_minutes, due_soon_minutes, open_alert_kinds: rules.urgency(
        now, active=active, deadline_at=deadline_at, grace_minutes=grace_minutes,
        due_soon_minutes=due_soon_minutes, open_alert_kinds=open_alert_kinds),
    "check_start": _check_start,
}


def _expected(returns, expect):
    if returns == "instant":
        return _instant(expect)
    if returns == "seconds":
        return timedelta(seconds=expect)
    if returns == "late_check_in":
        if expect is None:
            return None
        return rules.LateCheckIn(_instant(expect["checked_in_at"]), _instant(expect["received_at"]),
                                 expect["in_time_on_phone"])
    return expect


def _cases():
    for name, spec in FUNCTIONS.items():
        for case in spec["cases"]:
            yield pytest.param(name, case, id=f"{name}: {case['name']}")


@pytest.mark.parametrize("function, case", list(_cases()))
def test_the_server_rules_give_every_expected_answer_of_the_shared_table(function, case):
    spec = FUNCTIONS[function]
    args = [CONVERT[kind](case[arg]) if case[arg] is not None else None for arg, kind in spec["args"].items()]
    call = CALL.get(function) or getattr(rules, function)
    assert call(*args) == _expected(spec["returns"], case["expect"])


def test_the_server_constants_are_the_tables():
    duration = schemas.SessionStartedV1().fields["duration_minutes"].validators[0]
    server = {
        "MIN_INTERVAL_MINUTES": rules.MIN_INTERVAL_MINUTES, "MAX_INTERVAL_MINUTES": rules.MAX_INTERVAL_MINUTES,
        "MIN_DURATION_MINUTES": duration.min, "MAX_DURATION_MINUTES": duration.max, "MAX_ID": schemas.MAX_ID,
        "BACKOFF_FIRST_SECONDS": rules.BACKOFF_FIRST.total_seconds(),
        "BACKOFF_MAX_SECONDS": rules.BACKOFF_MAX.total_seconds(),
        "URGENCY_RANK": rules.URGENCY_RANK, "URGENCY_LABELS": rules.URGENCY_LABELS, "PLACE_KINDS": PLACE_KINDS,
    }
    assert server == TABLE["constants"]


def test_every_public_rule_has_cases_in_the_table():
    public = {name for name, value in inspect.getmembers(rules, inspect.isfunction)
              if value.__module__ == rules.__name__ and not name.startswith("_")}
    assert public - set(FUNCTIONS) == set(), "add cases for these rules to rule_cases.json (and lw_rules.js)"
    assert set(FUNCTIONS) - public == {"check_start"}  # the schema's rule, run through CALL


def test_every_case_gives_every_argument_and_says_what_it_proves():
    for name, spec in FUNCTIONS.items():
        assert spec["cases"], name
        for case in spec["cases"]:
            assert set(case) == {"name", "expect", *spec["args"]}, (name, case["name"])
        names = [case["name"] for case in spec["cases"]]
        assert len(names) == len(set(names)), f"{name}: two cases with one name"


def test_the_start_forms_interval_words_come_from_the_rules():
    """One copy of the words: the start form offers INTERVAL_CHOICES worded by rules.interval_label."""
    assert not hasattr(forms, "interval_label")
    for minutes in forms.INTERVAL_CHOICES:
        assert rules.interval_label(minutes).startswith("Every ")
