"""Forms of the login, second-factor and step-up pages."""

from django import forms
from django.utils.translation import gettext_lazy as _


class CodeField(forms.CharField):
    def __init__(self, *, required: bool = True, **kwargs):
        super().__init__(
            label=_("Code"),
            required=required,
            max_length=16,
            strip=True,
            widget=forms.TextInput(
                attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 10}
            ),
            help_text=_("The 6-digit code from your authenticator app, or a backup code."),
            **kwargs,
        )


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(render_value=False)
    )
    otp_token = CodeField(required=False)


class CodeForm(forms.Form):
    otp_token = CodeField()
