"""Settings from ini files and EMPORIUM_* environment variables."""
import pytest

from core.settings import MissingEnvironmentVariable, plugin_overrides, resolve


def test_placeholders_come_from_the_environment():
    settings = {"sqlalchemy.url": "${EMPORIUM_DATABASE_URL}", "other": "kept"}
    resolved = resolve(settings, environ={"EMPORIUM_DATABASE_URL": "postgresql://db/x"})
    assert resolved == {"sqlalchemy.url": "postgresql://db/x", "other": "kept"}


def test_a_missing_or_empty_variable_names_itself_and_its_setting():
    for environ in ({}, {"EMPORIUM_JWT_SECRET": ""}):
        with pytest.raises(MissingEnvironmentVariable) as exc:
            resolve({"emporium.jwt_secret": "${EMPORIUM_JWT_SECRET}"}, environ=environ)
        assert str(exc.value) == ("environment variable EMPORIUM_JWT_SECRET is not set "
                                  "(the setting emporium.jwt_secret reads it)")


def test_environment_overrides_the_ini():
    resolved = resolve({"sqlalchemy.url": "sqlite:///x.sqlite"},
                       environ={"EMPORIUM_DATABASE_URL": "postgresql://db/y"})
    assert resolved["sqlalchemy.url"] == "postgresql://db/y"


def test_plugin_settings_forced_from_environment_or_ini():
    resolved = resolve({"emporium.plugin.alpha.greeting": "ini"},
                       environ={"EMPORIUM_PLUGIN_PAYMENTS_STRIPE__SECRET_KEY": "sk_1",
                                "EMPORIUM_PLUGIN_ALPHA__LIMIT": "4"})
    assert plugin_overrides(resolved, "payments_stripe") == {"secret_key": "sk_1"}
    assert plugin_overrides(resolved, "alpha") == {"greeting": "ini", "limit": "4"}


def test_the_resolved_copy_leaves_the_original_alone():
    settings = {"a": "${EMPORIUM_A}"}
    resolve(settings, environ={"EMPORIUM_A": "1"})
    assert settings == {"a": "${EMPORIUM_A}"}
