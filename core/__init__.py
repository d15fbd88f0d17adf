"""Emporium: an e-commerce backend made of plugins on a small Pyramid kernel."""


def main(global_config, **settings):
    """The WSGI application factory (``paste.app_factory``)."""
    from core.config import configure
    from core.settings import MissingEnvironmentVariable

    try:
        config = configure(settings)
    except MissingEnvironmentVariable as exc:
        # a one-line reason instead of a traceback: the operator's fix is obvious
        raise SystemExit(f"emporium: cannot start: {exc}") from None
    return config.make_wsgi_app()
