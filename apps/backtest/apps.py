from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BacktestConfig(AppConfig):
    name = "apps.backtest"
    label = "backtest"
    verbose_name = _("Backtest")
