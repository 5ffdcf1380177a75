"""The language is chosen per user, not per browser: a switch is saved with the user's
preferences, and every session of that user follows it (seed item 94)."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpResponseBadRequest
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from apps.core.errors import ValidationError

from .preferences import SESSION_LANGUAGE, save_language, stored_language


@require_POST
def switch_language(request):
    """Django's set_language (cookie, redirect to `next`), remembered for the user."""
    if request.user.is_authenticated:
        try:
            save_language(request.user, request.POST.get("language", ""))
        except ValidationError as error:
            return HttpResponseBadRequest(f"{error.field}: {error.message}")
        request.session[SESSION_LANGUAGE] = request.POST["language"]
    return set_language(request)


@receiver(user_logged_in, dispatch_uid="dashboard.language.login")
def remember_language_on_login(sender, request, user, **kwargs):
    language = stored_language(user)
    if language and request is not None and hasattr(request, "session"):
        request.session[SESSION_LANGUAGE] = language


class UserLanguageMiddleware:
    """After authentication: a signed-in user's saved language wins over the browser's
    cookie and Accept-Language (read from the session: no query per request)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        language = session.get(SESSION_LANGUAGE) if session is not None else None
        if language and getattr(request, "user", None) and request.user.is_authenticated:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
