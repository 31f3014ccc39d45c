"""`flask --app wsgi escalate`: the sweep, once or forever."""
import logging
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.extensions import db
from app.lone_working.escalation import run_sweep
from app.lone_working.notify import NOT_CONFIGURED, mail_configured

log = logging.getLogger(__name__)


def register_lone_working_commands(app: Flask) -> None:
    app.cli.add_command(escalate_command)


@click.command("escalate")
@click.option("--every", type=int, default=None, metavar="SECONDS",
              help="Sweep again every SECONDS, forever (the single-machine default). Without it, sweep once.")
@with_appcontext
def escalate_command(every):
    """Raise overdue alerts, escalate unacknowledged ones, send due alert emails.

    Safe to run on many machines at once: each alert is raised, escalated and emailed once.
    """
    if not mail_configured(current_app.config):
        click.echo(f"WARNING: {NOT_CONFIGURED}. Alerts will show on the board but NO email will be sent "
                   "(until it is set: then the emails of alerts still open go out).", err=True)
    if every is None:
        report = run_sweep()
        click.echo(_summary(report))
        return
    if every < 1:
        raise click.BadParameter("must be at least 1 second", param_hint="--every")
    click.echo(f"Sweeping every {every} s. Stop with Ctrl+C.")
    while True:
        started = time.monotonic()
        try:
            report = run_sweep()
            mail = report.mail
            if report.raised or report.escalated or mail.sent or mail.failed or mail.undeliverable or mail.unconfigured:
                click.echo(_summary(report))
        except Exception:  # noqa: BLE001 - one failed pass must never stop the loop
            log.exception("escalation sweep failed; trying again in %s s", every)
            db.session.rollback()
            db.session.remove()
        time.sleep(max(0.0, every - (time.monotonic() - started)))


def _summary(report) -> str:
    """One line that says what really happened to each email this pass."""
    mail = report.mail
    text = f"sweep: {report.raised} overdue alerts raised, {report.escalated} escalations, {mail.sent} emails sent"
    if mail.failed:
        text += f", {mail.failed} failed and will be retried (last error: {mail.errors[-1]})"
    else:
        text += ", 0 failed"
    if mail.undeliverable:
        reasons = "; ".join(dict.fromkeys(mail.reasons))
        text += f", {mail.undeliverable} NOT sent and never will be ({reasons})"
    if mail.unconfigured:
        text += f", {mail.unconfigured} NOT sent ({NOT_CONFIGURED}; they go out once it is, if still open)"
    return text
