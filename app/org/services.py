"""Setting up a library service's branches and teams, and the demo service."""
import sqlalchemy as sa

from app.auth.models import User
from app.extensions import db
from app.org.models import BRANCH_KINDS, Branch, LibraryService, Team

DEMO_SERVICE = "Demo Library Service"
DEMO_ACCOUNTS = [
    ("worker@demo.example", "Wendy Worker", "staff"),
    ("worker2@demo.example", "Will Walker", "staff"),
    ("supervisor@demo.example", "Sam Supervisor", "supervisor"),
    ("admin@demo.example", "Ada Admin", "admin"),
]
# Lone-working contacts: level 2 is the duty manager, level 3 the named contacts.
DEMO_CONTACTS = [
    {"name": "Duty manager", "role": "Duty manager (out of hours phone)", "phone": "+44 7700 900123",
     "email": "duty@demo.example", "escalation_level": 2, "on_alarm_screen": True},
    {"name": "Head of libraries", "role": "Named contact", "phone": "+44 7700 900456",
     "email": "head@demo.example", "escalation_level": 3, "on_alarm_screen": False},
]
DEMO_BRANCHES = [
    ("Central Library", "building", ["Central lending team"]),
    ("Mobile Library 1", "mobile", ["Mobile library crew"]),
    ("Home Library Service", "home_service", ["Home library visitors"]),
    ("Riverside Branch", "building", ["Riverside team"]),
]


def get_or_create_service(name: str) -> LibraryService:
    service = db.session.scalar(sa.select(LibraryService).where(LibraryService.name == name))
    if service is None:
        service = LibraryService(name=name)
        db.session.add(service)
        db.session.flush()
    return service


def add_branch(service: LibraryService, name: str, kind: str = "building") -> Branch:
    if kind not in BRANCH_KINDS:
        raise ValueError(f"branch kind must be one of {', '.join(BRANCH_KINDS)}")
    branch = db.session.scalar(sa.select(Branch).where(Branch.library_service_id == service.id, Branch.name == name))
    if branch is None:
        branch = Branch(library_service=service, name=name, kind=kind)
        db.session.add(branch)
        db.session.flush()
    return branch


def add_team(branch: Branch, name: str) -> Team:
    team = db.session.scalar(sa.select(Team).where(Team.branch_id == branch.id, Team.name == name))
    if team is None:
        team = Team(branch=branch, name=name)
        db.session.add(team)
        db.session.flush()
    return team


def demo_data_exists() -> bool:
    return db.session.scalar(sa.select(LibraryService.id).where(LibraryService.name == DEMO_SERVICE)) is not None


def create_demo_data(password: str) -> list[tuple[str, str, str]]:
    """Create, or reset the passwords of, the demo service and its accounts. Idempotent."""
    if len(password) < 10:
        raise ValueError("the demo password must be at least 10 characters")
    service = get_or_create_service(DEMO_SERVICE)
    teams = []
    for branch_name, kind, team_names in DEMO_BRANCHES:
        branch = add_branch(service, branch_name, kind)
        teams.extend(add_team(branch, team_name) for team_name in team_names)
    first_team, mobile_team = teams[0], teams[1]
    for email, name, role in DEMO_ACCOUNTS:
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=name, role=role, library_service_id=service.id)
            db.session.add(user)
        user.active = True
        user.set_password(password)
        if role == "staff":
            user.team = first_team if email.startswith("worker@") else mobile_team
        elif role == "supervisor":
            user.team = first_team
            user.supervised_teams = teams[:2]
    from app.lone_working.settings import ensure_lone_working_setup
    ensure_lone_working_setup(service.id, contacts=DEMO_CONTACTS)
    db.session.commit()
    return [(email, name, role) for email, name, role in DEMO_ACCOUNTS]
