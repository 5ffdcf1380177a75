from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "apps.exchange"
    label = "exchange"
    verbose_name = _("Exchange")

    def ready(self) -> None:
        from django.conf import settings

        if getattr(settings, "EXCHANGE_VERIFY_KEYS_ON_SAVE", False):
            install_key_verification()


def install_key_verification() -> None:
    """Make every key save or rotation in apps.accounts ask the exchange first."""
    from apps.accounts.credentials import set_credentials_verifier

    from .keys import verification_for_accounts

    set_credentials_verifier(verification_for_accounts)
