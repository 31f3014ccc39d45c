"""Command-line tools for accounts and the demo service."""
import secrets

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext

from app.auth.services import create_user
from app.extensions import db
from app.org.models import Branch, Team
from app.org.services import create_demo_data, demo_data_exists, get_or_create_service


def register_auth_commands(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(demo_data_command)


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--service", "service_name", required=True, help="Library service name (created if missing).")
@click.option("--role", type=click.Choice(["staff", "supervisor", "admin"]), default="staff")
@click.option("--team", "team_name", help="Team the person belongs to, as 'Branch/Team'.")
@click.option("--supervises", multiple=True, help="A team this supervisor looks after, as 'Branch/Team' (repeatable).")
@click.password_option(help="At least 10 characters.")
@with_appcontext
def create_user_command(email, name, service_name, role, team_name, supervises, password):
    """Create a person who can sign in."""
    service = get_or_create_service(service_name)
    try:
        team = _find_team(service.id, team_name) if team_name else None
        supervised = [_find_team(service.id, path).id for path in supervises]
        user = create_user(email, name, password, service.id, role=role, team_id=team.id if team else None,
                           supervised_team_ids=supervised)
    except ValueError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    click.echo(f"Created {user.role} {user.email} in {service.name}.")


def _find_team(service_id: int, path: str) -> Team:
    branch_name, _, team_name = path.partition("/")
    team = db.session.scalar(sa.select(Team).join(Branch).where(
        Branch.library_service_id == service_id, Branch.name == branch_name.strip(), Team.name == team_name.strip()))
    if team is None:
        raise ValueError(f"no team {path!r} in this library service")
    return team


@click.command("demo-data")
@click.option("--password", help="Password for every demo account (at least 10 characters).")
@click.option("--if-missing", is_flag=True, help="Do nothing when the demo service already exists.")
@with_appcontext
def demo_data_command(password, if_missing):
    """Create (or reset) the demo library service and its accounts, and print how to sign in."""
    if if_missing and demo_data_exists():
        click.echo("Demo data already present. Reset the passwords with: "
                   "flask --app wsgi demo-data --password NEW-PASSWORD")
        return
    password = password or secrets.token_urlsafe(9)
    try:
        accounts = create_demo_data(password)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo("Demo library service ready. Sign in with any of these accounts:")
    for email, _name, role in accounts:
        click.echo(f"  {role:<11} {email:<26} password: {password}")
