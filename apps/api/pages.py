"""The API tokens settings page: list, create (shown once) and revoke personal tokens.

Server-rendered, through the same services as the API; creating needs a verified
session and a fresh code, like every sensitive change."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apps.accounts.actors import Actor, step_up_fresh
from apps.accounts.otp import otp_satisfied, session_device
from apps.accounts.views import require_step_up_redirect
from apps.core.errors import SpotdeskError

from . import tokens
from .models import ApiToken, Scope


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=80)
    scope = forms.ChoiceField(label=gettext_lazy("Scope"), choices=Scope.choices)
    days = forms.IntegerField(
        label=gettext_lazy("Valid for (days)"),
        min_value=1,
        max_value=tokens.MAX_DAYS,
        initial=tokens.DEFAULT_DAYS,
    )


def _verified(request) -> bool:
    return otp_satisfied(request.user, request.session)


@login_required
@never_cache
def tokens_page(request):
    if not _verified(request):
        return redirect("accounts:login")
    form = TokenForm(request.POST or None)
    created = None
    if request.method == "POST":
        if step_up := require_step_up_redirect(request):
            return step_up
        if form.is_valid():
            try:
                token, raw = tokens.create_token(
                    actor=Actor.from_request(request),
                    session_verified=session_device(request.user, request.session) is not None,
                    **form.cleaned_data,
                )
            except SpotdeskError as exc:
                form.add_error(getattr(exc, "field", None), exc.message)
            else:
                created = {"token": token, "raw": raw}
                form = TokenForm()
    return render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "created": created,
            "tokens": ApiToken.objects.owned_by(request.user),
            "step_up_fresh": step_up_fresh(Actor.from_request(request).otp_verified_at),
        },
    )


@login_required
@require_POST
def revoke_page(request, pk: int):
    if not _verified(request):
        return redirect("accounts:login")
    try:
        token = tokens.revoke_token(actor=Actor.from_request(request), token_id=pk)
    except SpotdeskError:
        messages.error(request, _("No such token."))
    else:
        messages.success(request, _("Token %(prefix)s revoked.") % {"prefix": token.prefix})
    return redirect("api:tokens-page")
