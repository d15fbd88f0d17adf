from core.plugins import hookimpl

from . import services


@hookimpl
def install(dbsession, settings):
    # a reinstall after an uninstall that kept the data finds the first one
    services.ensure(dbsession, services.WELCOME_TITLE,
                    "Welcome to our shop! Announcements like this one appear here.")


@hookimpl
def demo_data(dbsession):
    services.ensure(dbsession, services.DEMO_TITLE,
                    "Every order ships free this week, whatever its size.")
