"""Helpers for the lone-working tests: a hand-moved clock, a phone that makes records, a real SMTP server."""
import threading
import uuid
from datetime import datetime, timedelta, timezone

from support import csrf_from

LONDON_WINTER = timezone(timedelta(0))
LONDON_SUMMER = timezone(timedelta(hours=1))
TEST_PASSWORD = "correct horse battery"


class Clock:
    """The server's clock, moved by hand. Every module that reads the time sees it."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now

    def set(self, now: datetime) -> datetime:
        self.now = now
        return now


class Phone:
    """Makes records as the phone does: ids made here, phone time with offset, a sequence."""

    def __init__(self, clock: Clock, offset=LONDON_SUMMER, skew=timedelta(0)):
        self.clock = clock
        self.offset = offset
        self.skew = skew  # phone clock minus true time
        self.sequence = 0

    def now(self) -> datetime:
        return (self.clock.now + self.skew).astimezone(self.offset)

    def record(self, type_: str, data: dict, at: datetime | None = None, record_id: str | None = None) -> dict:
        data = dict(data)
        if type_ != "session_started" and "sequence" not in data:
            self.sequence += 1
            data["sequence"] = self.sequence
        return {"id": record_id or str(uuid.uuid4()), "type": type_, "schema_version": 1,
                "recorded_at": (at or self.now()).isoformat(), "data": data}

    def start(self, minutes: int = 240, interval: int = 30, place: str = "12 Elm Road", at=None, **extra) -> dict:
        self.sequence = 0
        data = {"place_kind": "home_visit", "place": place, "duration_minutes": minutes,
                "check_in_interval_minutes": interval, "sequence": 0}
        data.update(extra)
        return self.record("session_started", data, at=at)

    def check_in(self, session_id, **kw) -> dict:
        return self.record("check_in", {"session_id": str(session_id)}, **kw)

    def extend(self, session_id, minutes=30, **kw) -> dict:
        return self.record("session_extended", {"session_id": str(session_id), "extend_by_minutes": minutes}, **kw)

    def finish(self, session_id, pin=None, **kw) -> dict:
        data = {"session_id": str(session_id)}
        if pin is not None:
            data["pin"] = pin
        return self.record("session_finished", data, **kw)

    def alarm(self, session_id=None, latitude=None, longitude=None, message=None, **kw) -> dict:
        data = {}
        if session_id is not None:
            data["session_id"] = str(session_id)
        if message is not None:
            data["message"] = message
        if latitude is not None:
            data.update(latitude=latitude, longitude=longitude)
        return self.record("alarm_raised", data, **kw)

    def sent_at(self) -> datetime:
        return self.now()




class Inbox:
    """What a real SMTP server (aiosmtpd) received.

    `refuse[address] = "550 5.1.1 No such user"` makes it answer RCPT TO for that address so;
    `recipients_asked` lists every RCPT TO address it was asked, accepted or not.
    """

    def __init__(self):
        self.messages = []
        self.refuse: dict[str, str] = {}
        self.recipients_asked: list[str] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.recipients_asked.append(address)
            refusal = self.refuse.get(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy
        with self.lock:
            self.messages.append({"to": list(envelope.rcpt_tos), "from": envelope.mail_from,
                                  "message": message_from_bytes(envelope.content, policy=policy.default)})
        return "250 Message accepted for delivery"

    def to(self, address):
        return [m for m in self.messages if address in m["to"]]


class SmtpServer:
    def __init__(self, port: int):
        self.port = port
        self.inbox = Inbox()
        self.controller = None

    def start(self):
        from aiosmtpd.controller import Controller
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def sign_in_client(app, email, password="correct horse battery"):
    """A separate browser signed in as someone (the demo password of tests/conftest.py)."""
    client = app.test_client()
    token = csrf_from(client.get("/auth/sign-in").get_data(as_text=True))
    response = client.post("/auth/sign-in", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302
    return client


def csrf_of(client, path):
    """The CSRF token of a page's form."""
    return csrf_from(client.get(path).get_data(as_text=True))
