"""The ops console: Django admin that admits only staff verified by a second factor.

Its login page is the platform's single login (axes + OTP), so the admin has no
separate password form to brute-force.
"""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite


class SpotdeskAdminSite(OTPAdminSite):
    site_header = _("Spotdesk")
    site_title = _("Spotdesk ops console")
    index_title = _("Ops console")

    def login(self, request, extra_context=None):
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        if request.method == "GET":
            # Show the platform's login form here; it posts to /accounts/login/, the
            # only view that checks passwords (axes + second factor).
            from .forms import LoginForm

            return render(request, "accounts/login.html", {"form": LoginForm(), "next": next_url})
        return redirect(f"{reverse('accounts:login')}?{urlencode({'next': next_url})}")
