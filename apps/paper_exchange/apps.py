from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaperExchangeConfig(AppConfig):
    name = "apps.paper_exchange"
    label = "paper_exchange"
    verbose_name = _("Paper exchange")
