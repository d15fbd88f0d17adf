"""Request and response schemas of the account endpoints."""
import unicodedata

from marshmallow import Schema, ValidationError, fields, post_dump, validate, validates_schema

from core.api.pagination import PageSchema
from core.api.schemas import RequestSchema
from core.security import validate_password

from .countries import COUNTRY_CODES

NOT_EMPTY = validate.Length(min=1, error="This field may not be empty.")
OPAQUE_TOKEN = validate.Regexp(r"^[A-Za-z0-9_-]+$", error="Not a valid token.")


def _refuse_unstorable(value, field):
    # PostgreSQL refuses NUL and a lone surrogate cannot be encoded: both would be a
    # 500 at the database, so they are a 400 here.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise field.make_error("encoding") from None
    return value


class Text(fields.String):
    """One line of text, stripped; control characters are refused."""

    default_error_messages = {
        "control": "Control characters are not allowed.",
        "encoding": "Not valid Unicode text.",
    }

    def __init__(self, *, max_length, **kwargs):
        extra = kwargs.get("validate") or []
        kwargs["validate"] = [validate.Length(max=max_length),
                              *([extra] if callable(extra) else extra)]
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = _refuse_unstorable(super()._deserialize(value, attr, data, **kwargs), self)
        if any(unicodedata.category(char) == "Cc" for char in value):
            raise self.make_error("control")
        return value.strip()


class Email(Text):
    """An e-mail address, compared and stored lower-cased."""

    def __init__(self, **kwargs):
        kwargs["validate"] = [validate.Email(error="Not a valid e-mail address.")]
        super().__init__(max_length=254, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).lower()


class Password(fields.String):
    """A password exactly as typed (not stripped); its rules are in validate_password."""

    default_error_messages = {"encoding": "Not valid Unicode text."}

    def __init__(self, **kwargs):
        super().__init__(required=True, validate=validate.Length(max=1024), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return _refuse_unstorable(super()._deserialize(value, attr, data, **kwargs), self)


class Token(Text):
    def __init__(self, **kwargs):
        super().__init__(max_length=200, required=True, validate=[NOT_EMPTY, OPAQUE_TOKEN],
                         **kwargs)


class Country(Text):
    """An ISO 3166-1 alpha-2 code; "de" is read as "DE"."""

    def __init__(self, **kwargs):
        kwargs["validate"] = [validate.OneOf(
            COUNTRY_CODES, error="Not an ISO 3166-1 alpha-2 country code (such as DE or US).")]
        super().__init__(max_length=2, **kwargs)
        self.metadata.setdefault("description", "ISO 3166-1 alpha-2 country code, such as DE")

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).upper()


class PasswordRules:
    """Reports every broken password rule as an error of the password field."""

    password_field = "password"

    @validates_schema(skip_on_field_errors=False)
    def _password_rules(self, data, **kwargs):
        password = data.get(self.password_field)
        if password is None:
            return
        problems = validate_password(password, data.get("email") or "")
        if problems:
            raise ValidationError({self.password_field: problems})


# --- auth ----------------------------------------------------------------------------


class RegisterBody(PasswordRules, RequestSchema):
    email = Email(required=True)
    password = Password()
    name = Text(max_length=200, load_default="")


class LoginBody(RequestSchema):
    # not validated as an address: a wrong one is a failed login like any other
    email = Text(max_length=254, required=True, validate=NOT_EMPTY)
    password = Password()


class RefreshTokenBody(RequestSchema):
    refresh_token = Token()


class PasswordResetRequestBody(RequestSchema):
    email = Email(required=True)


class PasswordResetConfirmBody(RequestSchema):
    token = Token()
    password = Password()


class VerifyEmailBody(RequestSchema):
    token = Token()


class TokenPairSchema(Schema):
    access_token = fields.String(required=True, metadata={
        "description": "JWT to send as `Authorization: Bearer <token>`"})
    refresh_token = fields.String(required=True, metadata={
        "description": "opaque; POST it to /auth/refresh for a new pair (once)"})
    token_type = fields.String(required=True, metadata={"description": 'always "Bearer"'})
    expires_in = fields.Integer(required=True, metadata={
        "description": "seconds the access token is accepted"})
    refresh_expires_in = fields.Integer(metadata={
        "description": "seconds the refresh token may wait for its use"})


class MessageSchema(Schema):
    message = fields.String(required=True)


# --- the user ------------------------------------------------------------------------


class UserSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    is_active = fields.Boolean()
    email_verified = fields.Boolean()
    created_at = fields.DateTime()

    @post_dump(pass_original=True)
    def _keep_plugin_fields(self, data, original, **kwargs):
        # fields that plugins add through the serialize hook (kind "core.user")
        if isinstance(original, dict):
            for key, value in original.items():
                data.setdefault(key, value)
        return data


class UserPatchBody(RequestSchema):
    name = Text(max_length=200)


class ChangePasswordBody(PasswordRules, RequestSchema):
    password_field = "new_password"

    current_password = Password()
    new_password = Password()


# --- addresses -----------------------------------------------------------------------


class AddressPatchBody(RequestSchema):
    name = Text(max_length=200, validate=NOT_EMPTY)
    phone = Text(max_length=40, validate=validate.Regexp(
        r"^\+?[0-9 ()./-]*$", error="Only digits, spaces, + ( ) . / and - are allowed."))
    line1 = Text(max_length=200, validate=NOT_EMPTY)
    line2 = Text(max_length=200)
    city = Text(max_length=100, validate=NOT_EMPTY)
    state = Text(max_length=100)
    postal_code = Text(max_length=20)
    country = Country()
    is_default = fields.Boolean(metadata={
        "description": "the address checkout offers first; one per user"})


class AddressBody(AddressPatchBody):
    name = Text(max_length=200, required=True, validate=NOT_EMPTY)
    line1 = Text(max_length=200, required=True, validate=NOT_EMPTY)
    city = Text(max_length=100, required=True, validate=NOT_EMPTY)
    country = Country(required=True)


class AddressSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    phone = fields.String()
    line1 = fields.String(required=True)
    line2 = fields.String()
    city = fields.String(required=True)
    state = fields.String()
    postal_code = fields.String()
    country = fields.String(required=True)
    is_default = fields.Boolean(required=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class AddressPageSchema(PageSchema):
    items = fields.List(fields.Nested(AddressSchema), required=True)
