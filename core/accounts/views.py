"""The account endpoints: /auth/... and /users/me/... (see docs/authentication.md)."""
from marshmallow import ValidationError
from pyramid.httpexceptions import HTTPNoContent
from pyramid.security import NO_PERMISSION_REQUIRED

from core.api import api_view
from core.api.errors import BadRequest
from core.api.pagination import PageQuery, page_of
from core.security import (AUTHENTICATED, authenticated_user, owned_or_404,
                           validate_password)

from . import ratelimit, schemas, services
from .models import PASSWORD_RESET, Address

PUBLIC = NO_PERMISSION_REQUIRED
MAX_ID = 2**31 - 1  # an id beyond the integer column is no address, not a database error


def user_json(request, user):
    return request.plugins.extend("core.user", user, user.as_dict(), request)


def no_content():
    return HTTPNoContent()


# --- /auth ---------------------------------------------------------------------------


@api_view(route_name="core.auth_register", request_method="POST", permission=PUBLIC,
          body_schema=schemas.RegisterBody, response_schema=schemas.UserSchema, status=201,
          summary="Create a customer account")
def register(request):
    body = request.validated
    user = services.register_user(request.dbsession, body["email"], body["password"],
                                  body["name"])
    request.plugins.hook.user_registered(user=user, request=request)
    settings = request.registry.settings
    if services.verification_on_registration(settings):
        services.send_verification_mail(request, user)
    return user_json(request, user)


@api_view(route_name="core.auth_login", request_method="POST", permission=PUBLIC,
          body_schema=schemas.LoginBody, response_schema=schemas.TokenPairSchema, status=200,
          summary="Sign in with e-mail and password: an access and a refresh token",
          description="Repeated failures per account and per client address are refused "
                      "for a while with 429 and Retry-After.")
def login(request):
    body = request.validated
    user, tokens = services.log_in(request.registry, request.dbsession, body["email"],
                                   body["password"], request.client_addr)
    request.plugins.hook.user_logged_in(user=user, request=request)
    return tokens


@api_view(route_name="core.auth_refresh", request_method="POST", permission=PUBLIC,
          body_schema=schemas.RefreshTokenBody, response_schema=schemas.TokenPairSchema,
          status=200, summary="A new token pair for a refresh token, which stops working",
          description="Presenting a refresh token a second time revokes every token of "
                      "its sign-in (401 refresh_token_reused).")
def refresh(request):
    _, tokens = services.refresh(request.registry, request.validated["refresh_token"])
    return tokens


@api_view(route_name="core.auth_logout", request_method="POST", permission=PUBLIC,
          body_schema=schemas.RefreshTokenBody, status=204,
          summary="Sign out: the refresh token (and its sign-in) stops working")
def logout(request):
    services.log_out(request.dbsession, request.validated["refresh_token"])
    return no_content()


@api_view(route_name="core.auth_password_reset", request_method="POST", permission=PUBLIC,
          body_schema=schemas.PasswordResetRequestBody, response_schema=schemas.MessageSchema,
          status=202, summary="Mail a password reset link (the answer is the same for "
                              "unknown addresses)")
def password_reset_request(request):
    services.request_password_reset(request, request.validated["email"])
    return {"message": "If an account has this e-mail address, a link to reset its "
                       "password is on its way."}


def invalid_token():
    message = "This link is not valid: it was used already, has expired or is mistyped."
    return BadRequest(message, code="invalid_token", fields={"token": [message]})


@api_view(route_name="core.auth_password_reset_confirm", request_method="POST",
          permission=PUBLIC, body_schema=schemas.PasswordResetConfirmBody, status=204,
          summary="Set a new password with the token of a reset mail; signs out everywhere")
def password_reset_confirm(request):
    body = request.validated
    user = services.redeem_account_token(request.dbsession, body["token"], PASSWORD_RESET)
    if user is None or not user.is_active:
        raise invalid_token()
    problems = validate_password(body["password"], user.email)
    if problems:
        # the transaction is rolled back: the token still works for a better password
        raise ValidationError({"password": problems})
    services.set_password(request.dbsession, user, body["password"])
    # whoever can read the mail may sign in again at once
    ratelimit.clear(request.dbsession, ratelimit.account_key(user.email))
    return no_content()


@api_view(route_name="core.auth_verify_email", request_method="POST", permission=PUBLIC,
          body_schema=schemas.VerifyEmailBody, status=204,
          summary="Confirm an e-mail address with the token of a verification mail")
def verify_email(request):
    if services.verify_email(request.dbsession, request.validated["token"]) is None:
        raise invalid_token()
    return no_content()


# --- /users/me -----------------------------------------------------------------------


@api_view(route_name="core.users_me", request_method="GET", permission=AUTHENTICATED,
          response_schema=schemas.UserSchema, summary="The signed-in user")
def get_me(request):
    return user_json(request, authenticated_user(request))


@api_view(route_name="core.users_me", request_method="PATCH", permission=AUTHENTICATED,
          body_schema=schemas.UserPatchBody, response_schema=schemas.UserSchema,
          summary="Change the signed-in user's name")
def patch_me(request):
    user = authenticated_user(request)
    for key, value in request.validated.items():
        setattr(user, key, value)
    request.dbsession.flush()
    return user_json(request, user)


@api_view(route_name="core.users_me_password", request_method="POST", permission=AUTHENTICATED,
          body_schema=schemas.ChangePasswordBody, response_schema=schemas.TokenPairSchema,
          status=200, summary="Change the password: signs out every other session and "
                              "returns a new token pair for this one")
def change_password(request):
    body = request.validated
    user_id = services.verify_credentials(request.registry, body["current_password"],
                                          request.client_addr, user_id=request.identity.id)
    if user_id is None:
        message = "The current password is not correct."
        raise BadRequest(message, code="invalid_credentials",
                         fields={"current_password": [message]})
    user = authenticated_user(request)
    problems = validate_password(body["new_password"], user.email)
    if problems:
        raise ValidationError({"new_password": problems})
    services.set_password(request.dbsession, user, body["new_password"])
    return services.issue_tokens(request.dbsession, request.registry.settings, user)


@api_view(route_name="core.users_me_email_verification", request_method="POST",
          permission=AUTHENTICATED, response_schema=schemas.MessageSchema, status=202,
          summary="Mail a link that confirms the signed-in user's e-mail address")
def request_verification(request):
    user = authenticated_user(request)
    services.send_verification_mail(request, user)
    if user.email_verified_at is not None:
        return {"message": "This e-mail address is confirmed already."}
    return {"message": "A confirmation link is on its way."}


# --- /users/me/addresses -------------------------------------------------------------


def _own_address(request):
    authenticated_user(request)  # a deactivated user's unexpired token stops here
    address_id = int(request.matchdict["id"])  # the route only matches digits
    address = request.dbsession.get(Address, address_id) if address_id <= MAX_ID else None
    return owned_or_404(request, address)


@api_view(route_name="core.users_me_addresses", request_method="GET", permission=AUTHENTICATED,
          query_schema=PageQuery, response_schema=schemas.AddressPageSchema,
          summary="The signed-in user's addresses, the default first")
def list_addresses(request):
    user = authenticated_user(request)
    query = request.validated_query
    rows, total = services.list_addresses(request.dbsession, user.id, query["page"],
                                          query["per_page"])
    return page_of(request, rows, total, query["page"], query["per_page"])


@api_view(route_name="core.users_me_addresses", request_method="POST", permission=AUTHENTICATED,
          body_schema=schemas.AddressBody, response_schema=schemas.AddressSchema, status=201,
          summary="Add an address (the first one becomes the default)")
def add_address(request):
    user = authenticated_user(request)
    return services.add_address(request.dbsession, user.id, request.validated)


@api_view(route_name="core.users_me_address", request_method="GET", permission=AUTHENTICATED,
          response_schema=schemas.AddressSchema, summary="One of the signed-in user's addresses")
def get_address(request):
    return _own_address(request)


@api_view(route_name="core.users_me_address", request_method="PATCH", permission=AUTHENTICATED,
          body_schema=schemas.AddressPatchBody, response_schema=schemas.AddressSchema,
          summary="Change an address; is_default true makes it the only default")
def patch_address(request):
    address = _own_address(request)
    return services.update_address(request.dbsession, address, request.validated)


@api_view(route_name="core.users_me_address", request_method="DELETE", permission=AUTHENTICATED,
          status=204, summary="Delete an address")
def delete_address(request):
    address = _own_address(request)
    services.delete_address(request.dbsession, address)
    return no_content()
