"""Settings from the environment. SQLite in instance/ is the embedded default."""
import os
from datetime import timedelta
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def database_url_from_env() -> str:
    """DATABASE_URL, with postgres URLs pointed at psycopg 3."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'safer-libraries.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    ENV_NAME = os.environ.get("SAFER_ENV", "development")
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = database_url_from_env()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    # A lone worker must not be signed out of their phone every day.
    REMEMBER_COOKIE_DURATION = timedelta(days=int(os.environ.get("REMEMBER_DAYS", "90")))
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)

    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")
    WTF_CSRF_TIME_LIMIT = int(os.environ.get("WTF_CSRF_TIME_LIMIT", "3600"))

    # Sync API limits (documented in the OpenAPI document).
    SYNC_MAX_BODY_BYTES = 1_000_000
    SYNC_MAX_RECORDS = 200
    # A phone clock further than this from the server's is flagged on its records.
    CLOCK_SKEW_FLAG_SECONDS = 300

    LOCAL_TIMEZONE = os.environ.get("LOCAL_TIMEZONE", "Europe/London")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    SIGN_IN_RATE_LIMIT = os.environ.get("SIGN_IN_RATE_LIMIT", "10 per minute;50 per hour")
    # Alert emails (lone working). Without SMTP_HOST no email is sent, and the board says so.
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "587"))
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_SENDER = os.environ.get("SMTP_SENDER", "safer-libraries@localhost")
    SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "1") == "1"
    SMTP_TIMEOUT = int(os.environ.get("SMTP_TIMEOUT", "10"))
    # Links in alert emails point here.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://localhost:5000")

    # Changes the service worker's cache names: a deploy with new assets sets a new one.
    ASSET_VERSION = os.environ.get("ASSET_VERSION", "")


def validate_config(config) -> None:
    """Refuse to start outside development without a real secret key."""
    if config.get("TESTING"):
        return
    if not config.get("SECRET_KEY"):
        if config.get("ENV_NAME") == "development":
            config["SECRET_KEY"] = _development_secret_key()
        else:
            raise RuntimeError("SECRET_KEY must be set outside development (SAFER_ENV=production)")


def _development_secret_key() -> str:
    """A key kept in instance/ so development sign-ins survive a restart."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(os.urandom(32).hex())
        path.chmod(0o600)
    return path.read_text().strip()
