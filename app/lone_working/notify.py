"""Alert emails over SMTP (smtplib), configured from the environment.

A send either reaches the SMTP server (recorded "sent") or raises (recorded "failed" with the
error, and retried). Without SMTP_HOST nothing is pretended: emails are recorded as
"unconfigured", the log says so, and the board says so.
"""
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from app.lone_working.models import Alert
from app.timefmt import at_offset, format_offset, format_when

NOT_CONFIGURED = "Email is not configured (SMTP_HOST is not set)"


def mail_configured(config) -> bool:
    return bool((config.get("SMTP_HOST") or "").strip())


def send_email(config, to: str, subject: str, body: str) -> None:
    """Hand one message to the SMTP server; raises on any failure."""
    message = EmailMessage()
    message["From"] = config["SMTP_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="safer-libraries")
    message.set_content(body)
    with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=config.get("SMTP_TIMEOUT", 10)) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
        smtp.send_message(message)


def compose_alert_email(alert: Alert, level: int, recipient_name: str, config) -> tuple[str, str]:
    """Subject and plain-text body: who, what, where, last contact, and the link to act."""
    worker = alert.worker
    session = alert.session
    what = {"alarm": "ALARM: asked for help", "duress": "DURESS: silent alarm (finished with the duress PIN)",
            "overdue": "OVERDUE: missed check-in or planned end"}.get(alert.kind, alert.kind)
    place = session.place_label if session is not None else "no session (alarm raised outside a session)"
    subject = f"[Safer Libraries] {alert.kind.upper()}: {worker.name} - {place}"
    if level > 1:
        subject += f" (escalated, level {level})"
    lines = [f"Hello {recipient_name or ''}".rstrip() + ",", "",
             f"{worker.name}: {what}.", f"Where: {place}."]
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
    if level > 1:
        lines.append(f"Nobody has acknowledged this alert yet, so it has reached escalation level {level}.")
    base = (config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    lines += ["", f"Acknowledge and act: {base}/supervise/alerts/{alert.id}", "",
              "If you believe the person is in danger, call 999."]
    return subject, "\n".join(lines) + "\n"


def _server(value, config) -> str:
    from zoneinfo import ZoneInfo
    if value is None:
        return "unknown"
    local = value.astimezone(ZoneInfo(config.get("LOCAL_TIMEZONE", "Europe/London")))
    return f"{format_when(local)} {format_offset(local)}"


def _phone(value, offset_minutes: int) -> str:
    local = at_offset(value, offset_minutes)
    return f"{format_when(local)} {format_offset(local)}"
