"""Accounts in the kernel: registration, sign-in with rotating refresh tokens, password
reset, e-mail verification, the signed-in user and their addresses.

Routes are named ``core.<action>`` and included under /api/v1. The settings read
here are documented in docs/authentication.md.
"""
from pyramid.exceptions import ConfigurationError

URL_SETTINGS = ("emporium.password_reset_url", "emporium.email_verification_url")


def check_settings(settings):
    for name in URL_SETTINGS:
        value = settings.get(name)
        if value and "{token}" not in value:
            raise ConfigurationError(f"{name} must contain {{token}}, where the mail puts "
                                     f"the token: {value!r}")


def includeme(config):
    check_settings(config.get_settings())
    config.add_route("core.auth_register", "/auth/register")
    config.add_route("core.auth_login", "/auth/login")
    config.add_route("core.auth_refresh", "/auth/refresh")
    config.add_route("core.auth_logout", "/auth/logout")
    config.add_route("core.auth_password_reset", "/auth/password-reset")
    config.add_route("core.auth_password_reset_confirm", "/auth/password-reset/confirm")
    config.add_route("core.auth_verify_email", "/auth/verify-email")
    config.add_route("core.users_me", "/users/me")
    config.add_route("core.users_me_password", "/users/me/password")
    config.add_route("core.users_me_email_verification", "/users/me/email-verification")
    config.add_route("core.users_me_addresses", "/users/me/addresses")
    config.add_route("core.users_me_address", r"/users/me/addresses/{id:\d+}")
    config.scan(".views")
