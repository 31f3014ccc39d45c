"""Alert emails over SMTP (smtplib), configured from the environment.

A send either reaches the SMTP server (recorded "sent") or raises. A failure that retrying
cannot fix (the message cannot be built, the address is not an address, the server refuses
the recipient with a permanent 5xx) raises `Undeliverable` and is recorded "undeliverable",
never retried; any other failure (connection refused, a timeout, a 4xx) is recorded
"failed" with the error and retried with backoff. Without SMTP_HOST nothing is pretended:
emails are recorded as "unconfigured", the log says so, and the board says so; they are sent
by the first sweep after mail is configured, if their alert is still open.
"""
import re
import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from app.extensions import db
from app.lone_working.models import Alert, LoneWorkingEvent
from app.timefmt import at_offset, format_offset, format_when

NOT_CONFIGURED = "Email is not configured (SMTP_HOST is not set)"
SUBJECT_MAX = 200
NAME_MAX = 100
PART_MAX = 120

# Every character str.splitlines() breaks on (the email package refuses a header holding any
# of them), the other C0 controls and DEL, and lone surrogates (they cannot be encoded).
_HEADER_UNSAFE = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029\ud800-\udfff]+")
_BODY_UNSAFE = re.compile("[\x00\ud800-\udfff]")
_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+")
_CONTROL = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029\ud800-\udfff]")


class Undeliverable(Exception):
    """A send that retrying cannot fix; `reason` says why, in words a supervisor can act on."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def mail_configured(config) -> bool:
    return bool((config.get("SMTP_HOST") or "").strip())


def header_safe(text, limit: int = SUBJECT_MAX) -> str:
    """Text fit for a header: line breaks and controls collapsed to one space, at most `limit` long."""
    text = " ".join(_HEADER_UNSAFE.sub(" ", str(text or "")).split())
    if len(text) > limit:
        text = text[:limit - 1].rstrip() + "\u2026"
    return text


def body_safe(text) -> str:
    """Text fit for the plain-text body: no NUL, no lone surrogate (they cannot be encoded)."""
    return _BODY_UNSAFE.sub("\ufffd", str(text or ""))


def address_problem(address) -> str | None:
    """Why `address` cannot be emailed, or None when it looks like an address."""
    address = address or ""
    if not address.strip():
        return "no email address"
    if len(address) > 254 or _CONTROL.search(address) or not _ADDRESS.fullmatch(address):
        return f"not a valid email address: {header_safe(address, 80)!r}"
    return None


def build_message(config, to: str, subject: str, body: str, recipient_name: str = "") -> EmailMessage:
    """The message to send, headers made safe; raises `Undeliverable` if it cannot be built."""
    problem = address_problem(to)
    if problem:
        raise Undeliverable(problem)
    try:
        message = EmailMessage()
        message["From"] = header_safe(config["SMTP_SENDER"], 254)
        name = header_safe(recipient_name, NAME_MAX)
        message["To"] = formataddr((name, to)) if name else to
        message["Subject"] = header_safe(subject, SUBJECT_MAX)
        message["Message-ID"] = make_msgid(domain="safer-libraries")
        message.set_content(body_safe(body))
        message.as_bytes()  # any encoding problem shows here, not half way through a send
    except (ValueError, TypeError, IndexError) as error:  # the email package's refusals
        raise Undeliverable(f"the message could not be built: {type(error).__name__}: {error}") from error
    return message


def permanent_reason(error: BaseException) -> str | None:
    """Why a failed send can never succeed by retrying it, or None if a retry may work."""
    if isinstance(error, Undeliverable):
        return error.reason
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients and all(
            int(code) >= 500 for code, _ in error.recipients.values()):
        refusals = "; ".join(f"{address}: {code} {_text(reply)}" for address, (code, reply) in error.recipients.items())
        return f"the mail server refused the address ({refusals})"
    return None


def _text(reply) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def send_email(config, to: str, subject: str, body: str, recipient_name: str = "") -> None:
    """Hand one message to the SMTP server; raises on any failure (`Undeliverable` if for ever)."""
    message = build_message(config, to, subject, body, recipient_name)
    with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=config.get("SMTP_TIMEOUT", 10)) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
        refused = smtp.send_message(message, to_addrs=[to])
    if refused:  # some servers take the message but refuse a recipient: that is not "sent"
        raise smtplib.SMTPRecipientsRefused(refused)


def alarm_message(alert: Alert) -> str:
    """What the worker typed in "Anything to add" when raising the alarm ("" if nothing)."""
    if alert.kind != "alarm" or alert.source_event_id is None:
        return ""
    event = db.session.get(LoneWorkingEvent, alert.source_event_id)
    return message_of(event.data if event is not None else None)


def message_of(data) -> str:
    message = data.get("message") if isinstance(data, dict) else None
    return message.strip() if isinstance(message, str) else ""


def compose_alert_email(alert: Alert, level: int, recipient_name: str, config) -> tuple[str, str]:
    """Subject and plain-text body: who, what, where, last contact, and the link to act."""
    worker = alert.worker
    session = alert.session
    what = {"alarm": "ALARM: asked for help", "duress": "DURESS: silent alarm (finished with the duress PIN)",
            "overdue": "OVERDUE: missed check-in or planned end"}.get(alert.kind, alert.kind)
    place = session.place_label if session is not None else "no session (alarm raised outside a session)"
    subject = (f"[Safer Libraries] {alert.kind.upper()}: {header_safe(worker.name, NAME_MAX)}"
               f" - {header_safe(place, PART_MAX)}")
    if level > 1:
        subject += f" (escalated, level {level})"
    lines = [f"Hello {recipient_name or ''}".rstrip() + ",", "",
             f"{worker.name}: {what}.", f"Where: {place}."]
    message = alarm_message(alert)
    if message:
        lines.append(f"The worker's message with the alarm: {message}")
    latitude = alert.latitude if alert.latitude is not None else (session.latitude if session else None)
    longitude = alert.longitude if alert.longitude is not None else (session.longitude if session else None)
    if latitude is not None and longitude is not None:
        lines.append(f"Location: {latitude:.5f}, {longitude:.5f} "
                     f"https://www.openstreetmap.org/?mlat={latitude:.5f}&mlon={longitude:.5f}")
    lines.append(f"Raised: {_server(alert.raised_at, config)} (server time).")
    if session is not None:
        if session.last_check_in_at is not None:
            lines.append(f"Last check-in: {_phone(session.last_check_in_at, session.last_check_in_offset_minutes)} "
                         f"(phone), received {_server(session.last_check_in_received_at, config)}.")
        else:
            lines.append("No check-in yet in this session.")
        if session.planned_end_at is not None:
            lines.append(f"Planned end: {_server(session.planned_end_at, config)}.")
        if session.note:
            lines.append(f"Note from the worker: {session.note}")
    if alert.acknowledged_at is not None and alert.acknowledged_by is not None:
        lines.append(f"Already acknowledged by {alert.acknowledged_by.name} at {_server(alert.acknowledged_at, config)}"
                     " (server time); the alert is still open.")
    elif level > 1:
        lines.append(f"Nobody has acknowledged this alert yet, so it has reached escalation level {level}.")
    base = (config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    lines += ["", f"Acknowledge and act: {base}/supervise/alerts/{alert.id}", "",
              "If you believe the person is in danger, call 999."]
    return header_safe(subject, SUBJECT_MAX), body_safe("\n".join(lines) + "\n")


def _server(value, config) -> str:
    from zoneinfo import ZoneInfo
    if value is None:
        return "unknown"
    local = value.astimezone(ZoneInfo(config.get("LOCAL_TIMEZONE", "Europe/London")))
    return f"{format_when(local)} {format_offset(local)}"


def _phone(value, offset_minutes: int) -> str:
    local = at_offset(value, offset_minutes)
    return f"{format_when(local)} {format_offset(local)}"
