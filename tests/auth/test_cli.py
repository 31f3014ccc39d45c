"""The account commands: `flask create-user` and `flask demo-data`."""
import sqlalchemy as sa

from app.auth.models import User
from app.auth.services import authenticate
from app.extensions import db as _db
from app.org.models import LibraryService


def _users(app) -> dict[str, User]:
    with app.app_context():
        users = {u.email: u for u in _db.session.scalars(sa.select(User))}
        for user in users.values():
            _db.session.expunge(user)
        return users


def test_create_user_makes_a_person_who_can_sign_in(app, auth):
    result = app.test_cli_runner().invoke(args=[
        "create-user", "--email", "New.Person@Demo.Example", "--name", "Nia New", "--service", "Demo Library Service",
        "--role", "supervisor", "--team", "Riverside Branch/Riverside team",
        "--supervises", "Riverside Branch/Riverside team", "--password", "a long new password"])
    assert result.exit_code == 0, result.output
    assert "Created supervisor new.person@demo.example in Demo Library Service." in result.output
    with app.app_context():
        user = _db.session.scalar(sa.select(User).where(User.email == "new.person@demo.example"))
        assert user.role == "supervisor" and user.team.name == "Riverside team"
        assert [t.name for t in user.supervised_teams] == ["Riverside team"]
        assert user.password_hash.startswith("scrypt:")
        assert authenticate("new.person@demo.example", "a long new password").id == user.id
    assert auth.sign_in("new.person@demo.example", "a long new password").status_code == 302


def test_create_user_creates_a_missing_library_service(app):
    result = app.test_cli_runner().invoke(args=[
        "create-user", "--email", "boss@newtown.example", "--name", "Bo Boss", "--service", "Newtown Libraries",
        "--role", "admin", "--password", "a long new password"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = _db.session.scalar(sa.select(User).where(User.email == "boss@newtown.example"))
        assert user.library_service.name == "Newtown Libraries" and user.is_admin


def test_create_user_refuses_bad_input_with_a_message(app):
    runner = app.test_cli_runner()
    before = len(_users(app))
    cases = [
        (["--email", "worker@demo.example", "--password", "a long new password"], "already exists"),
        (["--email", "x@demo.example", "--password", "short"], "at least 10 characters"),
        (["--email", "y@demo.example", "--password", "a long new password", "--team", "Nowhere/Nobody"], "no team"),
    ]
    for extra, message in cases:
        result = runner.invoke(args=["create-user", "--name", "Someone", "--service", "Demo Library Service", *extra])
        assert result.exit_code != 0
        assert message in result.output
    assert len(_users(app)) == before


def test_demo_data_is_idempotent_and_resets_passwords(app, auth):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo-data", "--password", "first demo password"])
    assert first.exit_code == 0, first.output
    assert "worker@demo.example" in first.output and "first demo password" in first.output
    after_first = _users(app)
    second = runner.invoke(args=["demo-data", "--password", "second demo password"])
    assert second.exit_code == 0, second.output
    after_second = _users(app)
    assert sorted(after_first) == sorted(after_second)
    assert {"worker@demo.example", "supervisor@demo.example", "admin@demo.example"} <= set(after_second)
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(LibraryService)) == 1
    assert auth.sign_in("worker@demo.example", "first demo password").status_code == 400
    assert auth.sign_in("worker@demo.example", "second demo password").status_code == 302


def test_demo_data_rejects_a_short_password(app):
    before = {email: user.password_hash for email, user in _users(app).items()}
    result = app.test_cli_runner().invoke(args=["demo-data", "--password", "short"])
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output
    after = {email: user.password_hash for email, user in _users(app).items()}
    assert after == before


def test_demo_data_if_missing_leaves_existing_data_alone(app):
    before = {email: user.password_hash for email, user in _users(app).items()}
    result = app.test_cli_runner().invoke(args=["demo-data", "--if-missing"])
    assert result.exit_code == 0
    assert "already present" in result.output
    assert {email: user.password_hash for email, user in _users(app).items()} == before
