"""Template filters and globals."""
from flask import Flask, current_app, url_for

from app.main.assets import asset_version
from app.timefmt import at_offset, format_offset, format_when, to_service_local


def register_template_helpers(app: Flask) -> None:
    from app.main.offline import PAGE_SCRIPTS, phone_config, phone_config_url

    app.add_template_global(PAGE_SCRIPTS, "page_scripts")
    app.add_template_global(phone_config)
    app.add_template_global(phone_config_url)

    @app.template_global()
    def asset_url(filename: str) -> str:
        """A static URL that changes with every deploy, so the precache never serves a stale file."""
        return url_for("static", filename=filename, v=asset_version(current_app))

    @app.template_filter("service_time")
    def service_time(value):
        return format_when(to_service_local(value)) if value else ""

    @app.template_filter("phone_time")
    def phone_time(value, offset_minutes: int = 0):
        """The time as the phone showed it, with its offset."""
        if value is None:
            return ""
        local = at_offset(value, offset_minutes)
        return f"{format_when(local)} ({format_offset(local)})"
