"""Roles and permissions: staff-only routes, declared permissions, the ownership helper."""
import types

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError, ConfigurationError
from pyramid.security import NO_PERMISSION_REQUIRED

from core.api.errors import NotFound
from core.security import AUTHENTICATED, Identity, has_permission, owned_or_404
from tests.conftest import JWT_SECRET

from .conftest import assert_error

CUSTOMER = Identity(id=7, roles=("customer",))
STAFF = Identity(id=8, roles=("customer", "staff"))


@pytest.mark.parametrize("path", ["/api/v1/admin/plugins", "/api/v1/admin/plugins/alpha",
                                  "/api/v1/admin/plugins/alpha/plan?operation=install"])
def test_the_plugins_admin_is_staff_only(testapp, customer, staff, path):
    assert_error(testapp.get(path, status=401), 401, "unauthorized")
    assert_error(testapp.get(path, headers=customer.headers, status=403), 403, "forbidden")
    assert testapp.get(path, headers=staff.headers).status_int == 200


def test_a_customer_cannot_install_plugins(testapp, customer):
    response = testapp.post_json("/api/v1/admin/plugins/alpha/install", {},
                                 headers=customer.headers, status=403)
    assert_error(response, 403, "forbidden")


def kernel_config():
    config = Configurator(settings={"emporium.jwt_secret": JWT_SECRET}, package="core")
    config.include("core.security")
    return config


def test_permission_rules(registry):
    assert has_permission(registry, None, NO_PERMISSION_REQUIRED)
    assert not has_permission(registry, None, AUTHENTICATED)
    assert has_permission(registry, CUSTOMER, AUTHENTICATED)
    # undeclared and declared-for-staff permissions are staff-only
    assert not has_permission(registry, CUSTOMER, "catalog.manage")
    assert not has_permission(registry, CUSTOMER, "core.plugins.manage")
    assert has_permission(registry, STAFF, "catalog.manage")
    assert has_permission(registry, STAFF, "anything.at_all")
    assert "core.plugins.manage" in registry["permissions"]


def test_declared_permissions_grant_roles():
    config = kernel_config()
    config.declare_permission("core.reviews.write", "Write product reviews",
                              roles=("customer",))
    config.commit()
    registry = config.registry
    assert has_permission(registry, CUSTOMER, "core.reviews.write")
    assert not has_permission(registry, None, "core.reviews.write")
    assert registry["permissions"]["core.reviews.write"].description == "Write product reviews"
    intr = registry.introspector.get("emporium permissions", "core.reviews.write")
    assert intr["roles"] == ("customer",)


def test_a_permission_is_named_after_its_owner():
    config = kernel_config()
    with pytest.raises(ConfigurationError, match="must start with 'core.'"):
        config.declare_permission("catalog.manage", "Not the kernel's to declare")
    with pytest.raises(ConfigurationError, match="unknown roles"):
        config.declare_permission("core.thing", "", roles=("admin",))


def test_a_plugin_declares_permissions_under_its_own_name(registry):
    config = Configurator(settings={"emporium.jwt_secret": JWT_SECRET},
                          package="tests.fixtures.plugins.alpha")
    config.include("core.security")
    config.registry["plugins"] = registry["plugins"]
    with pytest.raises(ConfigurationError, match="must start with 'alpha.'"):
        config.declare_permission("catalog.manage", "Not alpha's to declare")
    config.declare_permission("alpha.manage", "Manage alpha items")
    config.commit()
    assert set(config.registry["permissions"]) == {"core.plugins.manage", "alpha.manage"}


def test_declaring_a_permission_twice_conflicts():
    config = kernel_config()
    config.declare_permission("core.same", "one")
    config.declare_permission("core.same", "two")
    with pytest.raises(ConfigurationConflictError):
        config.commit()


def request_of(identity):
    return types.SimpleNamespace(identity=identity)


def test_owned_or_404():
    mine = types.SimpleNamespace(user_id=7, customer_id=8)
    assert owned_or_404(request_of(CUSTOMER), mine) is mine
    assert owned_or_404(request_of(STAFF), mine, owner_id_attr="customer_id") is mine
    for request, obj in ((request_of(STAFF), mine), (request_of(None), mine),
                         (request_of(CUSTOMER), None),
                         (request_of(CUSTOMER), types.SimpleNamespace())):
        with pytest.raises(NotFound):
            owned_or_404(request, obj)
