"""Login with a second factor, authenticator enrolment, step-up, and the security page.

One login serves the dashboard and the admin (the admin's login redirects here), so
axes and the OTP rule guard a single door. A wrong or missing code counts as a failed
login for axes, and the error never says which factor was wrong.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from apps.audit.services import record_event

from . import otp
from .actors import OTP_VERIFIED_AT_SESSION_KEY, step_up_fresh
from .forms import CodeForm, LoginForm
from .models import Membership

PENDING_USER_KEY = "spotdesk_pending_enrolment_user"
PENDING_AT_KEY = "spotdesk_pending_enrolment_at"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _next_url(request, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _with_next(name: str, next_url: str) -> str:
    url = reverse(name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _landing(user) -> str:
    return reverse("admin:index") if user.is_staff else reverse("accounts:security")


def _failed(request, username: str, reason: str) -> None:
    # Feeds axes (lockout counts wrong codes too) and the audit trail.
    user_login_failed.send(
        sender=__name__,
        credentials={"username": username, "spotdesk_reason": reason},
        request=request,
    )


@sensitive_post_parameters("password", "otp_token")
@csrf_protect
@never_cache
def login_view(request):
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if user is not None:
            if otp.user_requires_otp(user) and not otp.has_confirmed_device(user):
                request.session[PENDING_USER_KEY] = user.pk
                request.session[PENDING_AT_KEY] = time.time()
                return redirect(_with_next("accounts:enrol", _next_url(request, "")))
            device = None
            if otp.user_requires_otp(user) or otp.has_confirmed_device(user):
                device = otp.verify_code(user, form.cleaned_data["otp_token"])
                if device is None:
                    _failed(request, username, "second_factor")
                    user = None
            if user is not None:
                user.otp_device = device  # django-otp binds it to the session on login
                login(request, user, backend=MODEL_BACKEND)
                return redirect(_next_url(request, _landing(user)))
        form.add_error(None, _("Invalid username, password or code."))
    return render(request, "accounts/login.html", {"form": form, "next": _next_url(request, "")})


def _pending_user(request):
    """The user whose password was checked but who has no authenticator yet."""
    if request.user.is_authenticated:
        return request.user
    user_id = request.session.get(PENDING_USER_KEY)
    started = request.session.get(PENDING_AT_KEY, 0)
    if not user_id or time.time() - started > settings.SPOTDESK_ENROLMENT_SECONDS:
        return None
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


@sensitive_post_parameters("otp_token")
@csrf_protect
@never_cache
def enrol_view(request):
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:login")
    # Adding a second authenticator to an enrolled account is a sensitive change.
    enrolled = request.user.is_authenticated and otp.has_confirmed_device(user)
    if enrolled and (step_up := require_step_up_redirect(request)):
        return step_up
    device = otp.start_totp_enrolment(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if otp.confirm_totp_enrolment(user, device, form.cleaned_data["otp_token"]):
            device.refresh_from_db()
            if not request.user.is_authenticated:
                request.session.pop(PENDING_USER_KEY, None)
                request.session.pop(PENDING_AT_KEY, None)
                user.otp_device = device
                login(request, user, backend=MODEL_BACKEND)
            else:
                otp.mark_verified(request, device)
            codes = otp.issue_backup_codes(user)
            return render(
                request,
                "accounts/backup_codes.html",
                {"codes": codes, "next": _next_url(request, _landing(user))},
            )
        form.add_error("otp_token", _("This code is not valid. Check the time on your phone."))
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "provisioning_uri": device.config_url,
            "next": _next_url(request, ""),
        },
    )


@login_required
@sensitive_post_parameters("otp_token")
@csrf_protect
@never_cache
def step_up_view(request):
    """Re-enter a code: sensitive actions need one from the last few minutes."""
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = otp.verify_code(request.user, form.cleaned_data["otp_token"])
        if device is not None:
            otp.mark_verified(request, device)
            record_event(action="auth.step_up", actor=request.user)
            return redirect(_next_url(request, _landing(request.user)))
        record_event(action="auth.step_up_failed", actor=request.user)
        form.add_error("otp_token", _("This code is not valid."))
    return render(request, "accounts/step_up.html", {"form": form, "next": _next_url(request, "")})


@login_required
@never_cache
def security_view(request):
    user = request.user
    return render(
        request,
        "accounts/security.html",
        {
            "memberships": Membership.objects.for_user(user)
            .filter(user=user)
            .select_related("organization"),
            "has_device": otp.has_confirmed_device(user),
            "verified": otp.session_device(user, request.session) is not None,
            "step_up_fresh": step_up_fresh(request.session.get(OTP_VERIFIED_AT_SESSION_KEY)),
            "requires_otp": otp.user_requires_otp(user),
        },
    )


def require_step_up_redirect(request):
    """For views: a redirect to the step-up page when the window has passed, else None."""
    if step_up_fresh(request.session.get(OTP_VERIFIED_AT_SESSION_KEY)):
        return None
    messages.warning(request, _("Confirm with a code from your authenticator, then try again."))
    return redirect(_with_next("accounts:step_up", request.get_full_path()))
