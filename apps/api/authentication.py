"""Who is calling: a personal API token, or a session verified with a second factor."""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from apps.accounts.otp import otp_satisfied

from . import tokens

KEYWORDS = ("token", "bearer")


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token sdt_…` (or `Bearer sdt_…`)."""

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode(errors="replace") not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("The Authorization header must be 'Token <token>'.")
            )
        try:
            raw = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid API token.")) from None
        token = tokens.authenticate(raw, ip_address=request.META.get("REMOTE_ADDR"))
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked API token."))
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    """The dashboard's session, admitted only once the login's second factor is verified
    (the same rule as the admin and the WebSockets)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, _auth = result
        if not otp_satisfied(user, request._request.session):
            raise exceptions.AuthenticationFailed(
                _("This session is not verified with a second factor: log in again.")
            )
        return result
